"""What the customer does on their side, filled in for this connection: policies to paste, commands to run.

The wizard shows these with copy buttons, and the API serves them, so IT never has to
assemble a trust policy by hand (the usual place for the ExternalId condition to go missing).
Each provider package writes its own steps (``<cloud>/instructions.py``).
"""

from __future__ import annotations

from connections.models import CloudConnection
from connections.providers.registry import known_provider
from connections.providers.wizard import (
    PLACEHOLDER_ACCOUNT,
    PLACEHOLDER_BUCKET,
    Instruction,
    SpaceportIdentity,
    identity_placeholder,
)

__all__ = [
    "PLACEHOLDER_ACCOUNT",
    "PLACEHOLDER_BUCKET",
    "Instruction",
    "SpaceportIdentity",
    "for_connection",
    "identity_placeholder",
    "spaceport_identity",
    "unset_operator_settings",
]


def for_connection(connection: CloudConnection) -> list[Instruction]:
    """Every step for this connection's method, with its bucket, prefix and ExternalId filled in."""
    descriptor = known_provider(connection.provider)
    return descriptor.instructions(connection) if descriptor is not None else []


def spaceport_identity(connection: CloudConnection) -> SpaceportIdentity | None:
    """Whom the customer's cloud trusts for this connection, where the method trusts Spaceport itself."""
    descriptor = known_provider(connection.provider)
    return descriptor.identity(connection) if descriptor is not None else None


def unset_operator_settings(connection: CloudConnection, steps: list[Instruction]) -> list[str]:
    """Settings the operator has not made, shown as placeholders in these steps.

    The customer cannot fill these in themselves, so the wizard says plainly that Spaceport's
    operator has to set them before the policy can be pasted as it is.
    """
    descriptor = known_provider(connection.provider)
    wanted = descriptor.operator_settings if descriptor is not None else {}
    return [setting for placeholder, setting in wanted.items() if any(placeholder in step.body for step in steps)]
