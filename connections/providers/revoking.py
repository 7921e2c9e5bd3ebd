"""What disabling a connection withdraws at once, and how long the rest stays valid, in shapes every provider uses.

Only an Azure SAS signed with the account key can be recalled by Spaceport (its stored access
policy is removed). Every other credential is a bearer token that the cloud honours until it
expires: the pages say so, with the longest time it may have left, and show the customer's own
step where the cloud offers one. Each provider package says which applies to its methods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from connections.models import CloudConnection


@dataclass(frozen=True)
class Step:
    """Something the customer can do in their cloud to withdraw what Spaceport cannot."""

    title: str
    command: str
    language: str = "shell"


@dataclass(frozen=True)
class Revocability:
    revoked_at_once: bool
    summary: str
    steps: list[Step] = field(default_factory=list)


def span(minutes: int) -> str:
    """``720`` as "12 hours", ``90`` as "90 minutes": how the pages say a lifetime."""
    if minutes >= 120 and minutes % 60 == 0:
        return f"{minutes // 60} hours"
    if minutes == 60:
        return "1 hour"
    return f"{minutes} minutes"


def longest_lifetimes() -> str:
    """The configured longest lifetimes, as "12 hours for reading, 4 hours for writing and 1 hour for deleting"."""
    limits = settings.SPACEPORT_CREDENTIAL_MAX_LIFETIME_MINUTES
    return (
        f"{span(limits['read'])} for reading, {span(limits['write'])} for writing "
        f"and {span(limits['delete'])} for deleting"
    )


Revocation = Callable[["CloudConnection"], Revocability]


def nothing_issued(connection: CloudConnection) -> Revocability:
    return Revocability(True, "Spaceport issues no credentials through this method: nothing to revoke.")
