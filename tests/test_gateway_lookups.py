"""What the gateway keeps per access snapshot version: warm requests touch neither the database nor
Redis and run on the event loop, the version is polled and pinned, and a change starts over."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from botocore.credentials import RefreshableCredentials
from django.core.cache import cache
from django.core.exceptions import SynchronousOnlyOperation

from accessgrants.accesskeys import issue_key
from accessgrants.decisions import decide_for_key
from connections.active import make_active
from connections.providers.base import StorageError
from connections.providers.s3.session import fixed_keys
from connections.providers.s3.signing import SigV4Signer
from connections.storage import location_for
from gateway.buckets import listable_buckets, space_of
from gateway.freshness import VersionPoller
from gateway.keys import access_key_secret
from gateway.server import Gateway
from gateway.upstream import upstream_of
from portal.core import snapshots
from portal.tenancy.models import Space
from tests.emulators import RcloneS3
from tests.test_provider_s3compat import connect_new_bucket


@pytest.fixture(autouse=True)
def _unpinned() -> Any:
    yield
    snapshots.pin_version(None)


def in_a_following_thread(work: Any) -> Any:
    """``work()`` answered by a thread that follows the pinned version, as the gateway's threads do."""
    answers: list[Any] = []

    def run() -> None:
        snapshots.follow_pinned_version()
        answers.append(work())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    return answers[0]


@pytest.mark.django_db
def test_only_threads_that_follow_the_pin_use_it() -> None:
    stored = snapshots.stored_version()
    snapshots.pin_version("pinned-for-the-test")

    assert in_a_following_thread(snapshots.version) == "pinned-for-the-test"
    assert snapshots.version() == stored

    snapshots.pin_version(None)
    assert in_a_following_thread(snapshots.version) == stored


def test_redis_is_not_read_on_an_event_loop() -> None:
    async def read() -> str:
        return snapshots.stored_version()

    with pytest.raises(SynchronousOnlyOperation):
        asyncio.run(read())


@pytest.mark.django_db
def test_a_warm_request_costs_no_query(
    member: Any, organization: Any, space: Space, rclone_s3: RcloneS3, django_assert_num_queries: Any
) -> None:
    make_active(connect_new_bucket(organization, rclone_s3))
    key_id = issue_key(member, organization).key.access_key_id

    def one_request() -> tuple[Any, ...]:
        found = space_of(key_id, "acme-raw")
        assert found is not None
        return (
            access_key_secret(key_id),
            found,
            upstream_of(found),
            decide_for_key(key_id, "s3:PutObject", "acme-raw/a.csv").allowed,
            [name for name, _ in listable_buckets(key_id)],
        )

    cold = one_request()
    with django_assert_num_queries(0):
        warm = one_request()
    assert warm == cold and warm[2] is cold[2] and warm[3] is True and "acme-raw" in warm[4]
    assert space_of(key_id, "globex-raw") is None


@pytest.mark.django_db
def test_a_new_version_finds_the_new_connection(
    member: Any, organization: Any, space: Space, rclone_s3: RcloneS3
) -> None:
    first = connect_new_bucket(organization, rclone_s3)
    make_active(first)
    key_id = issue_key(member, organization).key.access_key_id
    found = space_of(key_id, "acme-raw")
    assert found is not None
    assert upstream_of(found).location.bucket == location_for(first, "raw").bucket

    second = connect_new_bucket(organization, rclone_s3)
    make_active(second)
    found = space_of(key_id, "acme-raw")
    assert found is not None
    assert upstream_of(found).location.bucket == location_for(second, "raw").bucket


@pytest.mark.django_db(transaction=True)
def test_warm_work_runs_on_the_loop_and_cold_work_on_a_thread(space: Space) -> None:
    gateway = Gateway(workers=2)
    loop_thread: list[threading.Thread] = []

    async def both() -> tuple[str, str, str]:
        loop_thread.append(threading.current_thread())
        try:
            warm = await gateway.db(lambda: threading.current_thread().name)
            cold = await gateway.db(lambda: (Space.objects.get(pk=space.pk).name, threading.current_thread().name))
        finally:
            await gateway.stop(web.Application())
        return warm, *cold

    warm, name, cold = asyncio.run(both())
    assert warm == loop_thread[0].name
    assert name == "raw" and cold.startswith("gateway-db")


@pytest.mark.django_db
def test_the_poller_pins_the_version_and_follows_changes() -> None:
    poller = VersionPoller(interval=0.05)

    async def run() -> tuple[str | None, str | None]:
        await poller.start()
        first = snapshots.pinned_version()
        cache.set(snapshots.VERSION_KEY, "changed-elsewhere", None)
        deadline = time.monotonic() + 2
        while snapshots.pinned_version() != "changed-elsewhere" and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        second = snapshots.pinned_version()
        await poller.stop()
        return first, second

    stored = snapshots.stored_version()
    first, second = asyncio.run(run())
    assert first == stored
    assert second == "changed-elsewhere"
    assert snapshots.pinned_version() is None


def test_a_signer_waits_only_for_credentials_it_must_fetch() -> None:
    def explain(error: Exception) -> StorageError:
        return StorageError("test", str(error))

    fixed = SigV4Signer("http://127.0.0.1:9", "us-east-1", fixed_keys("AKIDEXAMPLE", "secret"), explain)
    assert not fixed.waits()

    def session(hours: float) -> RefreshableCredentials:
        return RefreshableCredentials(
            "ASIAEXAMPLE", "secret", "token", datetime.now(UTC) + timedelta(hours=hours), lambda: {}, "test"
        )

    assert not SigV4Signer("http://127.0.0.1:9", "us-east-1", session(2).get_frozen_credentials, explain).waits()
    assert SigV4Signer("http://127.0.0.1:9", "us-east-1", session(0.1).get_frozen_credentials, explain).waits()
    assert SigV4Signer("http://127.0.0.1:9", "us-east-1", lambda: fixed_keys("a", "b")(), explain).waits()
