"""A slice of a commit, and the claim that lets one process at a time move it.

Slices are moved by their own tasks and, while it lists, by the run that planned them (newest
first, see :mod:`commits.mover`). Moving one slice twice at once is safe, since every state change
is conditional on the state it was read in, but it copies objects twice; so whoever moves a slice
first claims it. On PostgreSQL the claim is a session advisory lock, which the server drops the
moment a killed worker's connection closes, so a redelivered or resumed slice is never left
waiting on a dead claim. Elsewhere (SQLite, the quick start's single worker) nothing moves a
slice but its task, and every claim succeeds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import DatabaseError
from django.db import connection as db

# One bigint key per slice: the class above bit 40, the slice's last item's primary key below it.
# Read as PostgreSQL's two-int form, this is class 0x5C300 and up, apart from the engine's 0x5C0.
CLAIM_CLASS = 0x5C3
# How long a slice task waits for a claim held elsewhere: long enough for PostgreSQL to notice the
# closed connection of a killed worker, short enough not to hold up a worker whose slice the
# planner is moving.
CLAIM_WAIT_SECONDS = 2.0
CLAIM_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Slice:
    """A share of one commit's items that one task moves: primary keys in ``(after, upto]``.

    Slices are cut from the plan in primary-key order, so those of one run never overlap; running one
    again, or twice at once, is safe (every state change is conditional on the state it was read in),
    which is what lets the broker redeliver a slice whose worker was lost. ``space_was_empty``: the
    space held nothing under the root directory when the run began, so an item still pending and
    never copied is copied without first asking the space whether it holds the key.
    """

    commit_id: int
    after: int
    upto: int
    space_was_empty: bool


HandOff = Callable[[list[Slice]], None]


def claims_are_kept() -> bool:
    """Whether claims mean anything here: only PostgreSQL keeps them across processes."""
    return db.vendor == "postgresql"


def _key(piece: Slice) -> int:
    return (CLAIM_CLASS << 40) | piece.upto


def try_claim(piece: Slice) -> bool:
    """Claim the slice for this process now, or answer False when another holds it."""
    if not claims_are_kept():
        return True
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_key(piece)])
        return bool(cursor.fetchone()[0])


def release(piece: Slice) -> None:
    """Let the slice go; a connection already lost has let it go with everything else it held."""
    if not claims_are_kept():
        return
    try:
        with db.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_key(piece)])
    except DatabaseError:
        pass


@contextmanager
def claimed(piece: Slice) -> Iterator[bool]:
    """Hold the slice's claim for the block, waiting up to ``CLAIM_WAIT_SECONDS`` for another to let it go."""
    deadline = time.monotonic() + CLAIM_WAIT_SECONDS
    mine = try_claim(piece)
    while not mine and time.monotonic() < deadline:
        time.sleep(CLAIM_POLL_SECONDS)
        mine = try_claim(piece)
    try:
        yield mine
    finally:
        if mine:
            release(piece)
