"""``/metrics``: guarded by a token or networks, and counting requests, vends, commits and Celery work
from the real database and brokers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from django.test import Client
from django.utils import timezone
from django_celery_results.models import TaskResult
from prometheus_client.parser import text_string_to_metric_families

from commits.models import Commit, CommitState
from connections.models import CloudConnection
from portal.tasks import purge_expired_api_tokens
from portal.tenancy.models import Organization, Space
from spaceport.queues import queue_name
from tests.emulators import answers_http, free_port
from tests.fixtures.worker import BROKER_URLS, BROKERS, ROOT, worker_database_url
from tests.valid_connections import valid_connection

TOKEN = "metrics-scrape-token-0123456789"


def scrape(client: Client | None = None, **headers: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an authorized scrape, by name and labels."""
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def token(settings: Any) -> str:
    settings.SPACEPORT_METRICS_TOKEN = TOKEN
    settings.SPACEPORT_METRICS_NETWORKS = []
    return TOKEN


# --- the guard ---


def test_metrics_do_not_exist_until_the_operator_says_who_may_read_them(db: None, settings: Any) -> None:
    settings.SPACEPORT_METRICS_TOKEN = ""
    settings.SPACEPORT_METRICS_NETWORKS = []
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


def test_the_token_is_required_and_compared_whole(db: None, token: str) -> None:
    client = Client()
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}x").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {token}").status_code == 403
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert not hasattr(response.wsgi_request, "session"), "scrapes take the short, sessionless stack"
    assert token not in response.content.decode()


def test_networks_alone_or_with_the_token(db: None, settings: Any) -> None:
    import ipaddress

    settings.SPACEPORT_METRICS_TOKEN = ""
    settings.SPACEPORT_METRICS_NETWORKS = [ipaddress.ip_network("10.20.0.0/16")]
    assert Client(REMOTE_ADDR="10.20.3.4").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="10.21.3.4").get("/metrics").status_code == 403
    settings.SPACEPORT_METRICS_TOKEN = TOKEN
    assert Client(REMOTE_ADDR="10.20.3.4").get("/metrics").status_code == 403, "both are required when both are set"
    assert Client(REMOTE_ADDR="10.20.3.4").get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert Client(REMOTE_ADDR="10.21.3.4").get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 403


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_metrics_answer_reads_only(db: None, token: str, method: str) -> None:
    assert getattr(Client(), method)("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 405


# --- web requests ---


def test_requests_are_counted_by_view_and_status_with_their_latency(db: None, token: str) -> None:
    before = scrape()
    client = Client()
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/no-such-page/at-all").status_code == 404
    after = scrape()

    requests = "spaceport_http_requests_total"
    assert (
        value(after, requests, view="healthz", method="GET", status="200")
        - value(before, requests, view="healthz", method="GET", status="200")
        == 3
    )
    assert (
        value(after, requests, view="unmatched", method="GET", status="404")
        - value(before, requests, view="unmatched", method="GET", status="404")
        == 1
    )
    latency = "spaceport_http_request_duration_seconds_count"
    assert (
        value(after, latency, view="healthz", method="GET") - value(before, latency, view="healthz", method="GET") == 3
    )
    assert value(after, "spaceport_http_request_duration_seconds_bucket", view="healthz", method="GET", le="+Inf") >= 3
    assert not any("acme" in str(labels) for _, labels in after), "no tenant in a label"


# --- vending ---


@pytest.fixture
def connection(organization: Organization) -> CloudConnection:
    return valid_connection(organization)


def test_vends_are_counted_as_issued_cached_or_refused_by_provider(
    api: Any, member: Any, space: Space, connection: CloudConnection, token: str
) -> None:
    url = "/api/v1/organizations/acme/spaces/raw/credentials/"
    before = scrape()
    assert api(member).post(url, {"access": "read"}, format="json").status_code == 201
    assert api(member).post(url, {"access": "read"}, format="json").status_code == 201
    assert api(member).post(url, {"access": "delete"}, format="json").status_code == 403
    after = scrape()

    def vends(provider: str, outcome: str) -> float:
        name = "spaceport_vends_total"
        return value(after, name, provider=provider, outcome=outcome) - value(
            before, name, provider=provider, outcome=outcome
        )

    assert vends("s3compat", "issued") == 1
    assert vends("s3compat", "cached") == 1
    assert vends("none", "refused") == 1


# --- commits ---


def test_commit_figures_come_from_the_commits_table(db: None, space: Space, token: str) -> None:
    now = timezone.now()
    common = {"organization": space.organization, "space": space}
    Commit.objects.create(
        **common,
        root_dir="a",
        state=CommitState.SUCCEEDED,
        moved=10,
        bytes_moved=1000,
        started=now - timedelta(seconds=3),
        finished=now,
    )
    Commit.objects.create(
        **common,
        root_dir="b",
        state=CommitState.PARTIALLY_FAILED,
        moved=5,
        failed=2,
        bytes_moved=500,
        started=now - timedelta(seconds=120),
        finished=now,
    )
    Commit.objects.create(**common, root_dir="c", state=CommitState.QUEUED)
    samples = scrape()

    assert value(samples, "spaceport_commit_objects_moved_total") == 15
    assert value(samples, "spaceport_commit_bytes_moved_total") == 1500
    assert value(samples, "spaceport_commit_objects_failed_total") == 2
    assert value(samples, "spaceport_commits", state="queued") == 1
    assert value(samples, "spaceport_commits", state="succeeded") == 1
    assert value(samples, "spaceport_commits", state="failed") == 0
    assert value(samples, "spaceport_commit_duration_seconds_count") == 2
    assert value(samples, "spaceport_commit_duration_seconds_sum") == pytest.approx(123, abs=0.01)
    assert value(samples, "spaceport_commit_duration_seconds_bucket", le="5.0") == 1
    assert value(samples, "spaceport_commit_duration_seconds_bucket", le="60.0") == 1
    assert value(samples, "spaceport_commit_duration_seconds_bucket", le="300.0") == 2


# --- Celery ---


def test_tasks_by_name_and_state_and_their_runtime(db: None, token: str) -> None:
    now = timezone.now()
    for number, (status, seconds) in enumerate([("SUCCESS", 2), ("SUCCESS", 4), ("FAILURE", 1)]):
        stored = TaskResult.objects.create(
            task_id=f"task-{number}", task_name="connections.tasks.validate_connection", status=status
        )
        # ``date_done`` is written on every save: the times are set past it.
        TaskResult.objects.filter(pk=stored.pk).update(date_started=now - timedelta(seconds=seconds), date_done=now)
    TaskResult.objects.create(task_id="task-started", task_name="commits.tasks.run_commit", status="STARTED")
    samples = scrape()

    tasks = "spaceport_celery_tasks"
    assert value(samples, tasks, task="connections.tasks.validate_connection", state="SUCCESS") == 2
    assert value(samples, tasks, task="connections.tasks.validate_connection", state="FAILURE") == 1
    assert value(samples, tasks, task="commits.tasks.run_commit", state="STARTED") == 1
    runtime = "spaceport_celery_task_runtime_seconds"
    assert value(samples, f"{runtime}_count", task="connections.tasks.validate_connection") == 3
    assert value(samples, f"{runtime}_sum", task="connections.tasks.validate_connection") == pytest.approx(7, abs=0.01)


@pytest.mark.parametrize("broker", BROKERS, indirect=True)
def test_the_length_of_each_queue_is_the_brokers_own_count(
    transactional_db: None, broker: str, settings: Any, token: str
) -> None:
    """No worker consumes this run's queues here: the tasks sent stay waiting (beside any that earlier
    tests of the run left there, hence the difference)."""
    assert BROKER_URLS[broker] == settings.CELERY_BROKER_URL
    housekeeping = queue_name(settings.CELERY_TASK_DEFAULT_QUEUE, "housekeeping")
    validation = queue_name(settings.CELERY_TASK_DEFAULT_QUEUE, "validation")
    before = scrape()
    for _ in range(3):
        purge_expired_api_tokens.delay()
    after = scrape()

    def waiting(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], queue: str) -> float:
        return value(samples, "spaceport_celery_queue_length", queue=queue)

    assert value(after, "spaceport_celery_broker_up") == 1
    assert ("spaceport_celery_queue_length", (("queue", housekeeping),)) in after
    assert waiting(after, housekeeping) - waiting(before, housekeeping) == 3
    assert waiting(after, validation) == waiting(before, validation)


def test_the_embedded_broker_reports_its_queues(db: None, settings: Any, token: str, tmp_path: Path) -> None:
    folders = {name: tmp_path / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir()
    settings.CELERY_BROKER_URL = "filesystem://localhost//"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "processed_folder": str(folders["processed"]),
        "control_folder": str(folders["control"]),
    }
    samples = scrape()
    assert value(samples, "spaceport_celery_broker_up") == 1
    housekeeping = queue_name(settings.CELERY_TASK_DEFAULT_QUEUE, "housekeeping")
    assert ("spaceport_celery_queue_length", (("queue", housekeeping),)) in samples


def test_a_broker_gone_away_is_reported_not_raised(db: None, settings: Any, token: str) -> None:
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    samples = scrape()
    assert time.monotonic() - started < 5
    assert value(samples, "spaceport_celery_broker_up") == 0
    assert value(samples, "spaceport_commit_objects_moved_total") == 0, "the other figures still come"


# --- several gunicorn workers ---


def test_gunicorn_workers_add_up_their_counts_through_the_multiprocess_directory(
    transactional_db: None, tmp_path: Path
) -> None:
    """Two workers answer the requests and the scrapes; every scrape sees every request once."""
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "counter_999999.db").write_bytes(b"left over from the last run")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "SPACEPORT_METRICS_TOKEN": TOKEN,
    }
    env.pop("DATABASE_TEST_NAME", None)
    argv = ["gunicorn", "spaceport.wsgi:application", "-c", "python:spaceport.gunicorn_config"]
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", *argv, "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not answers_http(port, "/healthz"):
            assert gunicorn.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.3)
        base = f"http://127.0.0.1:{port}"

        def healthz_count() -> float:
            response = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
            assert response.status_code == 200, response.text[-2000:]
            samples = {
                (sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(response.text)
                for sample in family.samples
            }
            return value(samples, "spaceport_http_requests_total", view="healthz", method="GET", status="200")

        # The readiness polls that timed out while the workers started are answered later: counted, but
        # how many is not known, so the count is taken once every worker is up.
        time.sleep(2)
        before = healthz_count()
        for _ in range(40):
            assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
        counted = {healthz_count() - before for _ in range(6)}
        assert counted == {40}, "whichever worker answers the scrape sees every worker's requests"
        pids = {path.stem.rsplit("_", 1)[1] for path in directory.glob("counter_*.db")}
        assert len(pids) == 2, f"both workers counted: {pids}"
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
