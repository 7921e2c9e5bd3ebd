"""S3 access keys: made, limited, capped, deactivated, rotated and deleted here and nowhere else.

A user holds at most ``SPACEPORT_MAX_ACCESS_KEYS_PER_USER`` active keys (the reference's two); a
key lives no longer than the platform's ``SPACEPORT_ACCESS_KEY_MAX_DAYS`` or its organization's
shorter cap. The secret is returned once, by :func:`issue_key` and :func:`rotate_key`, as an
:class:`IssuedKey`; afterwards only the encrypted column holds it. Every change is audited
(``accesskey.issue``, ``.deactivate``, ``.reactivate``, ``.rotate``, ``.delete``), never with the
secret. The functions that a scheduled task calls take a primary key.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accessgrants.models import ACCESS_KEY_PREFIX, AccessKey, KeyPolicy
from portal.audit.trail import record
from portal.core.errors import DomainError, NotFound
from portal.tenancy.models import Organization

ID_ALPHABET = string.ascii_uppercase + string.digits
SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
SECRET_LENGTH = 40

NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


@dataclass(frozen=True)
class IssuedKey:
    """A key just made, with its secret: the only moment the secret leaves the database."""

    key: AccessKey
    secret_key: str

    @property
    def access_key(self) -> str:
        return self.key.access_key_id

    def __repr__(self) -> str:
        return f"<IssuedKey {self.key.access_key_id}: secret masked>"


def new_access_key_id() -> str:
    return ACCESS_KEY_PREFIX + "".join(secrets.choice(ID_ALPHABET) for _ in range(20 - len(ACCESS_KEY_PREFIX)))


def new_secret() -> str:
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def key_policy(organization: Organization) -> KeyPolicy:
    """The organization's key policy; one it never set requires an admin's approval."""
    policy = KeyPolicy.objects.filter(organization=organization).first()
    return policy if policy is not None else KeyPolicy(organization=organization)


def max_days(organization: Organization) -> int | None:
    """The longest a key of this organization may live, in days; ``None`` when nothing caps it."""
    caps = [days for days in (settings.SPACEPORT_ACCESS_KEY_MAX_DAYS, key_policy(organization).max_days) if days]
    return min(caps) if caps else None


def expiry_for(
    organization: Organization, lifetime_days: int | None, *, now: datetime | None = None
) -> datetime | None:
    """When a key asked to live ``lifetime_days`` expires: the cap when none was asked, refused past it."""
    now = now or timezone.now()
    cap = max_days(organization)
    if lifetime_days is not None and lifetime_days < 1:
        raise DomainError("lifetime_days", "A key lives at least one day.")
    if lifetime_days is not None and cap is not None and lifetime_days > cap:
        raise DomainError(
            "lifetime_days", f"Keys of {organization.name} live at most {cap} days; {lifetime_days} is past the cap."
        )
    days = lifetime_days if lifetime_days is not None else cap
    return now + timedelta(days=days) if days is not None else None


def limit_message(limit: int) -> str:
    """The reference's words, with the configured number."""
    return f"A user cannot have more than {NUMBER_WORDS.get(limit, str(limit))} access keys"


def counted_keys(user: Any) -> int:
    """Active keys that count towards the limit: a rotated key on its way out does not, nor one that
    expired and waits for the workers to deactivate it."""
    live = Q(expires__isnull=True) | Q(expires__gt=timezone.now())
    return (
        AccessKey.objects.filter(live, user=user, status=AccessKey.Status.ACTIVE, deactivate_after__isnull=True)
    ).count()


def check_limit(user: Any) -> None:
    limit = settings.SPACEPORT_MAX_ACCESS_KEYS_PER_USER
    if counted_keys(user) >= limit:
        raise DomainError("non_field_errors", limit_message(limit), "limit")


def _lock_user(user: Any) -> None:
    """Serialize key changes of one user, so two requests at once cannot both pass the limit."""
    type(user)._default_manager.select_for_update().filter(pk=user.pk).first()


def _make(user: Any, organization: Organization, description: str, expires: datetime | None, **extra: Any) -> IssuedKey:
    secret = new_secret()
    key = AccessKey.objects.create(
        access_key_id=new_access_key_id(),
        secret={"secret_access_key": secret},
        user=user,
        organization=organization,
        description=description,
        expires=expires,
        **extra,
    )
    return IssuedKey(key=key, secret_key=secret)


def _audit(action: str, key: AccessKey, **details: Any) -> None:
    record(
        f"accesskey.{action}",
        key,
        organization=key.organization,
        details={"user": key.user.email, "key_id": key.access_key_id, **details},
    )


@transaction.atomic
def issue_key(
    user: Any, organization: Organization, *, description: str = "", lifetime_days: int | None = None
) -> IssuedKey:
    """A new active key for ``user`` in ``organization``, within the limit and the lifetime cap.

    Whether the user may have one at all (membership, the organization's approval rule) is the
    caller's to check: :mod:`accessgrants.keyrequests` and the endpoints do.
    """
    expires = expiry_for(organization, lifetime_days)
    _lock_user(user)
    check_limit(user)
    issued = _make(user, organization, description, expires)
    _audit("issue", issued.key, expires=expires.isoformat() if expires else None)
    return issued


def key_of(user: Any, access_key_id: str) -> AccessKey:
    """The user's own key of this id; another user's key answers as one that does not exist."""
    keys = AccessKey.objects.select_related("organization", "user")
    key = keys.filter(user=user, access_key_id=access_key_id).first()
    if key is None:
        raise NotFound(f"You have no access key {access_key_id}.")
    return key


@transaction.atomic
def deactivate_key(key_id: int, *, reason: str = "by its owner") -> AccessKey:
    key = AccessKey.objects.select_for_update().select_related("organization", "user").get(pk=key_id)
    if key.status == AccessKey.Status.INACTIVE:
        return key
    key.status = AccessKey.Status.INACTIVE
    key.deactivate_after = None
    key.save(update_fields=["status", "deactivate_after"])
    _audit("deactivate", key, reason=reason)
    return key


@transaction.atomic
def reactivate_key(key_id: int) -> AccessKey:
    key = AccessKey.objects.select_related("organization", "user").get(pk=key_id)
    if key.status == AccessKey.Status.ACTIVE:
        return key
    if key.expires is not None and key.expires <= timezone.now():
        raise DomainError("status", f"The key {key.access_key_id} expired; request a new one.", "expired")
    _lock_user(key.user)
    check_limit(key.user)
    key.status = AccessKey.Status.ACTIVE
    key.save(update_fields=["status"])
    _audit("reactivate", key)
    return key


@transaction.atomic
def delete_key(key_id: int, *, reason: str = "by its owner") -> None:
    key = AccessKey.objects.select_related("organization", "user").get(pk=key_id)
    _audit("delete", key, reason=reason)
    key.delete()


@transaction.atomic
def rotate_key(key_id: int, *, now: datetime | None = None) -> IssuedKey:
    """A successor now, and the old key kept working for the grace period.

    Allowed at the limit: the old key stops counting the moment it is scheduled to go. A key that
    is already on its way out is not rotated again, so rotating cannot pile up keys.
    """
    now = now or timezone.now()
    key = AccessKey.objects.select_for_update().select_related("organization", "user").get(pk=key_id)
    if key.status != AccessKey.Status.ACTIVE:
        raise DomainError("status", f"The key {key.access_key_id} is inactive; only an active key is rotated.")
    if key.deactivate_after is not None:
        raise DomainError(
            "status",
            f"The key {key.access_key_id} was rotated already and stops at {key.deactivate_after:%Y-%m-%d %H:%M} UTC.",
        )
    _lock_user(key.user)
    key.deactivate_after = now + timedelta(hours=settings.SPACEPORT_ACCESS_KEY_ROTATION_GRACE_HOURS)
    key.save(update_fields=["deactivate_after"])
    check_limit(key.user)
    lifetime = max((key.expires - key.created).days, 1) if key.expires is not None else None
    cap = max_days(key.organization)
    if lifetime is not None and cap is not None:
        lifetime = min(lifetime, cap)
    expires = expiry_for(key.organization, lifetime, now=now)
    issued = _make(key.user, key.organization, key.description, expires, rotated_from=key)
    _audit("rotate", key, successor=issued.key.access_key_id, deactivate_after=key.deactivate_after.isoformat())
    _audit("issue", issued.key, rotated_from=key.access_key_id, expires=expires.isoformat() if expires else None)
    return issued


@transaction.atomic
def set_key_policy(organization: Organization, *, approval_required: bool, max_days: int | None = None) -> KeyPolicy:
    """An organization's choice: keys at once or on approval, and a cap no longer than the platform's."""
    platform = settings.SPACEPORT_ACCESS_KEY_MAX_DAYS
    if max_days is not None and max_days < 1:
        raise DomainError("max_days", "A key lives at least one day.")
    if max_days is not None and platform and max_days > platform:
        raise DomainError("max_days", f"The platform caps keys at {platform} days; choose that or fewer.")
    policy, _ = KeyPolicy.objects.select_for_update().get_or_create(organization=organization)
    before = {"approval_required": policy.approval_required, "max_days": policy.max_days}
    policy.approval_required = approval_required
    policy.max_days = max_days
    policy.save()
    record(
        "keypolicy.update",
        policy,
        organization=organization,
        details={"from": before, "to": {"approval_required": approval_required, "max_days": max_days}},
    )
    return policy


def record_use(last_used: Mapping[str, datetime], counts: Mapping[str, int] | None = None) -> int:
    """When keys were last used and how many requests each served since the last call, as the
    gateway collected them: one UPDATE for all the keys, counts added and last-used times only moved
    forward, so several gateway processes flushing at once never lose a count or move a time back.
    It sends no model signals, so the access snapshots do not start over on every flush. Answers
    how many keys were found."""
    names = sorted(set(last_used) | set(counts or {}))
    if not names:
        return 0
    changes: dict[str, Any] = {}
    if last_used:
        when = Case(*(When(access_key_id=name, then=Value(at)) for name, at in last_used.items()), default=None)
        changes["last_used"] = Coalesce(Greatest(F("last_used"), when), when, F("last_used"))
    if counts:
        added = Case(*(When(access_key_id=name, then=Value(n)) for name, n in counts.items()), default=Value(0))
        changes["request_count"] = F("request_count") + added
    return AccessKey.objects.filter(access_key_id__in=names).update(**changes)
