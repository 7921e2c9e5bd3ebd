"""Who an S3 access key speaks for, read without SQL on a warm path.

The S3 gateway asks about an access key on every request. What a decision needs of the key (its
owner, its organization, its status, expiry and rotation grace) is kept as a snapshot of
:mod:`portal.core.snapshots` under the access snapshot version, which starts anew whenever a key is
issued, deactivated, reactivated, rotated, deleted or expired (``AccessKey`` is among the models
:func:`accessgrants.apps.watch_access_changes` watches). An unknown key id is remembered at the
version too, so a stream of requests with a made-up key costs no query after the first. Neither the
key's secret nor the owner's password hash is read into the snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accessgrants.models import AccessKey
from portal.core import snapshots


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
