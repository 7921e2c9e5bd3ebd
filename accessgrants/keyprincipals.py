"""Who an S3 access key speaks for, read without SQL on a warm path.

The S3 gateway asks about an access key on every request. What a decision needs of the key (its
owner, its organization, its status, expiry and rotation grace) is kept as a snapshot of
:mod:`portal.core.snapshots` under the access snapshot version, which starts anew whenever a key is
issued, deactivated, reactivated, rotated, deleted or expired (``AccessKey`` is among the models
:func:`accessgrants.apps.watch_access_changes` watches). An unknown key id is remembered at the
version too, so a stream of requests with a made-up key costs no query after the first. Neither the
key's secret nor the owner's password hash is read into the snapshot.

Readers that only read a principal (decisions, the secret lookup, the gateway) take the one this
process decoded at the version (:func:`shared_key_principal`) instead of unpickling their own copy
on every request; :func:`key_principal` still hands each caller a copy of its own, for callers that
pass the owner on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from accessgrants.models import AccessKey
from portal.core import snapshots
from portal.core.cache import ProcessMemory
from portal.tenancy.models import Organization


@dataclass(frozen=True)
class KeyPrincipal:
    """An access key as decisions see it; ``owner`` is the user as of the snapshot."""

    access_key_id: str
    owner: Any
    organization_id: int
    organization: str
    active: bool
    expires: datetime | None
    deactivate_after: datetime | None

    @cached_property
    def organization_instance(self) -> Organization:
        """The key's organization as decisions take it (its primary key and name, unsaved and never
        read from the database), made once per principal rather than once per question."""
        return Organization(pk=self.organization_id, name=self.organization)

    def refusal(self, when: datetime) -> str | None:
        """Why the key may do nothing at ``when``, or ``None`` while it is usable.

        Expiry and the end of a rotation's grace count at once, before the scheduled sweep
        deactivates the key.
        """
        if not self.active:
            return "the key is inactive"
        if self.expires is not None and self.expires <= when:
            return "the key expired"
        if self.deactivate_after is not None and self.deactivate_after <= when:
            return "the key was rotated and its grace period is over"
        if not self.owner.is_active:
            return "the key's owner is inactive"
        return None


# By (access snapshot version, key id); holds no secret (the snapshot leaves the key's secret and the
# owner's password hash unread).
_shared: ProcessMemory[tuple[str, str], tuple[KeyPrincipal | None]] = ProcessMemory(
    "access key principals", entries=4096
)


def _load(access_key_id: str) -> KeyPrincipal | None:
    keys = AccessKey.objects.select_related("user", "organization").defer("secret", "user__password")
    key = keys.filter(access_key_id=access_key_id).first()
    if key is None:
        return None
    return KeyPrincipal(
        access_key_id=key.access_key_id,
        owner=key.user,
        organization_id=key.organization_id,
        organization=key.organization.name,
        active=key.status == AccessKey.Status.ACTIVE,
        expires=key.expires,
        deactivate_after=key.deactivate_after,
    )


def key_principal(access_key_id: str) -> KeyPrincipal | None:
    """The key of this id at the current access snapshot version, ``None`` when there is none."""
    found: tuple[KeyPrincipal | None] = snapshots.cached("access-key", access_key_id, lambda: (_load(access_key_id),))
    return found[0]


def shared_key_principal(access_key_id: str) -> KeyPrincipal | None:
    """:func:`key_principal`, decoded once per version and shared by every caller in this process.

    The caller must neither change the principal's owner nor hand it on: it is the same object for
    every request with the key until the version changes.
    """
    at = (snapshots.version(), access_key_id)
    found = _shared.get(at)
    if found is None:
        found = (key_principal(access_key_id),)
        _shared.put(at, found)
    return found[0]
