"""Access keys' end of life, as the workers sweep it: warned, expired, out of their rotation's grace, deleted.

A key's owner is told by e-mail ``SPACEPORT_ACCESS_KEY_EXPIRY_WARNING_DAYS`` before it expires,
once: the warning is claimed on the key (``expiry_warned_at``) in the transaction that sends it,
so a mail that fails is tried again by the next sweep and one that went out is never repeated. At
expiry the key is deactivated; ``SPACEPORT_ACCESS_KEY_DELETE_AFTER_DAYS`` later it is deleted. A
rotated key stops once its ``deactivate_after`` has passed. The same sweep expires the key requests
nobody decided in time (:func:`accessgrants.keyrequests.expire_undecided`). The changes themselves are
:mod:`accessgrants.accesskeys`' (which audits each one); this module picks the keys and says why.
Every function takes ``now``, so a test moves time by passing it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accessgrants.accesskeys import deactivate_key, delete_key
from accessgrants.keyrequests import expire_undecided
from accessgrants.models import AccessKey
from portal.audit.trail import record

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sweep:
    """How many keys each step of one sweep touched."""

    warned: int
    expired: int
    grace_ended: int
    deleted: int
    requests_expired: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def warn_expiring(now: datetime | None = None) -> int:
    """E-mail each owner whose active key expires within the warning window, once per key."""
    now = _now(now)
    horizon = now + timedelta(days=settings.SPACEPORT_ACCESS_KEY_EXPIRY_WARNING_DAYS)
    due = AccessKey.objects.filter(
        status=AccessKey.Status.ACTIVE,
        deactivate_after__isnull=True,
        expiry_warned_at__isnull=True,
        expires__gt=now,
        expires__lte=horizon,
    ).values_list("pk", flat=True)
    warned = 0
    for key_id in list(due):
        try:
            warned += _warn(key_id, now)
        except OSError:
            logger.warning("The expiry warning for access key %s could not be sent; the next sweep tries again", key_id)
    return warned


@transaction.atomic
def _warn(key_id: int, now: datetime) -> int:
    claimed = AccessKey.objects.filter(pk=key_id, expiry_warned_at__isnull=True).update(expiry_warned_at=now)
    if not claimed:
        return 0
    key = AccessKey.objects.select_related("organization", "user").get(pk=key_id)
    assert key.expires is not None
    days = max((key.expires - now).days, 0)
    link = f"{settings.SPACEPORT_SITE_URL}/keys/" if settings.SPACEPORT_SITE_URL else "/keys/"
    send_mail(
        f"[{settings.SPACEPORT_SITE_NAME}] Your S3 access key {key.access_key_id} expires in {days} day(s)",
        f"Your S3 access key {key.access_key_id} for {key.organization.name} expires at "
        f"{key.expires:%Y-%m-%d %H:%M} UTC and stops working then. Rotate it, or request a new one, before "
        f"then.\n\nYour S3 keys: {link}\n",
        None,
        [key.user.email],
    )
    record(
        "accesskey.expiry_warning",
        key,
        organization=key.organization,
        details={"user": key.user.email, "key_id": key.access_key_id, "expires": key.expires.isoformat()},
    )
    return 1


def deactivate_expired(now: datetime | None = None) -> int:
    """Deactivate every active key whose expiry has come."""
    now = _now(now)
    expired = AccessKey.objects.filter(status=AccessKey.Status.ACTIVE, expires__lte=now)
    ids = list(expired.values_list("pk", flat=True))
    for key_id in ids:
        with transaction.atomic():
            key = deactivate_key(key_id, reason="expired")
            assert key.expires is not None
            record(
                "accesskey.expire",
                key,
                organization=key.organization,
                details={"user": key.user.email, "key_id": key.access_key_id, "expires": key.expires.isoformat()},
            )
    return len(ids)


def end_rotation_grace(now: datetime | None = None) -> int:
    """Deactivate every rotated key whose grace beside its successor is over."""
    now = _now(now)
    ended = AccessKey.objects.filter(status=AccessKey.Status.ACTIVE, deactivate_after__lte=now)
    ids = list(ended.values_list("pk", flat=True))
    for key_id in ids:
        deactivate_key(key_id, reason="rotated: the grace period is over")
    return len(ids)


def delete_expired(now: datetime | None = None) -> int:
    """Delete every key that expired more than ``SPACEPORT_ACCESS_KEY_DELETE_AFTER_DAYS`` ago."""
    now = _now(now)
    days = settings.SPACEPORT_ACCESS_KEY_DELETE_AFTER_DAYS
    ids = list(AccessKey.objects.filter(expires__lte=now - timedelta(days=days)).values_list("pk", flat=True))
    for key_id in ids:
        delete_key(key_id, reason=f"expired more than {days} day(s) ago")
    return len(ids)


def sweep(now: datetime | None = None) -> Sweep:
    """Every step, in the order that lets one sweep take a key from expiring to deleted, then the
    requests nobody decided."""
    now = _now(now)
    return Sweep(
        warned=warn_expiring(now),
        expired=deactivate_expired(now),
        grace_ended=end_rotation_grace(now),
        deleted=delete_expired(now),
        requests_expired=expire_undecided(now),
    )
