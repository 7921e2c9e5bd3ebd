"""What disabling a connection withdraws at once, and how long the rest stays valid.

Each provider package says it for its methods (``<cloud>/revocation.py``); the shapes and the
wording of lifetimes are in :mod:`connections.providers.revoking`.
"""

from __future__ import annotations

from connections.models import CloudConnection
from connections.providers.registry import known_provider
from connections.providers.revoking import Revocability, Step, nothing_issued, span

__all__ = ["Revocability", "Step", "revocability", "span"]


def revocability(connection: CloudConnection) -> Revocability:
    """What disabling ``connection`` withdraws, said plainly for the disable page and the credentials card."""
    descriptor = known_provider(connection.provider)
    return descriptor.revocability(connection) if descriptor is not None else nothing_issued(connection)
