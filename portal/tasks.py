"""Housekeeping tasks for the tenancy domain."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from portal import housekeeping
from portal.audit import journal
from portal.core import dispatch


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240)
def purge_expired_api_tokens() -> int:
    """Delete API tokens past their expiry; returns how many went."""
    return housekeeping.purge_expired_api_tokens()


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100, ignore_result=True)
def drain_audit_journal() -> int:
    """Copy journaled audit events (credential requests) into the audit trail."""
    return journal.drain()


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def send_owed_tasks(older_than: int | None = None) -> int:
    """Send the work requests made while the broker was away (``SPACEPORT_OWED_TASK_SECONDS`` ago or more)."""
    seconds = older_than if older_than is not None else settings.SPACEPORT_OWED_TASK_SECONDS
    return dispatch.send_overdue(timedelta(seconds=seconds))
