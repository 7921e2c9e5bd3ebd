"""What rotating a connection's long-term key asks of a provider, in shapes every provider may use.

A provider whose methods hold a long-term key that the key's own owner can replace (an AWS IAM
user creating its next access key) offers a :class:`KeyRotation` on its descriptor. Spaceport's
side of the rotation (validate the new key, store it, then withdraw the old one, and undo on
failure) is provider-neutral and lives in :mod:`connections.rotation`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connections.models import CloudConnection

# The connection setting a customer turns on to have Spaceport rotate the key (a non-secret field).
ROTATE_KEY = "rotate_key"


class RotationFailed(Exception):
    """One step of a rotation failed; ``message`` and ``hint`` say which and what the customer can do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class IssuedKey:
    """A key just created next to the connection's current one.

    ``config`` and ``secret`` are the connection's settings and secret with the new key in place;
    ``key_id`` names it (never secret) for the report and the audit trail.
    """

    key_id: str
    config: dict[str, Any]
    secret: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class KeyRotation:
    """How a provider replaces a connection's key.

    ``issue`` creates a new key signed with the connection's current one; ``withdraw`` deletes the
    key named, signed with the key the connection it is given holds; ``key_id`` names the current key.
    """

    methods: frozenset[str]
    key_id: Callable[[CloudConnection], str]
    issue: Callable[[CloudConnection], IssuedKey]
    withdraw: Callable[[CloudConnection, str], None]
