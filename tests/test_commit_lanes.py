"""Large copies take a lane of their own, and batches are recorded in the order they finish.

A commit's large objects are copied beside its small ones instead of in front of them: while the
large copies are held back, every small object outside their batch must still be copied, recorded
and removed from the loadingzone. The store is a real ``rclone serve s3``; the only stand-in is a
wrapper around the engine's copy and removal functions, which holds the large copies until the
small objects are removed (and fails them if that never happens).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from commits import engine, moving, pipeline
from commits.models import CommitState
from commits.moving import Outcome, Planned, Route
from commits.starting import start_commit
from connections.storage import StoredObject
from portal.tenancy.models import LOADINGZONE, Space
from tests.test_commits import Store, access_for_user, fresh_clients  # noqa: F401
from tests.test_commits import store as store

pytestmark = pytest.mark.django_db(transaction=True)

HOLD_SECONDS = 20


def test_small_objects_move_while_the_large_copies_are_held(
    member: Any, space: Space, store: Store, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Four threads for small copies, one for large ones; batches of five. The first batch holds
    # the four large objects and one small one, so in one shared pool of four threads the large
    # copies would take every thread, and recorded in order the first batch would hold up the rest.
    settings.SPACEPORT_COMMIT_CONCURRENCY = 4
    settings.SPACEPORT_COMMIT_BATCH_SIZE = 5
    monkeypatch.setattr(pipeline, "LARGE_OBJECT_BYTES", 2048)
    large = {f"lanes/a-large-{n}.bin": bytes([n]) * 4096 for n in range(4)}
    small = {f"lanes/small-{n:02d}.txt": f"small {n}".encode() for n in range(10)}
    for key, data in {**large, **small}.items():
        store.put(LOADINGZONE, key, data)
    outside_first_batch = {key.removeprefix("lanes/") for key in sorted(small)[1:]}
    removed: set[str] = set()
    small_removed = threading.Event()
    lock = threading.Lock()
    copy, remove_sources = moving.copy, moving.remove_sources
    held_while: list[int] = []

    def held_copy(route: Route, item: Planned, source: StoredObject) -> Outcome:
        if item.size >= pipeline.LARGE_OBJECT_BYTES:
            held_while.append(threading.active_count())
            if not small_removed.wait(HOLD_SECONDS):
                raise AssertionError("the small objects were never removed while a large copy waited")
        return copy(route, item, source)

    def noted_removal(route: Route, items: list[Planned]) -> list[Outcome]:
        outcomes = remove_sources(route, items)
        with lock:
            removed.update(item.key for item in items)
            if outside_first_batch <= removed:
                small_removed.set()
        return outcomes

    monkeypatch.setattr(moving, "copy", held_copy)
    monkeypatch.setattr(moving, "remove_sources", noted_removal)
    commit = start_commit(access_for_user(member), space, root_dir="lanes", user=member)

    assert engine.run(commit.pk) == "finished"

    commit.refresh_from_db()
    assert commit.state == CommitState.SUCCEEDED, commit.error
    assert (commit.total, commit.moved, commit.failed) == (14, 14, 0)
    assert small_removed.is_set()
    assert len(held_while) == 4, "every large copy went through the held lane"
    assert store.keys("raw") == {**large, **small}
    assert store.keys(LOADINGZONE) == {}
