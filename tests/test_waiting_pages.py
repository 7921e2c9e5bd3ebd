"""Pages say when work waits for a worker: the commit card for a commit no worker took yet, or one
the worker that had it stopped moving forward (gone, or cut off from the database or the broker);
the connection's report for a validation no worker took yet."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from commits.models import Commit, CommitState
from connections import lifecycle
from connections.models import CloudConnection
from portal.tenancy.models import Organization, Space
from tests.fixtures.worker import Worker
from tests.outage import silent_server
from tests.pages_support import client_for
from tests.valid_connections import valid_connection


@pytest.fixture
def connection(organization: Organization) -> CloudConnection:
    return valid_connection(organization)


def card(member: Any, space: Space) -> str:
    response = client_for(member).get(reverse("space_commits", args=[space.organization.name, space.name]))
    assert response.status_code == 200
    return response.content.decode()


def make(space: Space, root_dir: str, **fields: Any) -> Commit:
    return Commit.objects.create(organization=space.organization, space=space, root_dir=root_dir, **fields)


def test_a_queued_commit_waits_for_a_worker(member: Any, space: Space, connection: CloudConnection) -> None:
    make(space, "batch-1")
    page = card(member, space)
    assert "Waiting for a worker to take it." in page
    assert 'hx-trigger="every 2s"' in page, "the card keeps polling until a worker takes it"


def test_a_commit_no_worker_moves_forward_says_so_and_a_moving_one_does_not(
    member: Any, space: Space, connection: CloudConnection, settings: Any
) -> None:
    settings.SPACEPORT_COMMIT_STALL_SECONDS = 120
    now = timezone.now()
    make(
        space,
        "stuck",
        state=CommitState.RUNNING,
        started=now - timedelta(minutes=10),
        heartbeat=now - timedelta(minutes=5),
    )
    make(space, "moving", state=CommitState.RUNNING, started=now - timedelta(minutes=10), heartbeat=now)
    make(
        space, "done", state=CommitState.SUCCEEDED, started=now - timedelta(hours=2), finished=now - timedelta(hours=1)
    )
    page = card(member, space)
    assert page.count("data-waiting") == 1
    assert "none has moved it forward for a while" in page
    stuck_row = page[page.index("stuck/") :].split("</tr>", 1)[0]
    assert "data-waiting" in stuck_row


# --- a connection's validation ---


def report(owner: Any, connection: CloudConnection) -> str:
    url = reverse("connection_report", args=[connection.organization.name, connection.name])
    response = client_for(owner).get(url)
    assert response.status_code == 200
    return response.content.decode()


def unreachable_values(port: int) -> dict[str, Any]:
    return {
        "endpoint": f"http://127.0.0.1:{port}",
        "bucket": "acme-data",
        "access_key_id": "SPACEPORTKEY",
        "secret_access_key": "not-used-here",
    }


def test_a_queued_validation_waits_for_a_worker(owner: Any, organization: Organization) -> None:
    with silent_server() as port:
        connection = lifecycle.create_connection(
            organization, name="store", method="s3_static_keys", values=unreachable_values(port)
        )
    page = report(owner, connection)
    assert "Waiting for a worker" in page
    assert "no worker has taken it yet" in page
    assert "Validating…" not in page


@pytest.mark.worker
def test_a_validation_a_worker_took_says_validating(worker: Worker, owner: Any, organization: Organization) -> None:
    """The worker holds the validation against a store that never answers: it is running, not waiting."""
    worker.wait_until_ready()
    with silent_server() as port:
        connection = lifecycle.create_connection(
            organization, name="store", method="s3_static_keys", values=unreachable_values(port)
        )
        worker.wait_for(lambda: "Validating…" in report(owner, connection), what="the worker to take the validation")
        page = report(owner, connection)
        assert "Waiting for a worker" not in page
        assert 'data-status="validating"' in page
