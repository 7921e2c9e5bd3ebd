"""Housekeeping tasks for the tenancy domain."""

from __future__ import annotations

from celery import shared_task

from portal import housekeeping
from portal.audit import journal


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240)
def purge_expired_api_tokens() -> int:
    """Delete API tokens past their expiry; returns how many went."""
    return housekeeping.purge_expired_api_tokens()


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100, ignore_result=True)
def drain_audit_journal() -> int:
    """Copy journaled audit events (credential requests) into the audit trail."""
    return journal.drain()
