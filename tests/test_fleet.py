"""The deployment as it runs in production, under concurrent load: two web processes, two workers, beat.

Two gunicorn masters (production settings), two Celery workers consuming every queue and one beat
run on this run's PostgreSQL database and Redis, with the storage on ``rclone serve s3``. Threads
then send, to both web processes at once: credential requests (issued, cached, refused by the rules
and by the rate limit), commits of overlapping directories (the same root from both processes, and
roots inside one another), and validations of the storage connection the commits use.

Afterwards every commit has ended exactly once (one end state, counts that add up, one
``commit.finish`` event, one webhook delivery received once), every object was moved by exactly one
commit and only its copy is left, every answer a person got has its one audit event once beat's
drain has emptied the audit journal, and every validation asked for ran once.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.fernet import Fernet
from django.conf import settings as django_settings

from commits import webhooks
from commits.models import Commit, CommitItem, CommitState, ItemState, WebhookDelivery
from connections.models import Status
from portal.audit.journal import STREAM
from portal.audit.models import AuditEvent
from portal.auth.models import ApiToken
from portal.core.cache import raw_redis
from portal.tenancy.models import LOADINGZONE, Space
from tests.fixtures.worker import Worker, delete_queues, start_beat, stop_worker
from tests.test_commit_crash import contents, md5
from tests.test_commit_fleet import slices_by_worker
from tests.test_commits import Receiver, Store, commits_url
from tests.test_commits import receiver as receiver
from tests.test_commits import store as store
from tests.web_process import WebProcess, start_web

# Slices of 20 objects moved in batches of 10: even the smallest commit here is several tasks,
# and the largest spreads over both workers.
FLEET_SETTINGS = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "SPACEPORT_COMMIT_SLICE_SIZE": "20",
    "SPACEPORT_COMMIT_BATCH_SIZE": "10",
    "SPACEPORT_COMMIT_CONCURRENCY": "4",
    "SPACEPORT_CREDENTIAL_RATE_LIMIT_PER_MINUTE": "20",
}
# Directories in the loadingzone, each holding this many objects of its own.
LAYOUT = {"drop": 30, "drop/a": 50, "drop/a/deep": 40, "drop/b": 60}
READS_PER_THREAD, DELETES_PER_THREAD, VALIDATIONS_PER_THREAD = 15, 5, 3
SETTLE_SECONDS = 90


@pytest.fixture
def fleet_settings(settings: Any, own_cache_namespace: str) -> dict[str, str]:
    """Production settings every process shares: fresh keys (the test's own process encrypts with
    them too) and this test's Redis key prefix, so the processes' audit journal is this test's."""
    key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [key]
    return {
        **FLEET_SETTINGS,
        "SECRET_KEY": secrets.token_urlsafe(64),
        "SPACEPORT_ENCRYPTION_KEYS": key,
        "REDIS_KEY_PREFIX": own_cache_namespace,
    }


@pytest.fixture
def fleet_store(fleet_settings: dict[str, str], store: Store) -> Store:
    """The storage connection, encrypted under the fleet's key."""
    return store


@dataclass
class Fleet:
    web: list[WebProcess]
    workers: list[Worker]
    beat: Worker


@pytest.fixture
def fleet(
    fleet_settings: dict[str, str], fleet_store: Store, worker_factory: Callable[..., Worker], tmp_path: Path
) -> Iterator[Fleet]:
    web = [start_web(tmp_path / f"web-{n}.log", fleet_settings) for n in range(2)]
    workers = [worker_factory(fleet_settings) for _ in range(2)]
    beat = start_beat(tmp_path / "beat.log", fleet_settings)
    try:
        for process in web:
            process.wait_until_ready()
        for worker in workers:
            worker.wait_until_ready()
        yield Fleet(web, workers, beat)
    finally:
        # Every process is told to stop first, so they shut down side by side.
        for started in [beat, *workers, *web]:
            if started.process.poll() is None:
                started.process.terminate()
        stop_worker(beat)
        for process in web:
            process.stop()
        delete_queues(django_settings.CELERY_BROKER_URL, django_settings.CELERY_TASK_DEFAULT_QUEUE)


def upload(store: Store) -> dict[str, str]:
    """The layout's objects in the loadingzone; answers each key with the MD5 of its bytes."""
    objects = {
        f"{directory}/object-{n:03d}.dat": secrets.token_bytes(50 + n)
        for directory, count in LAYOUT.items()
        for n in range(count)
    }
    s3 = store.rclone.client()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda key: s3.put_object(Bucket=store.bucket, Key=f"spaceport/{LOADINGZONE}/{key}", Body=objects[key]),
                objects,
            )
        )
    return {key: md5(data) for key, data in objects.items()}


@dataclass
class Answers:
    """What every request got: its status and the request id it was sent with."""

    vends: list[tuple[int, str]] = field(default_factory=list)
    commits: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    validations: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def call(session: requests.Session, url: str, token: str, body: dict[str, Any] | None = None) -> tuple[int, str, Any]:
    request_id = uuid.uuid4().hex
    response = session.post(
        url, json=body, headers={"Authorization": f"Token {token}", "X-Request-ID": request_id}, timeout=30
    )
    assert response.headers.get("X-Request-ID") == request_id
    return response.status_code, request_id, response.json() if response.content else {}


def vend(base: str, token: str, space: Space, answers: Answers) -> None:
    url = f"{base}/api/v1/organizations/{space.organization.name}/spaces/{space.name}/credentials/"
    with requests.Session() as session:
        for n in range(READS_PER_THREAD + DELETES_PER_THREAD):
            access = "delete" if n % 4 == 3 else "read"
            status, request_id, _ = call(session, url, token, {"access": access})
            with answers.lock:
                answers.vends.append((status, request_id))


def commit(base: str, token: str, space: Space, root: str, answers: Answers) -> None:
    """Ask until the directory is committed here, or is found empty (another commit moved it)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    with requests.Session() as session:
        while time.monotonic() < deadline:
            status, _, body = call(session, base + commits_url(space), token, {"root_dir": root})
            with answers.lock:
                answers.commits.append((root, status, body))
            if status == 202 or body.get("error") == "root_dir_empty":
                return
            assert status == 409 and body["error"] == "commit_running", (status, body)
            time.sleep(0.2)
    pytest.fail(f"{root} was neither committed nor emptied in {SETTLE_SECONDS} s")


def validate(base: str, token: str, space: Space, connection_name: str, answers: Answers) -> None:
    url = f"{base}/api/v1/organizations/{space.organization.name}/connections/{connection_name}/validate/"
    with requests.Session() as session:
        for _ in range(VALIDATIONS_PER_THREAD):
            status, _, _ = call(session, url, token)
            with answers.lock:
                answers.validations.append(status)
            time.sleep(0.3)


def wait_until(condition: Callable[[], bool], what: str, fleet: Fleet, timeout: float = SETTLE_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for process in [*fleet.workers, fleet.beat]:
            assert process.process.poll() is None, f"a process exited:\n{process.output()}"
        if time.monotonic() > deadline:
            logs = "\n".join(process.output()[-1500:] for process in fleet.workers)
            pytest.fail(f"timed out waiting for {what}:\n{logs}")
        time.sleep(0.3)


def journal_length() -> int:
    redis = raw_redis()
    assert redis is not None
    return int(redis.client.xlen(redis.key(STREAM)))


@pytest.mark.worker
def test_two_web_processes_two_workers_and_beat_under_concurrent_load(
    fleet: Fleet, fleet_store: Store, owner: Any, member: Any, space: Space, receiver: Receiver
) -> None:
    webhooks.configure(space.organization, url=receiver.url, secret=receiver.secret)
    uploaded = upload(fleet_store)
    _, member_token = ApiToken.issue(member, "fleet")
    _, owner_token = ApiToken.issue(owner, "fleet")
    connection = fleet_store.connection
    answers = Answers()
    bases = [process.url for process in fleet.web]

    work: list[Callable[[], None]] = []
    for base in bases:
        work.append(lambda base=base: vend(base, member_token, space, answers))
        work.append(lambda base=base: validate(base, owner_token, space, connection.name, answers))
        for root in LAYOUT:
            work.append(lambda base=base, root=root: commit(base, member_token, space, root, answers))
    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        for running in [pool.submit(job) for job in work]:
            running.result()

    commits = {body["id"] for _, status, body in answers.commits if status == 202}

    def settled() -> bool:
        return (
            Commit.objects.filter(pk__in=commits, finished__isnull=False).count() == len(commits)
            and WebhookDelivery.objects.filter(commit__in=commits, state="delivered").count() == len(commits)
            and AuditEvent.objects.filter(action="connection.validate").count() == answers.validations.count(202)
            and journal_length() == 0
        )

    wait_until(settled, "the commits, webhooks, validations and the journal's drain to settle", fleet)
    time.sleep(1.5)  # a second delivery or a late audit event, were there one, would arrive now

    # Commits: each directory committed at most once, everything moved by exactly one commit.
    accepted_roots = Counter(root for root, status, _ in answers.commits if status == 202)
    assert accepted_roots["drop"] == 1, "the outermost directory holds objects no other commit covers"
    assert max(accepted_roots.values()) == 1, accepted_roots
    assert contents(fleet_store, "raw") == uploaded, "every object in the space once, with its bytes"
    assert contents(fleet_store, LOADINGZONE) == {}, "no source left behind"
    items = CommitItem.objects.filter(commit__in=commits).select_related("commit")
    moved_keys = Counter(f"{item.commit.root_dir}/{item.key}" for item in items)
    assert moved_keys == Counter(list(uploaded)), "each object listed and moved by exactly one commit"
    assert set(items.values_list("state", flat=True)) == {ItemState.DONE}
    shares = slices_by_worker(Commit.objects.get(pk__in=commits, root_dir="drop"))
    assert set(shares) == {"worker-0", "worker-1"}, f"both workers moved slices of the commits: {shares}"
    for finished in Commit.objects.filter(pk__in=commits):
        assert finished.state == CommitState.SUCCEEDED, finished.error
        own = [key for key in uploaded if key.startswith(finished.root_dir + "/")]
        assert 0 < finished.total == finished.moved <= len(own)
        assert (finished.skipped, finished.failed, finished.conflicts) == (0, 0, 0)
        assert finished.bytes_moved == finished.bytes_total > 0
        for action in ("commit.start", "commit.finish"):
            assert AuditEvent.objects.filter(action=action, target_id=str(finished.pk)).count() == 1, action
    refused_commits = [status for _, status, _ in answers.commits if status != 202]
    assert AuditEvent.objects.filter(action="commit.refuse").count() == len(refused_commits)

    # The webhook: one delivery per commit, received once, signed.
    assert WebhookDelivery.objects.filter(commit__in=commits).count() == len(commits)
    received = Counter(delivery["body"]["id"] for delivery in receiver.received)
    assert received == Counter(list(commits)), "one delivery per commit, no duplicate"
    assert all(delivery["valid"] for delivery in receiver.received)

    # Credentials: each answer has exactly one audit event, found by its request id.
    statuses = Counter(status for status, _ in answers.vends)
    # 30 reads against a limit of 20 a minute: most often some are throttled (429), unless a new
    # minute began half-way; both kinds of refusal must leave their event.
    assert set(statuses) <= {201, 403, 429} and statuses[201] >= 20 and statuses[403] == 10, statuses
    events = Counter(AuditEvent.objects.filter(action__startswith="credential.").values_list("request_id", "action"))
    expected = Counter(
        (request_id, "credential.issue" if status == 201 else "credential.refuse")
        for status, request_id in answers.vends
    )
    assert events == expected, "one audit event per credential answer, none lost, none doubled"

    # Validations: each one asked for ran once, and the connection the commits used is valid.
    assert set(answers.validations) == {202}
    connection.refresh_from_db()
    assert connection.status == Status.VALID, connection.validation_report
