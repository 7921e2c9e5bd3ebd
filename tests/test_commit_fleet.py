"""One commit moved by several workers at once, and one of them killed in the middle.

Real Celery worker processes on Redis take the slices of one commit from the same queue and move
them on ``rclone serve s3``. Every object must end in the space exactly once with its bytes, none
may stay in the loadingzone, and the commit must finish once: one ``commit.finish`` event, one
webhook delivery, received once. On Redis a killed worker's slice comes back through beat's resume
(or the visibility timeout, an hour); on RabbitMQ the broker hands the unacknowledged slice to
another worker as soon as the killed one's connection drops.
"""

from __future__ import annotations

import re
import signal
import time
from typing import Any

import pytest
from django_celery_results.models import TaskResult

from commits import webhooks
from commits.models import Commit, CommitItem, CommitState, ItemState, WebhookDelivery
from commits.starting import start_commit
from commits.tasks import resume_stalled_commits
from portal.audit.models import AuditEvent
from portal.tenancy.models import LOADINGZONE, Space
from tests.fixtures.worker import Worker
from tests.test_commit_crash import contents, moved, upload
from tests.test_commits import Receiver, Store, access_for_user, fresh_clients  # noqa: F401
from tests.test_commits import receiver as receiver
from tests.test_commits import store as store

# Slices of 100 objects, each moved four at a time in batches of 20: a commit of a few thousand
# objects lasts long enough for two workers to share it and for one to be killed in the middle.
SHARED = {
    "SPACEPORT_COMMIT_SLICE_SIZE": "100",
    "SPACEPORT_COMMIT_CONCURRENCY": "4",
    "SPACEPORT_COMMIT_BATCH_SIZE": "20",
}
# The killing tests are about slice tasks, so the run that plans leaves every slice to them: a
# planner moving slices itself would finish the victim's share before its second slice task came
# (a planner killed while it moves is tests/test_commit_crash.py's case).
SLICE_TASKS_ONLY = {**SHARED, "SPACEPORT_COMMIT_PLANNER_MOVES": "false"}


def finished(commit: Commit) -> bool:
    commit.refresh_from_db()
    return commit.state not in (CommitState.QUEUED, CommitState.RUNNING)


def assert_moved_once(commit: Commit, store: Store, uploaded: dict[str, str], receiver: Receiver) -> None:
    """Everything in the space once with its bytes, nothing left behind, one end, one webhook."""
    assert commit.state == CommitState.SUCCEEDED, commit.error
    assert contents(store, "raw") == uploaded, "every object once, with its bytes, and nothing else"
    assert contents(store, LOADINGZONE) == {}
    assert commit.total == len(uploaded) == CommitItem.objects.filter(commit=commit).count()
    assert commit.moved + commit.skipped == len(uploaded)
    assert commit.failed == commit.conflicts == 0
    assert set(CommitItem.objects.filter(commit=commit).values_list("state", flat=True)) <= {
        ItemState.DONE,
        ItemState.SKIPPED,
    }
    assert AuditEvent.objects.filter(action="commit.finish", target_id=str(commit.pk)).count() == 1
    assert WebhookDelivery.objects.filter(commit=commit).count() == 1
    deadline = time.monotonic() + 30
    while not receiver.received and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # a second delivery, were there one, would arrive now
    assert len(receiver.received) == 1 and receiver.received[0]["valid"]
    assert receiver.received[0]["body"]["id"] == commit.pk
    assert receiver.received[0]["body"]["state"] == CommitState.SUCCEEDED


def slices_by_worker(commit: Commit) -> dict[str, int]:
    """How many slices each worker moved to the end, from Celery's own task results (the test's
    database holds this commit's alone)."""
    counts: dict[str, int] = {}
    moved_by = TaskResult.objects.filter(task_name="commits.tasks.move_slice", status="SUCCESS")
    for worker in moved_by.values_list("worker", flat=True):
        name = (worker or "").split("@", 1)[0].rsplit("-", 1)[0]
        counts[name] = counts.get(name, 0) + 1
    return counts


def slice_tasks(worker: Worker, event: str) -> list[str]:
    """The ids of the slice tasks the worker's log says it ``received`` or ``succeeded`` in, in order."""
    log = worker.log.read_text(errors="replace")
    return re.findall(rf"Task commits\.tasks\.move_slice\[([^\]]+)\] {event}", log)


def in_second_slice(worker: Worker) -> bool:
    """Whether the worker moved a slice to the end and has taken its next (its log says so; with a
    prefetch of one, a slice it received is a slice it is moving)."""
    return len(slice_tasks(worker, "received")) > len(slice_tasks(worker, "succeeded")) >= 1


def kill_mid_slice(victim: Worker, survivor: Worker, commit: Commit, objects: int) -> int:
    """SIGKILL the victim in the middle of its second slice; how many objects were moved by then."""
    survivor.wait_for(lambda: in_second_slice(victim), what="the worker to be in the middle of a slice")
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(timeout=10)
    at_kill = moved(commit)
    assert at_kill < objects, "killed in the middle, not after the end"
    return at_kill


@pytest.mark.worker
def test_two_workers_share_one_commit(
    worker_factory: Any, member: Any, space: Space, store: Store, receiver: Receiver
) -> None:
    webhooks.configure(space.organization, url=receiver.url, secret=receiver.secret)
    uploaded = upload(store, 1500)
    workers = [worker_factory(SHARED), worker_factory(SHARED)]
    commit = start_commit(access_for_user(member), space, root_dir="run-7", user=member)

    workers[0].wait_for(lambda: finished(commit), timeout=120, what="the commit to finish")

    assert_moved_once(commit, store, uploaded, receiver)
    assert commit.runs == 1
    shares = slices_by_worker(commit)
    assert set(shares) == {"worker-0", "worker-1"}, (
        f"both workers moved slices: {shares}",
        list(TaskResult.objects.values_list("task_name", "status", "worker", "task_args")[:5]),
    )
    assert sum(shares.values()) >= 15, "a slice of 100 objects per task"


@pytest.mark.worker
def test_a_worker_killed_mid_slice_loses_nothing_while_the_other_goes_on(
    worker_factory: Any, member: Any, space: Space, store: Store, receiver: Receiver
) -> None:
    webhooks.configure(space.organization, url=receiver.url, secret=receiver.secret)
    uploaded = upload(store, 2100)
    victim, survivor = worker_factory(SLICE_TASKS_ONLY), worker_factory(SLICE_TASKS_ONLY)
    commit = start_commit(access_for_user(member), space, root_dir="run-7", user=member)

    at_kill = kill_mid_slice(victim, survivor, commit, len(uploaded))

    survivor.wait_for(lambda: moved(commit) >= at_kill + 500, timeout=90, what="the other worker to go on")
    resume_stalled_commits.delay(stalled_after=0)  # what beat does once the commit stalls
    survivor.wait_for(lambda: finished(commit), timeout=120, what="the resumed commit to finish")

    assert_moved_once(commit, store, uploaded, receiver)
    assert commit.runs >= 2, "the resume task planned again what the killed worker held"
    assert "worker-1" in slices_by_worker(commit)


@pytest.mark.worker
@pytest.mark.parametrize("broker", ["rabbitmq"], indirect=True)
def test_on_rabbitmq_a_killed_workers_slice_goes_to_another_at_once(
    broker: str, worker_factory: Any, member: Any, space: Space, store: Store, receiver: Receiver
) -> None:
    """No resume: the broker redelivers the unacknowledged slice, the same task, to the survivor."""
    webhooks.configure(space.organization, url=receiver.url, secret=receiver.secret)
    # They start while the objects upload.
    victim, survivor = worker_factory(SLICE_TASKS_ONLY), worker_factory(SLICE_TASKS_ONLY)
    uploaded = upload(store, 1500)
    # Both consume before the commit starts: on a quiet machine one worker alone moved every slice
    # of a smaller commit while the other was still starting, and there was nothing left to kill.
    victim.wait_until_ready()
    survivor.wait_until_ready()
    commit = start_commit(access_for_user(member), space, root_dir="run-7", user=member)

    kill_mid_slice(victim, survivor, commit, len(uploaded))
    held = slice_tasks(victim, "received")[-1]
    survivor.wait_for(lambda: finished(commit), timeout=60, what="the survivor to finish the commit")

    assert held in slice_tasks(survivor, "succeeded"), "the killed worker's own slice, redelivered"
    assert_moved_once(commit, store, uploaded, receiver)
    assert commit.runs == 1, "planned once: nothing was resumed"
