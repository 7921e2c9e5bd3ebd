"""A worker killed with SIGKILL in the middle of a commit loses nothing.

A real Celery worker on Redis moves 2,000+ objects on ``rclone serve s3``; once some are moved and
many are not, it is killed with SIGKILL (no clean-up of any kind). The worker alone is the run
that planned the commit and moves its slices while it lists, so it dies holding claims and
half-recorded batches. A second worker then finishes the commit, through the slice tasks the
killed run handed off or through the resume task, whichever comes first, and every object must be
in the space exactly once, with its bytes, and gone from the loadingzone.
"""

from __future__ import annotations

import hashlib
import secrets
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from commits.models import Commit, CommitItem, CommitState, ItemState
from commits.starting import start_commit
from commits.tasks import resume_stalled_commits
from portal.audit.models import AuditEvent
from portal.tenancy.models import LOADINGZONE, Space
from tests.test_commits import Store, access_for_user, fresh_clients  # noqa: F401
from tests.test_commits import store as store

OBJECTS = 2100
# Small batches and few threads, so the commit lasts long enough to be killed in the middle.
SLOW = {"SPACEPORT_COMMIT_CONCURRENCY": "4", "SPACEPORT_COMMIT_BATCH_SIZE": "20"}


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def upload(bucket: Store, count: int) -> dict[str, str]:
    s3 = bucket.rclone.client()
    objects = {f"run-7/part-{n // 100:02d}/object-{n:05d}.dat": secrets.token_bytes(n % 700) for n in range(count)}

    def put(key: str) -> None:
        s3.put_object(Bucket=bucket.bucket, Key=f"spaceport/{LOADINGZONE}/{key}", Body=objects[key])

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, objects))
    return {key: md5(data) for key, data in objects.items()}


def contents(bucket: Store, space: str) -> dict[str, str]:
    """Every key under the space with the MD5 of its bytes, read back in full."""
    s3 = bucket.rclone.client()
    prefix = f"spaceport/{space}/"
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket.bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]
    assert len(keys) == len(set(keys))

    def read(key: str) -> tuple[str, str]:
        return key[len(prefix) :], md5(s3.get_object(Bucket=bucket.bucket, Key=key)["Body"].read())

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(pool.map(read, keys))


def moved(commit: Commit) -> int:
    return CommitItem.objects.filter(commit=commit, state__in=[ItemState.DONE, ItemState.SKIPPED]).count()


@pytest.mark.worker
def test_a_worker_killed_mid_commit_loses_nothing(worker_factory: Any, member: Any, space: Space, store: Store) -> None:
    uploaded = upload(store, OBJECTS)
    first = worker_factory(SLOW)
    commit = start_commit(access_for_user(member), space, root_dir="run-7", user=member)

    first.wait_for(lambda: moved(commit) >= 300, timeout=60, what="the first objects to move")
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    commit.refresh_from_db()
    done_at_kill = moved(commit)
    assert commit.state == CommitState.RUNNING
    assert done_at_kill < OBJECTS, "killed in the middle, not after the end"
    in_space = contents(store, "raw")
    assert set(in_space) <= set(uploaded)
    left = contents(store, LOADINGZONE)
    assert set(left) | set(in_space) == set(uploaded), "at the kill, every object is somewhere"

    second = worker_factory(SLOW)
    resume_stalled_commits.delay(stalled_after=0)

    def finished() -> bool:
        commit.refresh_from_db()
        return commit.state not in (CommitState.QUEUED, CommitState.RUNNING)

    second.wait_for(finished, timeout=90, what="the resumed commit to finish")
    assert commit.state == CommitState.SUCCEEDED, commit.error
    assert contents(store, "raw") == uploaded, "every object once, with its bytes, and nothing else"
    assert contents(store, LOADINGZONE) == {}
    assert commit.total == OBJECTS
    assert commit.moved + commit.skipped == OBJECTS
    assert commit.failed == commit.conflicts == 0
    assert commit.bytes_total == sum(n % 700 for n in range(OBJECTS))
    assert CommitItem.objects.filter(commit=commit).count() == OBJECTS
    assert AuditEvent.objects.filter(action="commit.finish", target_id=str(commit.pk)).count() == 1
