"""Access keys in the background: the sweep that warns about, expires, ends the rotation grace of,
and deletes keys, and expires the key requests nobody decided (:mod:`accessgrants.keyexpiry`)."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from accessgrants import keyexpiry


# Every step picks its keys afresh and skips those already done, so a sweep run twice (acknowledged
# late, or retried after the database went away) changes nothing twice.
@shared_task(
    acks_late=True,
    autoretry_for=(DatabaseError,),
    max_retries=3,
    retry_backoff=30,
    retry_jitter=False,
    time_limit=600,
    soft_time_limit=540,
)
def sweep_access_keys() -> dict[str, int]:
    """Run by beat every ``SPACEPORT_ACCESS_KEY_SWEEP_SECONDS``."""
    return keyexpiry.sweep().as_dict()
