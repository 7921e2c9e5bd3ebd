"""Background work that outlives a database outage instead of being lost to it.

A worker cut off from PostgreSQL (a restart, a failover, a network partition) used to fail the task
it held and, its message acknowledged, drop it: a validation stayed "validating", a token purge
never ran. Two things keep the work now:

* the result store (:class:`ResultStore`) keeps trying a write it could not make, with backoff,
  where django-celery-results gave up at once on anything but a closed connection; the worker waits
  for the database rather than losing the task it holds;
* every task (:class:`Task`) that names no retry of its own retries a database outage with
  backoff, as a new message, so the broker holds it while the database is away.

Tasks that name their own ``autoretry_for`` (a commit's move, webhooks, a space's storage,
revocation) keep their own policy; their state lives in rows that beat resumes.
"""

from __future__ import annotations

from typing import Any

from celery import Task as CeleryTask
from django.db import InterfaceError, OperationalError, connection
from django_celery_results.backends.database import DatabaseBackend

DATABASE_OUTAGES: tuple[type[Exception], ...] = (OperationalError, InterfaceError)


class Task(CeleryTask):
    autoretry_for = DATABASE_OUTAGES
    retry_backoff = 5
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 12


class ResultStore(DatabaseBackend):
    def exception_safe_to_retry(self, exc: Exception) -> bool:
        """A lost or refused connection is retried on a new one; any other error is the caller's."""
        if isinstance(exc, DATABASE_OUTAGES):
            connection.close()
            return True
        return False

    def on_backend_retryable_error(self, exc: Any) -> None:
        connection.close()
