"""Connections in the background: validation (on create and change, on demand, every day), each new
space's storage, revoking what was issued when a connection is disabled or a space deleted, and
rotating the long-term keys of connections that opted in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Task, shared_task
from django.db import connection as db

from connections import probe, rotation, spaces
from connections.active import with_active_connection
from connections.models import CloudConnection, Status
from connections.providers.base import StorageError
from connections.retrying import MAX_RETRIES, delay_after
from portal.audit.trail import record
from portal.core.crypto import DecryptionError
from portal.core.dispatch import owe
from portal.tenancy.models import Space

# Advisory lock classes: the commit engine uses 0x5C0, beat 0x5C1.
VALIDATION_LOCK_CLASS = 0x5C2


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, time_limit=180, soft_time_limit=150)
def validate_connection(self: Task, connection_id: int, request: str = "") -> str:
    """Validate one connection; a storage that may just be unreachable for now is retried with backoff.

    Every way this can fail ends in a status and a message (``probe.validate`` turns unexplained
    errors into one), so a connection is never left in ``validating`` with nothing to show. A request
    sent twice (``request`` names it) validates once: validations of one connection run one at a
    time, and a copy that finds the last report answering its request does nothing.
    """
    with validation_lock(connection_id):
        return _validate(self, connection_id, request)


def _validate(self: Task, connection_id: int, request: str) -> str:
    try:
        connection = CloudConnection.objects.select_related("organization").filter(pk=connection_id).first()
    except DecryptionError:
        CloudConnection.objects.filter(pk=connection_id).exclude(status=Status.DISABLED).update(
            status=Status.INVALID,
            status_message="The stored secret cannot be decrypted with the configured encryption keys: the "
            "operator must restore the key that encrypted it, or enter the secret again.",
        )
        return str(Status.INVALID)
    if connection is None or connection.status == Status.DISABLED:
        return "skipped"
    retries = self.request.retries
    if not retries and probe.reported_for(connection, request):
        return "already validated"
    status, retrying = probe.validate(connection, final=retries >= MAX_RETRIES, retries_so_far=retries, request=request)
    if retrying:
        # Not Celery's backoff: this schedule is a domain rule, the report shows the person when the
        # next try comes and when Spaceport gives up (``connections.retrying``).
        raise self.retry(countdown=delay_after(retries))
    return str(status)


@contextmanager
def validation_lock(connection_id: int) -> Iterator[None]:
    """Hold the connection's validation lock on PostgreSQL (released by it should the worker die);
    SQLite runs one worker, which needs none."""
    if db.vendor != "postgresql":
        yield
        return
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [VALIDATION_LOCK_CLASS, connection_id])
    try:
        yield
    finally:
        with db.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [VALIDATION_LOCK_CLASS, connection_id])


@shared_task(acks_late=True, time_limit=120)
def revalidate_connections() -> int:
    """Daily: validate every connection in use (not a draft, not disabled), so a revoked role or rotated
    key shows up before users hit it."""
    in_use = CloudConnection.objects.exclude(status__in=[Status.DRAFT, Status.DISABLED])
    ids = list(in_use.values_list("pk", flat=True))
    for connection_id in ids:
        owe(validate_connection, connection_id)
    record("connection.revalidate_all", details={"count": len(ids)})
    return len(ids)


class RevocationIncomplete(Exception):
    """Some of what was issued could not be withdrawn this time; the task tries again."""


# A space's storage work retries through Celery's backoff: 10 s doubling, at most 5 minutes, without
# jitter, so the retry count keeps bounding how long an unreachable store is waited out (Celery's
# jitter draws each wait from zero up, which would shorten that window by half on average).
STORAGE_RETRY: dict[str, Any] = {
    "max_retries": MAX_RETRIES,
    "retry_backoff": 10,
    "retry_backoff_max": 300,
    "retry_jitter": False,
}


@shared_task(
    bind=True, acks_late=True, autoretry_for=(StorageError,), time_limit=120, soft_time_limit=100, **STORAGE_RETRY
)
def prepare_space_storage(self: Task, space_id: int) -> str:
    """Create a new space's storage (its Azure container); an unreachable storage is retried with backoff."""
    space = with_active_connection(Space.objects.filter(pk=space_id)).first()
    if space is None:
        return "skipped"
    try:
        spaces.prepare(space)
    except StorageError as exc:
        if self.request.retries >= MAX_RETRIES:
            return f"failed: {exc.code}"
        raise
    return "done"


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(StorageError, RevocationIncomplete),
    time_limit=600,
    soft_time_limit=540,
    **STORAGE_RETRY,
)
def revoke_connection_credentials(self: Task, connection_id: int, reason: str = "connection_disabled") -> str:
    """After disabling (or deleting the organization): withdraw what was issued through the connection;
    retried while the storage is unreachable."""
    connection = CloudConnection.objects.select_related("organization").filter(pk=connection_id).first()
    if connection is None:
        return "skipped"
    try:
        outcome = spaces.revoke_connection(connection, reason)
    except StorageError as exc:
        if not exc.transient or self.request.retries >= MAX_RETRIES:
            return f"failed: {exc.code}"
        raise
    if outcome.failures and self.request.retries < MAX_RETRIES:
        raise RevocationIncomplete(f"{len(outcome.failures)} not withdrawn yet")
    return f"revoked {outcome.revoked} in {outcome.spaces} space(s)"


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(StorageError, RevocationIncomplete),
    time_limit=120,
    soft_time_limit=100,
    **STORAGE_RETRY,
)
def revoke_space_credentials(self: Task, space_id: int) -> str:
    """After a space is marked for deletion: withdraw what was issued for it."""
    space = with_active_connection(Space.objects.filter(pk=space_id)).first()
    if space is None:
        return "skipped"
    try:
        outcome = spaces.revoke_space(space)
    except StorageError as exc:
        if not exc.transient or self.request.retries >= MAX_RETRIES:
            return f"failed: {exc.code}"
        raise
    if outcome is not None and outcome.failures and self.request.retries < MAX_RETRIES:
        raise RevocationIncomplete(f"{len(outcome.failures)} not withdrawn yet")
    return "done" if outcome is not None else "skipped"


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def rotate_connection_keys() -> int:
    """Daily: rotate the key of every opted-in connection whose key is older than
    ``SPACEPORT_CONNECTION_KEY_ROTATION_DAYS``; one task per connection, so one slow cloud delays no other."""
    ids = rotation.due_ids()
    # Sent, not owed: the sweep may send an owed task twice, and a rotation must not run twice
    # blindly; one the broker missed is due again at the next daily run.
    for connection_id in ids:
        rotate_connection_key.delay(connection_id)
    return len(ids)


# Not retried by Celery and not acknowledged late: a rotation that stopped half-way (a worker lost
# after the new key was made) must not run again blindly, and one that failed keeps its old key, is
# shown on the connection, and is tried again by the next daily run, which finds it still due.
@shared_task(acks_late=False, max_retries=0, time_limit=300, soft_time_limit=270)
def rotate_connection_key(connection_id: int) -> str:
    """Rotate one connection's key (create, validate, store, delete the old one)."""
    connection = CloudConnection.objects.select_related("organization").filter(pk=connection_id).first()
    if connection is None:
        return "skipped"
    return rotation.rotate(connection).outcome
