"""Work asked for while the broker is away is kept with its row and done, once, after the broker is back.

The test process sends its tasks to a broker address nothing listens on (a broker that is down) or
to a server that accepts connections and never answers (a hung broker); the worker reads the real
Redis. A commit and a validation started then answer at once, the pages say they wait for a worker,
and beat's sweep sends them when the broker is reachable again. A second copy of each (the broker
took the first after all) finds the work done.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from django_celery_results.models import TaskResult

from commits import engine
from commits import tasks as commit_tasks
from commits.models import CommitState
from commits.slices import Slice
from commits.starting import start_commit
from commits.tasks import run_commit
from connections import lifecycle
from connections import tasks as connection_tasks
from connections.models import CloudConnection, Status
from connections.tasks import validate_connection
from portal.audit.models import AuditEvent
from portal.core import dispatch
from portal.core.models import OwedTask
from portal.tasks import send_owed_tasks
from portal.tenancy.models import LOADINGZONE, Organization, Space
from tests.emulators import free_port
from tests.fixtures.worker import forget_broker_connections
from tests.outage import silent_server
from tests.test_commit_crash import contents, upload
from tests.test_commits import Store, access_for_user, fresh_clients  # noqa: F401
from tests.test_commits import store as store
from tests.test_waiting_pages import card, report
from tests.valid_connections import valid_connection

DISPATCH_LOGGER = "portal.core.dispatch"


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """This process sends its tasks to ``url`` until the block ends (the worker keeps its broker)."""
    with override_settings(CELERY_BROKER_URL=url):
        forget_broker_connections()
        try:
            yield
        finally:
            forget_broker_connections()
    forget_broker_connections()


def owed() -> dict[str, list[Any]]:
    return {row.task: row.args for row in OwedTask.objects.all()}


def ran(result_id: str) -> bool:
    return TaskResult.objects.filter(task_id=result_id, status="SUCCESS").exists()


@pytest.mark.worker
def test_a_commit_and_a_validation_asked_for_while_the_broker_is_down_are_done_once_it_is_back(
    worker_factory: Any, member: Any, owner: Any, space: Space, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    uploaded = upload(store, 30)
    worker = worker_factory()
    validations_before = AuditEvent.objects.filter(action="connection.validate").count()

    with broker_at(f"redis://127.0.0.1:{free_port()}/0"), caplog.at_level(logging.WARNING, DISPATCH_LOGGER):
        started = time.monotonic()
        commit = start_commit(access_for_user(member), space, root_dir="run-7", user=member)
        connection = lifecycle.start_validation(store.connection)
        assert time.monotonic() - started < 5, "a request does not wait long for a broker that is down"

    assert owed() == {"commits.tasks.run_commit": [commit.pk], "connections.tasks.validate_connection": [connection.pk]}
    assert OwedTask.objects.get(task="commits.tasks.run_commit").attempts == 1
    failures = [r for r in caplog.records if r.name == DISPATCH_LOGGER]
    assert len(failures) == 2, "one line for each task the broker could not take"
    assert all(r.exc_info is None for r in failures), "a warning, not a traceback"
    assert "Waiting for a worker to take it." in card(member, space)
    assert "no worker has taken it yet" in report(owner, connection)

    worker.wait_until_ready()
    time.sleep(1)
    commit.refresh_from_db()
    assert commit.state == CommitState.QUEUED, "the worker never heard of it: the broker never had it"

    request = OwedTask.objects.get(task="connections.tasks.validate_connection").kwargs
    sweep = send_owed_tasks.delay(older_than=0)  # what beat does every 30 s
    worker.wait_for(lambda: ran(sweep.id), what="the sweep")
    assert TaskResult.objects.get(task_id=sweep.id).result == "2"

    def done() -> bool:
        commit.refresh_from_db()
        connection.refresh_from_db()
        return commit.state == CommitState.SUCCEEDED and connection.status == Status.VALID

    worker.wait_for(done, what="the commit and the validation the sweep sent")
    assert owed() == {}

    # The broker had taken them after all: the second copies find their work done.
    again = [run_commit.delay(commit.pk), validate_connection.delay(connection.pk, **request)]
    worker.wait_for(lambda: all(ran(r.id) for r in again), what="the second copies")
    assert [r.result for r in again] == ["gone", "already validated"]
    commit.refresh_from_db()
    assert commit.runs == 1
    assert AuditEvent.objects.filter(action="commit.finish", target_id=str(commit.pk)).count() == 1
    assert AuditEvent.objects.filter(action="connection.validate").count() == validations_before + 1
    assert contents(store, "raw") == uploaded
    assert contents(store, LOADINGZONE) == {}


def test_a_hung_broker_keeps_the_request_waiting_seconds_not_forever(
    organization: Organization, django_capture_on_commit_callbacks: Any
) -> None:
    """A broker that accepts connections and never answers: the validation is owed, the request ends."""
    connection = valid_connection(organization)
    with silent_server() as port, broker_at(f"redis://127.0.0.1:{port}/0"):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.start_validation(connection)
        waited = time.monotonic() - started
    assert waited < 15, f"waited {waited:.1f} s"
    assert CloudConnection.objects.get(pk=connection.pk).status == Status.VALIDATING
    row = OwedTask.objects.get()
    assert (row.task, row.args, row.attempts) == ("connections.tasks.validate_connection", [connection.pk], 1)
    assert "Timeout" in row.error


def test_the_sweep_stops_at_a_broker_still_away_and_leaves_new_requests_alone(
    db: None, caplog: pytest.LogCaptureFixture
) -> None:
    """One warning per sweep, not one per owed task; work asked for a moment ago is its request's to send."""
    fresh = OwedTask.objects.create(task="portal.tasks.purge_expired_api_tokens")
    due = [OwedTask.objects.create(task="portal.tasks.purge_expired_api_tokens") for _ in range(3)]
    OwedTask.objects.filter(pk__in=[row.pk for row in due]).update(created=timezone.now() - timedelta(minutes=5))
    with broker_at(f"redis://127.0.0.1:{free_port()}/0"), caplog.at_level(logging.WARNING, DISPATCH_LOGGER):
        assert dispatch.send_overdue(timedelta(seconds=60)) == 0
    assert len([r for r in caplog.records if r.name == DISPATCH_LOGGER]) == 1
    attempts = dict(OwedTask.objects.values_list("pk", "attempts"))
    assert attempts == {fresh.pk: 0, due[0].pk: 1, due[1].pk: 0, due[2].pk: 0}


def test_what_a_running_task_sends_on_is_owed_when_the_broker_is_away(
    organization: Organization, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slice handed to the fleet, a stalled commit resumed, a connection revalidated: each is kept
    for the sweep, not lost with the task that asked for it."""
    connection = valid_connection(organization)
    monkeypatch.setattr(engine, "stalled", lambda older_than: [41])
    with broker_at(f"redis://127.0.0.1:{free_port()}/0"), django_capture_on_commit_callbacks(execute=True):
        commit_tasks.hand_off([Slice(41, 0, 500, True), Slice(41, 500, 1000, True)])
        assert commit_tasks.resume_stalled_commits.run() == 1
        assert connection_tasks.revalidate_connections.run() == 1
    rows = sorted((row.task, row.args, row.attempts) for row in OwedTask.objects.all())
    assert rows == [
        ("commits.tasks.move_slice", [41, 0, 500, True], 1),
        ("commits.tasks.move_slice", [41, 500, 1000, True], 1),
        ("commits.tasks.run_commit", [41], 1),
        ("connections.tasks.validate_connection", [connection.pk], 1),
    ]
