"""The run that plans a commit moves the slices it hands off, unless another process claimed them.

The commit runs in the test's own process through ``engine.run`` with a hand-off that records the
slices instead of queueing tasks; a second PostgreSQL connection stands in for another worker
holding a slice's claim. Claims are PostgreSQL advisory locks, so these tests run on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from commits import engine, slices
from commits.models import Commit, CommitItem, CommitState, ItemState
from commits.slices import Slice
from commits.starting import start_commit
from portal.tenancy.models import LOADINGZONE, Space
from tests.test_commits import Store, access_for_user, fresh_clients  # noqa: F401
from tests.test_commits import other_worker as other_worker
from tests.test_commits import store as store

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def small_pieces(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Listing pages of 10, slices of 5, batches of 5."""
    monkeypatch.setattr(engine, "PLAN_BATCH", 10)
    settings.SPACEPORT_COMMIT_SLICE_SIZE = 5
    settings.SPACEPORT_COMMIT_BATCH_SIZE = 5


def seed(store: Store, count: int) -> dict[str, bytes]:
    objects = {f"planned/{n:02d}.txt": f"object {n}".encode() for n in range(count)}
    for key, data in objects.items():
        store.put(LOADINGZONE, key, data)
    return objects


def item_pks(commit: Commit) -> set[int]:
    return set(CommitItem.objects.filter(commit=commit).values_list("pk", flat=True))


def covered(pieces: list[Slice]) -> list[int]:
    """Every item primary key in the slices, with repeats where slices overlap."""
    return [pk for piece in pieces for pk in range(piece.after + 1, piece.upto + 1)]


@pytest.mark.usefixtures("small_pieces")
def test_the_planning_run_moves_every_slice_it_hands_off(member: Any, space: Space, store: Store) -> None:
    objects = seed(store, 27)
    commit = start_commit(access_for_user(member), space, root_dir="planned", user=member)
    handed: list[Slice] = []

    assert engine.run(commit.pk, hand_off=handed.extend) == "finished", "settled by the run itself"

    commit.refresh_from_db()
    assert commit.state == CommitState.SUCCEEDED
    assert (commit.total, commit.moved, commit.failed) == (27, 27, 0)
    assert store.keys("raw") == objects
    assert store.keys(LOADINGZONE) == {}
    pks = item_pks(commit)
    inside = [pk for pk in covered(handed) if pk in pks]
    assert sorted(inside) == sorted(pks), "every item handed off in exactly one slice"
    assert len(handed) == 6, "27 items in slices of 5"
    assert all(engine.move_slice(piece) == "gone" for piece in handed), "their tasks find the commit ended"


@pytest.mark.usefixtures("small_pieces")
def test_a_slice_another_worker_claimed_is_left_to_it(
    member: Any, space: Space, store: Store, other_worker: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = seed(store, 27)
    commit = start_commit(access_for_user(member), space, root_dir="planned", user=member)
    handed: list[Slice] = []

    def hand_off(pieces: list[Slice]) -> None:
        if not handed:  # the other worker takes the first slice the moment it is queued
            other_worker.execute("SELECT pg_advisory_lock(%s)", [slices._key(pieces[0])])
        handed.extend(pieces)

    assert engine.run(commit.pk, hand_off=hand_off) == "moving", "the claimed slice is still open"

    held = handed[0]
    still_open = CommitItem.objects.filter(commit=commit).exclude(state__in=[ItemState.DONE])
    assert sorted(still_open.values_list("pk", flat=True)) == sorted(
        pk for pk in item_pks(commit) if held.after < pk <= held.upto
    ), "only the claimed slice's items wait"
    assert set(still_open.values_list("state", flat=True)) == {ItemState.PENDING}

    monkeypatch.setattr(slices, "CLAIM_WAIT_SECONDS", 0.2)
    assert engine.move_slice(held) == "taken", "its own task leaves it to the holder"
    other_worker.execute("SELECT pg_advisory_unlock(%s)", [slices._key(held)])
    assert engine.move_slice(held) == "finished", "once let go, the slice's task moves it and settles"

    commit.refresh_from_db()
    assert commit.state == CommitState.SUCCEEDED
    assert (commit.total, commit.moved) == (27, 27)
    assert store.keys("raw") == objects
    assert store.keys(LOADINGZONE) == {}


@pytest.mark.usefixtures("small_pieces")
def test_without_planner_moves_the_run_only_hands_off(member: Any, space: Space, store: Store, settings: Any) -> None:
    settings.SPACEPORT_COMMIT_PLANNER_MOVES = False
    seed(store, 12)
    commit = start_commit(access_for_user(member), space, root_dir="planned", user=member)
    handed: list[Slice] = []

    assert engine.run(commit.pk, hand_off=handed.extend) == "moving"

    assert set(CommitItem.objects.filter(commit=commit).values_list("state", flat=True)) == {ItemState.PENDING}
    assert [engine.move_slice(piece) for piece in handed] == ["moved", "moved", "finished"]
    commit.refresh_from_db()
    assert (commit.state, commit.moved) == (CommitState.SUCCEEDED, 12)
