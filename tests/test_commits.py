"""Commits: the domain, the native API, the AccessManager endpoint, refusals, audit and the webhook.

The storage is ``rclone serve s3`` (it checks SigV4 and copies server-side); the commit runs in the
test's own process through ``engine.run``, as the task would run it. The webhook goes to a small
HTTP receiver on loopback that checks the signature the way a customer's would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from commits import engine, webhooks
from commits.models import Commit, CommitItem, CommitState, ItemState, OrganizationWebhook, WebhookDelivery
from commits.starting import CommitRunning, InvalidRootDir, start_commit
from commits.tasks import deliver_webhook, resume_stalled_commits
from connections.active import make_active
from connections.models import CloudConnection, Status
from connections.providers.registry import client_for, forget_clients, location_for
from portal.audit.models import AuditEvent
from portal.auth.models import ApiToken
from portal.tenancy.access import access_for
from portal.tenancy.changes import create_space
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import LOADINGZONE, Organization, Space
from tests.conftest import make_user
from tests.emulators import LOOPBACK, RcloneS3
from tests.test_provider_s3compat import connect_new_bucket

V2 = "/api/v2.0/accessmanager/commit"


@pytest.fixture(autouse=True)
def fresh_clients() -> None:
    forget_clients()


@dataclass
class Store:
    """A bucket on rclone holding the organization's loadingzone and spaces under ``spaceport/``."""

    rclone: RcloneS3
    bucket: str
    connection: CloudConnection

    def put(self, space: str, key: str, data: bytes) -> None:
        self.rclone.client().put_object(Bucket=self.bucket, Key=f"spaceport/{space}/{key}", Body=data)

    def keys(self, space: str) -> dict[str, bytes]:
        s3 = self.rclone.client()
        found: dict[str, bytes] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"spaceport/{space}/"):
            for item in page.get("Contents", []):
                key = item["Key"][len(f"spaceport/{space}/") :]
                found[key] = s3.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
        return found


def attach(organization: Organization, connection: CloudConnection) -> None:
    CloudConnection.objects.filter(pk=connection.pk).update(status=Status.VALID)
    make_active(connection)
    organization.refresh_from_db()


@pytest.fixture
def store(organization: Organization, space: Space, rclone_s3: RcloneS3) -> Store:
    connection = connect_new_bucket(organization, rclone_s3, prefix="spaceport")
    attach(organization, connection)
    space.refresh_from_db()
    return Store(rclone_s3, connection.config["bucket"], connection)


@pytest.fixture
def reader(space: Space) -> Any:
    person = make_user("reader@example.com")
    Grant.objects.create(user=person, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=space.organization)
    Grant.objects.create(user=person, scope=Scope.SPACE, role=Role.USER, organization=space.organization, space=space)
    return person


def commits_url(space: Space, suffix: str = "") -> str:
    return f"/api/v1/organizations/{space.organization.name}/spaces/{space.name}/commits/{suffix}"


def seed_batch(store: Store) -> dict[str, bytes]:
    batch = {
        "batch1/a.csv": b"a,b\n1,2\n",
        "batch1/deep/er/b.bin": secrets.token_bytes(3000),
        "batch1/empty.txt": b"",
        "batch1/ünïcødé/naïve café.txt": "grüße".encode(),
    }
    for key, data in batch.items():
        store.put(LOADINGZONE, key, data)
    store.put(LOADINGZONE, "batch10/not-mine.txt", b"other batch")
    store.put(LOADINGZONE, "other/left.txt", b"stays")
    return batch


# --- the whole flow ---


def test_a_commit_moves_the_directory_and_reports_it(api: Any, member: Any, space: Space, store: Store) -> None:
    batch = seed_batch(store)
    answer = api(member).post(commits_url(space), {"root_dir": "/batch1/"}, format="json")
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert body["state"] == "queued" and body["root_dir"] == "batch1"
    assert body["status_url"].endswith(commits_url(space, f"{body['id']}/"))
    assert answer["Location"] == body["status_url"]

    assert engine.run(body["id"]) == "finished"

    assert store.keys("raw") == batch
    assert store.keys(LOADINGZONE) == {"batch10/not-mine.txt": b"other batch", "other/left.txt": b"stays"}
    shown = api(member).get(commits_url(space, f"{body['id']}/")).json()
    sizes = sum(len(data) for data in batch.values())
    assert {k: shown[k] for k in ("state", "total", "moved", "skipped", "failed", "conflicts")} == {
        "state": "succeeded",
        "total": 4,
        "moved": 4,
        "skipped": 0,
        "failed": 0,
        "conflicts": 0,
    }
    assert shown["bytes_total"] == shown["bytes_moved"] == sizes
    assert shown["started"] and shown["finished"] and shown["user"] == "member@example.com"
    items = api(member).get(commits_url(space, f"{body['id']}/items/") + "?state=done").json()
    assert sorted(item["key"] for item in items["results"]) == sorted(k.removeprefix("batch1/") for k in batch)
    assert api(member).get(commits_url(space, f"{body['id']}/items/") + "?state=conflict").json()["count"] == 0
    assert api(member).get(commits_url(space, f"{body['id']}/items/") + "?state=nope").status_code == 400
    listed = api(member).get(commits_url(space)).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]

    actions = list(AuditEvent.objects.filter(target_type="commits.commit").values_list("action", "outcome"))
    assert sorted(actions) == [("commit.finish", "success"), ("commit.start", "success")]
    finish = AuditEvent.objects.get(action="commit.finish")
    assert finish.actor == member and finish.details["moved"] == 4 and finish.details["root_dir"] == "batch1"
    assert finish.organization == space.organization

    assert engine.run(body["id"]) == "gone", "a finished commit is never run again"
    assert AuditEvent.objects.filter(action="commit.finish").count() == 1


def test_a_rerun_after_a_crash_resumes_and_loses_nothing(member: Any, space: Space, store: Store) -> None:
    """Every point a worker can die at, set up for real in the storage and the database."""
    keys = {f"crash/{n}.txt": f"object {n}".encode() for n in range(6)}
    for key, data in keys.items():
        store.put(LOADINGZONE, key, data)
    commit = start_commit(access_for_user(member), space, root_dir="crash", user=member)
    list(engine._plan(commit, engine._route(commit)))  # plan completely, as a run does before it dies
    client = client_for(store.connection)
    source, target = location_for(store.connection, LOADINGZONE), location_for(store.connection, "raw")
    items = {item.key: item for item in CommitItem.objects.filter(commit=commit)}

    def copied(name: str) -> None:
        client.copy_object(source, f"crash/{name}", target, f"crash/{name}")

    CommitItem.objects.filter(pk=items["0.txt"].pk).update(state=ItemState.COPYING)  # died before the copy
    copied("1.txt")
    CommitItem.objects.filter(pk=items["1.txt"].pk).update(state=ItemState.COPYING)  # died after the copy
    copied("2.txt")
    CommitItem.objects.filter(pk=items["2.txt"].pk).update(state=ItemState.VERIFIED, copied=True)  # before delete
    copied("3.txt")
    client.delete_object(source, "crash/3.txt")
    CommitItem.objects.filter(pk=items["3.txt"].pk).update(state=ItemState.VERIFIED, copied=True)  # after delete
    copied("4.txt")  # died after the copy, before "copying" was even written: the copy is identical

    assert engine.run(commit.pk) == "finished"

    assert store.keys("raw") == keys
    assert store.keys(LOADINGZONE) == {}
    commit.refresh_from_db()
    assert commit.state == CommitState.SUCCEEDED
    assert (commit.total, commit.moved, commit.skipped, commit.failed) == (6, 5, 1, 0)
    assert CommitItem.objects.get(commit=commit, key="4.txt").state == ItemState.SKIPPED


def test_moving_starts_with_the_first_page_and_a_stopped_run_goes_on_from_there(
    member: Any, space: Space, store: Store, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plan pages of 10 and batches of 5: a run whose deadline has passed stops after recording
    the first page, before its first batch; the next run lists the rest and moves everything once."""
    monkeypatch.setattr(engine, "PLAN_BATCH", 10)
    settings.SPACEPORT_COMMIT_BATCH_SIZE = 5
    keys = {f"paged/{n:02d}.txt": f"object {n}".encode() for n in range(27)}
    for key, data in keys.items():
        store.put(LOADINGZONE, key, data)
    commit = start_commit(access_for_user(member), space, root_dir="paged", user=member)

    assert engine.run(commit.pk, deadline=0.0) == "more"

    commit.refresh_from_db()
    assert not commit.planned
    assert CommitItem.objects.filter(commit=commit).count() == 10, "one page recorded, not the whole listing"
    assert set(CommitItem.objects.filter(commit=commit).values_list("state", flat=True)) == {ItemState.PENDING}
    assert store.keys("raw") == {}

    assert engine.run(commit.pk) == "finished"

    commit.refresh_from_db()
    assert commit.planned and commit.state == CommitState.SUCCEEDED
    assert (commit.total, commit.moved, commit.skipped, commit.failed) == (27, 27, 0, 0)
    assert store.keys("raw") == keys
    assert store.keys(LOADINGZONE) == {}


def access_for_user(user: Any) -> Any:
    request = type("Request", (), {"user": user, "auth": None})()
    return access_for(request)


def test_an_existing_different_object_is_a_conflict_unless_overwrite(member: Any, space: Space, store: Store) -> None:
    store.put(LOADINGZONE, "b/same.txt", b"same")
    store.put(LOADINGZONE, "b/changed.txt", b"new version")
    store.put("raw", "b/same.txt", b"same")
    store.put("raw", "b/changed.txt", b"old version!")

    first = start_commit(access_for_user(member), space, root_dir="b", user=member)
    engine.run(first.pk)
    first.refresh_from_db()
    assert first.state == CommitState.PARTIALLY_FAILED
    assert (first.skipped, first.conflicts, first.moved) == (1, 1, 0)
    conflict = CommitItem.objects.get(commit=first, key="changed.txt")
    assert conflict.state == ItemState.CONFLICT and "different" in conflict.error
    assert store.keys("raw")["b/changed.txt"] == b"old version!"
    assert store.keys(LOADINGZONE) == {"b/changed.txt": b"new version"}, "a conflict keeps its source"
    assert "different content" in first.error

    second = start_commit(access_for_user(member), space, root_dir="b", user=member, overwrite=True)
    engine.run(second.pk)
    second.refresh_from_db()
    assert second.state == CommitState.SUCCEEDED and second.moved == 1
    assert store.keys("raw") == {"b/same.txt": b"same", "b/changed.txt": b"new version"}
    assert store.keys(LOADINGZONE) == {}


# --- bad input and permissions ---


@pytest.mark.parametrize(
    ("root_dir", "code"),
    [
        ("", "root_dir_required"),
        ("/", "root_dir_required"),
        ("../raw", "invalid_root_dir"),
        ("a/../b", "invalid_root_dir"),
        ("a//b", "invalid_root_dir"),
        ("a/./b", "invalid_root_dir"),
        ("a\\b", "invalid_root_dir"),
        ("a\nb", "invalid_root_dir"),
        (".spaceport-validation/x", "root_dir_reserved"),
        ("nothing-here", "root_dir_empty"),
    ],
)
def test_bad_root_directories_are_refused_and_nothing_moves(
    api: Any, member: Any, space: Space, store: Store, root_dir: str, code: str
) -> None:
    batch = seed_batch(store)
    answer = api(member).post(commits_url(space), {"root_dir": root_dir}, format="json")
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"] == code
    assert "root_dir" in answer.json()["fields"]
    assert not Commit.objects.exists()
    assert store.keys("raw") == {}
    assert len(store.keys(LOADINGZONE)) == len(batch) + 2
    refusal = AuditEvent.objects.get(action="commit.refuse")
    assert refusal.outcome == "denied" and refusal.details["reason"] == code


def test_the_root_dir_field_is_required(api: Any, member: Any, space: Space, store: Store) -> None:
    answer = api(member).post(commits_url(space), {}, format="json")
    assert answer.status_code == 400
    assert "root_dir" in answer.json()["fields"]


def test_a_second_commit_of_a_running_directory_is_refused(api: Any, member: Any, space: Space, store: Store) -> None:
    seed_batch(store)
    store.put(LOADINGZONE, "batch1/inner/x.txt", b"x")
    first = api(member).post(commits_url(space), {"root_dir": "batch1"}, format="json").json()
    for root in ("batch1", "batch1/", "batch1/inner", "/batch1/deep"):
        again = api(member).post(commits_url(space), {"root_dir": root}, format="json")
        assert again.status_code == 409, root
        assert again.json()["error"] == "commit_running"
        assert str(first["id"]) in again.json()["message"]
    assert api(member).post(commits_url(space), {"root_dir": "batch10"}, format="json").status_code == 202
    assert Commit.objects.count() == 2

    engine.run(first["id"])
    assert api(member).post(commits_url(space), {"root_dir": "batch1"}, format="json").json()["error"] == (
        "root_dir_empty"
    ), "once finished, the directory is empty: nothing is moved twice"


def test_the_database_allows_one_active_commit_per_directory(member: Any, space: Space, store: Store) -> None:
    seed_batch(store)
    start_commit(access_for_user(member), space, root_dir="batch1", user=member)
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Commit.objects.create(organization=space.organization, space=space, root_dir="batch1")
    with pytest.raises(CommitRunning):
        start_commit(access_for_user(member), space, root_dir="batch1", user=member)


def test_only_writers_may_commit(api: Any, owner: Any, reader: Any, outsider: Any, space: Space, store: Store) -> None:
    seed_batch(store)
    denied = api(reader).post(commits_url(space), {"root_dir": "batch1"}, format="json")
    assert denied.status_code == 403
    assert api(owner).post(commits_url(space), {"root_dir": "batch1"}, format="json").status_code == 403
    assert api(outsider).post(commits_url(space), {"root_dir": "batch1"}, format="json").status_code == 404
    assert api(None).post(commits_url(space), {"root_dir": "batch1"}, format="json").status_code in (401, 403)
    assert not Commit.objects.exists()
    assert store.keys("raw") == {}
    assert AuditEvent.objects.filter(action="commit.refuse", outcome="denied").count() == 2


def test_readers_see_commits_and_outsiders_do_not(
    api: Any, member: Any, reader: Any, outsider: Any, space: Space, store: Store
) -> None:
    seed_batch(store)
    started = api(member).post(commits_url(space), {"root_dir": "batch1"}, format="json").json()
    assert api(reader).get(commits_url(space, f"{started['id']}/")).status_code == 200
    assert api(outsider).get(commits_url(space, f"{started['id']}/")).status_code == 404
    assert api(outsider).get(commits_url(space)).status_code == 404
    other = create_space(space.organization, name="other")
    assert api(member).get(commits_url(other, f"{started['id']}/")).status_code == 404


def test_the_loadingzone_is_no_commit_target(api: Any, member: Any, space: Space, store: Store) -> None:
    seed_batch(store)
    loadingzone = Space.objects.get(organization=space.organization, name=LOADINGZONE)
    answer = api(member).post(commits_url(loadingzone), {"root_dir": "batch1"}, format="json")
    assert answer.status_code in (400, 403)
    assert not Commit.objects.exists()


def test_a_commit_without_storage_is_refused(api: Any, member: Any, space: Space) -> None:
    answer = api(member).post(commits_url(space), {"root_dir": "batch1"}, format="json")
    assert answer.status_code == 409
    assert answer.json()["error"] == "no_connection"


# --- the AccessManager endpoint ---


def compat(token: str | None = None, method: str = "POST", **params: str) -> Any:
    from urllib.parse import urlencode

    extra = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    return Client().generic(method, f"{V2}?{urlencode(params)}", **extra)


def test_accessmanager_commit_answers_204_and_moves(member: Any, reader: Any, space: Space, store: Store) -> None:
    batch = seed_batch(store)
    _, key = ApiToken.issue(member, "sdk")
    _, reader_key = ApiToken.issue(reader, "sdk")

    denied = compat(reader_key, organization="acme", space="raw", rootDir="batch1")
    assert denied.status_code == 403 and json.loads(denied.content)["errorCode"] == 10001
    missing = compat(key, organization="acme", space="raw")
    assert missing.status_code == 400 and missing["Content-Type"] == "application/problem+json"
    assert json.loads(missing.content)["detail"] == "Required parameter 'rootDir' is not present."
    for root, code in (("", 10091), ("../x", 10091), ("nothing", 10092)):
        refused = compat(key, organization="acme", space="raw", rootDir=root)
        body = json.loads(refused.content)
        assert (refused.status_code, body["errorCode"]) == (400, code), root
        assert body["message"].startswith(f"{code}: ")
    assert compat(key, organization="nope", space="raw", rootDir="batch1").status_code == 404
    assert compat(organization="acme", space="raw", rootDir="batch1").status_code == 401
    assert compat(key, method="GET", organization="acme", space="raw", rootDir="batch1").status_code == 405
    assert not Commit.objects.exists()

    accepted = compat(key, organization="acme", space="raw", rootDir="batch1")
    assert accepted.status_code == 204 and accepted.content == b""
    commit = Commit.objects.get()
    assert accepted["Location"] == commits_url(space, f"{commit.pk}/")
    assert commit.origin == Commit.Origin.ACCESSMANAGER and commit.user == member

    running = compat(key, organization="acme", space="raw", rootDir="batch1")
    assert running.status_code == 409 and json.loads(running.content)["errorCode"] == 10093

    engine.run(commit.pk)
    assert store.keys("raw") == batch


# --- webhook ---


@dataclass
class Receiver:
    """A customer's endpoint on loopback: it checks the signature and keeps what it got."""

    secret: str
    answers: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(secret=secrets.token_urlsafe(24))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            timestamp = self.headers["X-Spaceport-Timestamp"]
            expected = hmac.new(state.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            valid = hmac.compare_digest(self.headers.get("X-Spaceport-Signature", ""), f"sha256={expected}")
            state.received.append({"body": json.loads(body), "valid": valid, "headers": dict(self.headers)})
            status = state.answers.pop(0) if state.answers else 204
            self.send_response(status if valid else 401)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    state.url = f"http://{LOOPBACK}:{server.server_address[1]}/hooks/spaceport"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def test_a_finished_commit_is_posted_signed_to_the_webhook(
    api: Any, owner: Any, member: Any, space: Space, store: Store, receiver: Receiver
) -> None:
    hook_url = f"/api/v1/organizations/{space.organization.name}/webhook/"
    assert api(member).put(hook_url, {"url": receiver.url, "secret": receiver.secret}, format="json").status_code in (
        403,
        404,
    )
    saved = api(owner).put(hook_url, {"url": receiver.url, "secret": receiver.secret}, format="json")
    assert saved.status_code == 200, saved.content
    assert "secret" not in saved.json() and saved.json()["has_secret"] is True
    assert saved.json()["generated_secret"] == ""
    assert receiver.secret not in api(owner).get(hook_url).content.decode()
    hook = OrganizationWebhook.objects.get()
    assert receiver.secret not in str(hook.secret)
    from django.db import connection as db

    with db.cursor() as cursor:
        cursor.execute("SELECT secret FROM commits_organizationwebhook")
        assert receiver.secret not in cursor.fetchone()[0], "stored encrypted"

    seed_batch(store)
    started = api(member).post(commits_url(space), {"root_dir": "batch1"}, format="json").json()
    engine.run(started["id"])
    delivery = WebhookDelivery.objects.get()
    receiver.answers = [503]
    with pytest.raises(webhooks.DeliveryFailed):
        webhooks.deliver(delivery, final=False)
    assert deliver_webhook.apply(args=[delivery.pk]).get() == "delivered"

    assert [r["valid"] for r in receiver.received] == [True, True]
    got = receiver.received[-1]
    assert got["body"] == {
        "event": "commit.finish",
        "id": started["id"],
        "organization": "acme",
        "space": "raw",
        "rootDir": "batch1",
        "user": "member@example.com",
        "state": "succeeded",
        "counts": {
            "total": 4,
            "moved": 4,
            "skipped": 0,
            "failed": 0,
            "conflicts": 0,
            "bytes_total": got["body"]["counts"]["bytes_total"],
            "bytes_moved": got["body"]["counts"]["bytes_total"],
        },
        "finished": got["body"]["finished"],
    }
    assert receiver.received[0]["body"] == got["body"], "retries send the same body"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.response_status) == ("delivered", 2, 204)
    assert deliver_webhook.apply(args=[delivery.pk]).get() == "skipped", "delivered once"


def test_a_failing_receiver_is_retried_on_the_backoff_until_the_limit(
    space: Space, receiver: Receiver, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """5 s doubling between tries; the try after the last retry settles the delivery as failed."""
    settings.SPACEPORT_WEBHOOK_MAX_RETRIES = 3
    webhooks.configure(space.organization, url=receiver.url, secret=receiver.secret)
    delivery = WebhookDelivery.objects.create(
        organization=space.organization, event="commit.finish", body=json.dumps({"event": "commit.finish"})
    )
    receiver.answers = [503] * 10

    with caplog.at_level(logging.INFO, logger="celery.app.trace"):
        assert deliver_webhook.apply(args=[delivery.pk]).get() == "failed"

    assert re.findall(r"Retry in (\d+)s", caplog.text) == ["5", "10", "20"]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.response_status) == ("failed", 4, 503)
    assert len(receiver.received) == 4


def test_a_second_copy_of_a_delivery_task_does_not_post_the_attempt_again(space: Space, receiver: Receiver) -> None:
    """Each attempt is claimed on its count: a copy that read the delivery before another run took the
    attempt posts nothing, and neither does one that finds the delivery settled."""
    webhooks.configure(space.organization, url=receiver.url, secret=receiver.secret)
    delivery = WebhookDelivery.objects.create(
        organization=space.organization, event="commit.finish", body=json.dumps({"event": "commit.finish"})
    )
    read_by_the_copy = WebhookDelivery.objects.get(pk=delivery.pk)
    assert deliver_webhook.apply(args=[delivery.pk]).get() == "delivered"
    with pytest.raises(webhooks.AttemptTaken):
        webhooks.deliver(read_by_the_copy, final=False)
    assert deliver_webhook.apply(args=[delivery.pk]).get() == "skipped"
    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 1)


def test_a_wrong_secret_is_refused_by_the_receiver(
    owner: Any, member: Any, space: Space, store: Store, receiver: Receiver
) -> None:
    """The receiver's check can fail: signed with another secret, the delivery is refused (401, not retried)."""
    webhooks.configure(space.organization, url=receiver.url, secret="another-secret-of-enough-length")
    seed_batch(store)
    commit = start_commit(access_for_user(member), space, root_dir="batch1", user=member)
    engine.run(commit.pk)
    delivery = WebhookDelivery.objects.get()
    assert webhooks.deliver(delivery, final=False) is False
    assert receiver.received[0]["valid"] is False
    delivery.refresh_from_db()
    assert (delivery.state, delivery.response_status) == ("failed", 401)


def test_webhooks_to_private_addresses_are_refused_by_default(space: Space, settings: Any) -> None:
    settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = []
    from portal.core.errors import DomainError

    with pytest.raises(DomainError) as caught:
        webhooks.configure(space.organization, url="https://127.0.0.1:9/hook", secret="x" * 20)
    assert caught.value.code == "address_refused"
    assert "inside the host's own network" in caught.value.message
    with pytest.raises(DomainError):
        webhooks.configure(space.organization, url="ftp://example.com/hook", secret="x" * 20)
    assert not OrganizationWebhook.objects.exists()


# --- resuming ---


def test_stalled_commits_are_resumed_and_given_up_after_many_runs(member: Any, space: Space, store: Store) -> None:
    seed_batch(store)
    commit = start_commit(access_for_user(member), space, root_dir="batch1", user=member)
    Commit.objects.filter(pk=commit.pk).update(state=CommitState.RUNNING, heartbeat=timezone.now())
    assert engine.stalled(timedelta(seconds=60)) == []
    Commit.objects.filter(pk=commit.pk).update(heartbeat=timezone.now() - timedelta(minutes=5))
    assert engine.stalled(timedelta(seconds=60)) == [commit.pk]

    Commit.objects.filter(pk=commit.pk).update(runs=engine.MAX_RUNS)
    assert resume_stalled_commits(stalled_after=60) == 0
    commit.refresh_from_db()
    assert commit.state == CommitState.FAILED and "Gave up" in commit.error
    assert store.keys("raw") == {}, "nothing moved, and the sources stay"
    assert "batch1/a.csv" in store.keys(LOADINGZONE)


@pytest.fixture
def other_worker() -> Iterator[Any]:
    """A connection of its own to the test database, as another worker's would be."""
    import psycopg
    from django.db import connection as db

    settings_dict = db.settings_dict
    with psycopg.connect(
        host=settings_dict["HOST"],
        port=settings_dict["PORT"],
        user=settings_dict["USER"],
        dbname=settings_dict["NAME"],
        autocommit=True,
    ) as other:
        yield other


@pytest.mark.postgres_only(reason="holds PostgreSQL's advisory lock from a second connection; SQLite has none")
def test_a_commit_waits_while_another_run_holds_it(member: Any, space: Space, store: Store, other_worker: Any) -> None:
    seed_batch(store)
    commit = start_commit(access_for_user(member), space, root_dir="batch1", user=member)
    other_worker.execute("SELECT pg_advisory_lock(%s, %s)", [engine.LOCK_CLASS, commit.pk])
    assert engine.run(commit.pk) == "busy"
    # Released explicitly: a closed connection's locks go only once its server process has
    # exited, which can be after the next statement here.
    other_worker.execute("SELECT pg_advisory_unlock(%s, %s)", [engine.LOCK_CLASS, commit.pk])
    assert engine.run(commit.pk) == "finished"


# --- pages and admin ---


def test_the_space_page_shows_progress_and_polls_while_running(
    client: Client, member: Any, space: Space, store: Store
) -> None:
    seed_batch(store)
    client.force_login(member)
    page = client.post("/o/acme/s/raw/commits/new/", {"root_dir": "batch1"})
    assert page.status_code == 302
    html = client.get("/o/acme/s/raw/").content.decode()
    assert 'id="commits"' in html and "batch1/" in html and 'hx-trigger="every 2s"' in html
    engine.run(Commit.objects.get().pk)
    card = client.get("/o/acme/s/raw/commits/").content.decode()
    assert "Succeeded" in card and "hx-trigger" not in card
    refused = client.post("/o/acme/s/raw/commits/new/", {"root_dir": "../x"}, HTTP_HX_REQUEST="true")
    assert "may not contain" in refused.content.decode()


def test_the_admin_shows_commits_read_only(
    client: Client, platform_admin: Any, member: Any, space: Space, store: Store
) -> None:
    seed_batch(store)
    commit = start_commit(access_for_user(member), space, root_dir="batch1", user=member)
    engine.run(commit.pk)
    client.force_login(platform_admin)
    assert "batch1" in client.get("/admin/commits/commit/").content.decode()
    detail = client.get(f"/admin/commits/commit/{commit.pk}/change/")
    assert detail.status_code == 200 and "All 4 objects" in detail.content.decode()
    assert client.get(f"/admin/commits/commititem/?commit__id__exact={commit.pk}").status_code == 200
    assert client.get("/admin/commits/commit/add/").status_code == 403


def test_clean_root_dir_normalizes_slashes() -> None:
    from commits.starting import clean_root_dir

    assert clean_root_dir("/a/b/") == "a/b"
    assert clean_root_dir("ünï cødé") == "ünï cødé"
    with pytest.raises(InvalidRootDir):
        clean_root_dir(None)
