"""What every provider's vendor implements, and the credential they all hand back.

A vendor turns a :class:`Scope` (one connection, one location, one access level, one
lifetime, one person) into a :class:`Credential` that can do exactly that and nothing more.
The contract lives with the providers, so their packages need nothing from ``accessgrants``,
which decides who may ask and caches what they get.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from django.db import models

from connections.providers.base import Location
from portal.core.errors import DomainError

if TYPE_CHECKING:
    from connections.models import CloudConnection


class NotVendable(DomainError):
    """The organization's storage cannot give this kind of credential (no connection, disabled, ...)."""

    status = 409


class Access(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Read and write"
    DELETE = "delete", "Read, write and delete"


class Target(models.TextChoices):
    SPACE = "space", "The space itself"
    LOADINGZONE = "loadingzone", "The organization's loadingzone"


@dataclass(frozen=True)
class Scope:
    """Everything that goes into one credential; the cache keys on all of it."""

    connection: CloudConnection
    location: Location
    access: str
    lifetime: timedelta
    user_id: int
    user_label: str
    object_keys: tuple[str, ...] = ()


@dataclass
class Credential:
    """A vended credential. ``secret`` holds the material; everything else is safe to log."""

    provider: str
    kind: str
    access: str
    expires_at: datetime
    location: dict[str, str]
    secret: dict[str, Any] = field(repr=False)
    snippets: dict[str, str] = field(default_factory=dict, repr=False)

    def remaining(self, now: datetime) -> timedelta:
        return self.expires_at - now

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "expires_at": self.expires_at.isoformat()})

    @classmethod
    def from_json(cls, text: str) -> Credential:
        data = json.loads(text)
        data["expires_at"] = datetime.fromisoformat(data["expires_at"])
        return cls(**data)


class Vendor(Protocol):
    """A provider's way of vending credentials.

    ``per_user`` says whether the credential carries the person's identity (AWS source
    identity), in which case it is cached per person rather than shared by all who ask for
    the same scope.
    """

    per_user: bool

    def vend(self, scope: Scope) -> Credential: ...


def space_prefix(location: Location) -> str:
    """The prefix with its closing slash, so the space ``raw`` never covers ``raw-archive/``.

    A location without a prefix is a whole bucket, which a per-space credential never opens.
    """
    if not location.prefix:
        raise ValueError("A session policy needs the space's prefix; a whole bucket is never vended.")
    return location.prefix if location.prefix.endswith("/") else f"{location.prefix}/"
