"""Connection validation in the background: on create and change, on demand, and every day."""

from __future__ import annotations

from celery import Task, shared_task

from connections import onboarding, validation
from connections.models import CloudConnection, Status

MAX_RETRIES = 4


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, time_limit=180, soft_time_limit=150)
def validate_connection(self: Task, connection_id: int) -> str:
    """Validate one connection; a storage that may just be unreachable for now is retried with backoff."""
    connection = CloudConnection.objects.select_related("organization").filter(pk=connection_id).first()
    if connection is None or connection.status == Status.DISABLED:
        return "skipped"
    final = self.request.retries >= MAX_RETRIES
    status, retrying = validation.validate(connection, final=final)
    if retrying:
        raise self.retry(countdown=min(300, 10 * 2**self.request.retries))
    return str(status)


@shared_task(acks_late=True, time_limit=120)
def revalidate_connections() -> int:
    """Daily: validate every connection in use, so a revoked role or rotated key shows up before users hit it."""
    return onboarding.revalidate_all()
