"""Commits in the background: planning, the slices any worker moves, resuming, and webhooks.

``run_commit`` lists a commit's root directory and hands each page's slices to the fleet as
``move_slice`` tasks, so any number of workers move one commit at once. Both are
safe to run again at any point (see ``commits.engine``), so they are acknowledged late and
rejected when their worker is lost: the broker gives a killed worker's slice to another. Whichever
slice ends last settles the commit; that is decided from the items' recorded states, not from a
chord's counter, because a slice the resume task queues again after a crash is not a member of
any chord, and a commit must finish all the same. A task stops after ``TASK_SECONDS`` and
continues in a new one, so no time limit is ever hit in the middle of a large commit.

Every task a task sends on (a slice, the next part of a long run, a resumed commit) is recorded
as owed first (:mod:`portal.core.dispatch`): should the broker be away at that moment, the sweep
sends it once the broker is back, instead of the commit waiting for beat to find it stalled.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from celery import Task, shared_task
from django.conf import settings

from commits import engine, webhooks
from commits.models import Commit, WebhookDelivery
from commits.slices import Slice
from portal.core.dispatch import owe

TASK_SECONDS = 20 * 60
MOVE_RETRIES = 6


# Planning a commit and moving a slice retry and time out alike.
# Retries wait 10 s doubling, at most 10 minutes, through Celery's backoff. Without jitter: the
# retry count is what bounds how long a commit waits out an unreachable store before it fails, and
# Celery's jitter draws each wait from zero up, which would halve that window on average.
MOVING_TASK: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (engine.TransientCommitError,),
    "max_retries": MOVE_RETRIES,
    "retry_backoff": 10,
    "retry_backoff_max": 600,
    "retry_jitter": False,
    "soft_time_limit": TASK_SECONDS + 5 * 60,
    "time_limit": TASK_SECONDS + 10 * 60,
}


@shared_task(**MOVING_TASK)
def run_commit(self: Task, commit_id: int) -> str:
    """Plan a commit and hand its slices to the workers; unreachable storage is retried, then the commit fails."""
    try:
        outcome = engine.run(commit_id, deadline=time.monotonic() + TASK_SECONDS, hand_off=hand_off)
    except engine.TransientCommitError as exc:
        if self.request.retries >= MOVE_RETRIES:
            engine.give_up(commit_id, f"The storage stayed unreachable: {exc}")
            return "failed"
        raise
    if outcome == "more":
        owe(run_commit, commit_id)
    return outcome


def hand_off(pieces: list[Slice]) -> None:
    """Queue one task per slice; any worker on the queue takes them."""
    for piece in pieces:
        owe(move_slice, piece.commit_id, piece.after, piece.upto, piece.space_was_empty)


@shared_task(**MOVING_TASK)
def move_slice(self: Task, commit_id: int, after: int, upto: int, space_was_empty: bool) -> str:
    """Move one slice of a commit (items ``after < pk <= upto``); the last slice to end settles the commit."""
    piece = Slice(commit_id, after, upto, space_was_empty)
    try:
        outcome = engine.move_slice(piece, deadline=time.monotonic() + TASK_SECONDS)
    except engine.TransientCommitError as exc:
        if self.request.retries >= MOVE_RETRIES:
            engine.give_up(commit_id, f"The storage stayed unreachable: {exc}")
            return "failed"
        raise
    if outcome == "more":
        owe(move_slice, commit_id, after, upto, space_was_empty)
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
        owe(run_commit, commit_id)
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
    try:
        delivered = webhooks.deliver(delivery, final=self.request.retries >= settings.SPACEPORT_WEBHOOK_MAX_RETRIES)
    except webhooks.AttemptTaken:
        return "skipped"
    return "delivered" if delivered else "failed"
