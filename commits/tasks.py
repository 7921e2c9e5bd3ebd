"""Commits in the background: the move itself, resuming what a dead worker left, and webhooks.

The move is safe to run again at any point (see ``commits.engine``), so it is acknowledged late
and rejected when its worker is lost; a slice ends after ``SLICE_SECONDS`` and continues in a new
task, so no time limit is ever hit in the middle of a large commit.
"""

from __future__ import annotations

import time
from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings

from commits import engine, webhooks
from commits.models import Commit, WebhookDelivery

SLICE_SECONDS = 20 * 60
MOVE_RETRIES = 6


# Retries wait 10 s doubling, at most 10 minutes, through Celery's backoff. Without jitter: the
# retry count is what bounds how long a commit waits out an unreachable store before it fails, and
# Celery's jitter draws each wait from zero up, which would halve that window on average.
@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(engine.TransientCommitError,),
    max_retries=MOVE_RETRIES,
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=False,
    soft_time_limit=SLICE_SECONDS + 5 * 60,
    time_limit=SLICE_SECONDS + 10 * 60,
)
def run_commit(self: Task, commit_id: int) -> str:
    """Run one slice of a commit; unreachable storage is retried with backoff, then the commit fails."""
    try:
        outcome = engine.run(commit_id, deadline=time.monotonic() + SLICE_SECONDS)
    except engine.TransientCommitError as exc:
        if self.request.retries >= MOVE_RETRIES:
            engine.give_up(commit_id, f"The storage stayed unreachable: {exc}")
            return "failed"
        raise
    if outcome == "more":
        run_commit.delay(commit_id)
    return outcome


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50)
def resume_stalled_commits(stalled_after: int | None = None) -> int:
    """Every minute: queue again the commits no worker has moved forward for a while."""
    seconds = stalled_after if stalled_after is not None else settings.SPACEPORT_COMMIT_STALL_SECONDS
    resumed = 0
    for commit_id in engine.stalled(timedelta(seconds=seconds)):
        runs = Commit.objects.filter(pk=commit_id).values_list("runs", flat=True).first() or 0
        if runs >= engine.MAX_RUNS:
            engine.give_up(commit_id, f"Gave up after {runs} attempts to run it.")
            continue
        run_commit.delay(commit_id)
        resumed += 1
    return resumed


# Retries wait 5 s doubling, at most an hour, through Celery's backoff, without jitter for the same
# reason as a commit's. The limit is a setting read at run time, so it is not Celery's max_retries:
# the last try (``final``) settles the delivery as failed instead of raising.
@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(webhooks.DeliveryFailed,),
    max_retries=None,
    retry_backoff=5,
    retry_backoff_max=3600,
    retry_jitter=False,
    time_limit=60,
    soft_time_limit=45,
)
def deliver_webhook(self: Task, delivery_id: int) -> str:
    """POST one event; network failures, 5xx, 408 and 429 are retried with exponential backoff."""
    delivery = WebhookDelivery.objects.filter(pk=delivery_id, state=WebhookDelivery.State.PENDING).first()
    if delivery is None:
        return "skipped"
    delivered = webhooks.deliver(delivery, final=self.request.retries >= settings.SPACEPORT_WEBHOOK_MAX_RETRIES)
    return "delivered" if delivered else "failed"
