"""Background work that reaches the queue even when the broker was away at the moment it was asked for.

A request that starts work (a commit, a validation, a webhook delivery, a space's storage) records
its row and the task it owes (:class:`~portal.core.models.OwedTask`) in one transaction, and sends
the task once the transaction commits. When the broker cannot take it then (down, restarting, cut
off), the request still succeeds, the page keeps saying the work waits for a worker, one warning
line is logged, and the sweep (:func:`send_overdue`, from beat on the housekeeping queue) sends it
once the broker is back. A task the broker took is forgotten at once, so one waiting behind others
in a long queue is never sent twice by the sweep. One the broker took while the answer was lost
(the connection dropped after the publish) is sent again: every task sent this way tolerates a
second copy, each taking a conditional claim on its row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import Task, current_app
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from portal.core.models import OwedTask

logger = logging.getLogger(__name__)

# One reconnection, so a pooled connection the broker dropped (a restart) is replaced, and no more:
# a request must not wait through Celery's default four tries on a broker that is gone.
BROKER_RETRY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0, "interval_max": 0.2}
SWEEP_BATCH = 500


@dataclass(frozen=True)
class Sending:
    """The callback that sends an owed task once its transaction commits (tests read which task it sends)."""

    task: Task
    owed: OwedTask

    def __call__(self) -> None:
        send(self.task, self.owed)


def owe(task: Task, *args: Any, **kwargs: Any) -> None:
    """Record that ``task(*args, **kwargs)`` is owed, in the current transaction; send it once that commits."""
    owed = OwedTask.objects.create(task=task.name, args=list(args), kwargs=kwargs)
    transaction.on_commit(Sending(task, owed))


def send(task: Task, owed: OwedTask) -> bool:
    """Hand the task to the broker and forget it; when the broker cannot take it, note why and keep it."""
    try:
        task.apply_async(tuple(owed.args), owed.kwargs, retry_policy=BROKER_RETRY)
    except Exception as exc:  # whatever the broker's client raised: the work is kept, the request goes on
        reason = f"{type(exc).__name__}: {exc}"[:500]
        logger.warning("%s for %s waits for the broker (%s); the sweep sends it again", owed.task, owed.args, reason)
        _keep(owed, reason)
        return False
    _forget(owed)
    return True


def send_overdue(older_than: timedelta) -> int:
    """Send the owed tasks older than ``older_than``; stop at the first the broker refuses (it is still away).

    Rows are locked and skipped by a second sweep running at once (two beats, a manual run), so each
    row is sent by one sweep; how many were sent is returned.
    """
    cutoff = timezone.now() - older_than
    sent = 0
    with transaction.atomic():
        due = OwedTask.objects.select_for_update(skip_locked=True).filter(created__lt=cutoff).order_by("pk")
        for owed in due[:SWEEP_BATCH]:
            task = current_app.tasks.get(owed.task)
            if task is None:
                logger.error("%s for %s is not a known task; it is dropped", owed.task, owed.args)
                owed.delete()
                continue
            if not send(task, owed):
                break
            sent += 1
    return sent


def _keep(owed: OwedTask, reason: str) -> None:
    try:
        OwedTask.objects.filter(pk=owed.pk).update(attempts=F("attempts") + 1, error=reason)
    except DatabaseError as exc:
        logger.warning("could not note why %s was not sent: %s", owed.task, exc)


def _forget(owed: OwedTask) -> None:
    """The broker has it; should the database be away now, the sweep sends it again, which the task tolerates."""
    try:
        OwedTask.objects.filter(pk=owed.pk).delete()
    except DatabaseError as exc:
        logger.warning("%s was sent but is still recorded as owed: %s", owed.task, exc)
