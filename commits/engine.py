"""Running a commit: plan, cut into slices any worker moves in batches, finish once.

Crash safety rests on three rules. Each item's state is written before and after every side
effect (``copying`` before the copy, ``verified`` before the delete), so whatever a killed worker
left behind, a new run takes the same decision from the storage and the recorded state. A source
is deleted only for items recorded as ``verified``. Every state change is conditional on the state
it was read in, so slices moved at once by several workers, or one slice moved twice (a
redelivered task and a resumed one), cannot undo each other's work; on PostgreSQL an advisory lock
lets only one run plan a commit at a time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.db import connection as db
from django.db import transaction
from django.db.models import F, Q
from django.dispatch import Signal
from django.utils import timezone

from accessgrants.access import connection_of
from commits.listing import listed
from commits.models import ACTIVE_STATES, OPEN_ITEM_STATES, Commit, CommitItem, CommitState, ItemState
from commits.mover import list_and_move
from commits.moving import Route
from commits.pipeline import Pipeline, open_items, recount
from commits.planning import record_listed
from commits.slices import HandOff, Slice, claimed, claims_are_kept
from connections.storage import StorageError, StoredObject, client_for, location_for
from portal.audit.models import AuditEvent
from portal.audit.trail import record
from portal.core.errors import DomainError
from portal.tenancy.models import LOADINGZONE

logger = logging.getLogger(__name__)

LOCK_CLASS = 0x5C0

finished = Signal()
"""Sent with ``commit=`` inside the transaction that settles a commit (its webhook answers it)."""
PLAN_BATCH = 1000
MAX_RUNS = 20
NOTHING_TO_COMMIT = "There was nothing to commit under the root directory."


class TransientCommitError(Exception):
    """The storage could not be reached for now; the task retries with backoff."""


@contextmanager
def runner_lock(commit_id: int) -> Iterator[bool]:
    """Whether this process may run the commit now; released by PostgreSQL if the worker dies."""
    if db.vendor != "postgresql":
        yield True
        return
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_CLASS, commit_id])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with db.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_CLASS, commit_id])


def run(commit_id: int, *, deadline: float | None = None, hand_off: HandOff | None = None) -> str:
    """Plan (or resume) one commit and move it a slice at a time, or hand its slices to ``hand_off``.

    Without ``hand_off`` every slice is moved here and the commit finished. With it, slices go to
    other workers as the listing produces them (moving starts with the first page), and whichever
    of them ends last settles the commit; where slices can be claimed across processes
    (PostgreSQL, see :mod:`commits.mover`) this run also moves the slices no one has taken yet
    while it lists. Answers ``finished``, ``moving`` (handed off), ``more`` (``deadline``,
    monotonic, passed: call again), ``busy`` (another run holds it) or ``gone``.
    """
    with runner_lock(commit_id) as acquired:
        if not acquired:
            return "busy"
        commit = _claim(commit_id)
        if commit is None:
            return "gone"
        try:
            route = _route(commit)
            space_was_empty = _space_is_empty(route)
            if hand_off is not None and _planner_moves():
                if not list_and_move(
                    commit,
                    _slice_route(route, space_was_empty),
                    lambda listed: _slices(listed, route, space_was_empty),
                    hand_off,
                    deadline,
                ):
                    return "more"
                return "finished" if settle(commit) else "moving"
            for pieces in _slices(commit, route, space_was_empty):
                if deadline is not None and time.monotonic() > deadline:
                    return "more"
                if hand_off is not None:
                    hand_off(pieces)
                    continue
                for piece in pieces:
                    if not _work(commit, _slice_route(route, piece.space_was_empty), piece, deadline):
                        return "more"
            if hand_off is not None:
                return "finished" if settle(commit) else "moving"
            if not commit.total:
                _finish(commit, error=NOTHING_TO_COMMIT)
                return "finished"
        except (StorageError, DomainError) as exc:
            return _end_on_error(commit, exc)
        _finish(commit)
        return "finished"


def move_slice(piece: Slice, *, deadline: float | None = None) -> str:
    """Move one slice of a commit others may be moving at the same time; settle the commit if it was the last.

    Answers ``finished`` (the commit settled), ``moved`` (other slices remain), ``more``
    (``deadline`` passed: run it again), ``taken`` (another process holds the slice's claim and
    moves it) or ``gone`` (the commit is no longer active).
    """
    commit = (
        Commit.objects.select_related("organization", "space", "user")
        .filter(pk=piece.commit_id, state__in=ACTIVE_STATES)
        .first()
    )
    if commit is None:
        return "gone"
    with claimed(piece) as mine:
        if not mine:
            return "taken"
        try:
            if not _work(commit, _slice_route(_route(commit), piece.space_was_empty), piece, deadline):
                return "more"
        except (StorageError, DomainError) as exc:
            return _end_on_error(commit, exc)
    return "finished" if settle(commit) else "moved"


def _planner_moves() -> bool:
    """Whether the planning run moves slices too: it needs claims other processes see, and a
    connection of its own for the listing thread (none inside a caller's transaction)."""
    return settings.SPACEPORT_COMMIT_PLANNER_MOVES and claims_are_kept() and not db.in_atomic_block


def _end_on_error(commit: Commit, exc: StorageError | DomainError) -> str:
    """Settle the commit with the error a user can act on, or hand a transient storage failure back
    to the task so it retries with backoff; planning and moving a slice end the same way."""
    if isinstance(exc, StorageError):
        if exc.transient:
            raise TransientCommitError(exc.message) from exc
        _finish(commit, error=f"{exc.message} {exc.hint}".strip())
    else:
        _finish(commit, error=exc.message)
    return "finished"


def settle(commit: Commit) -> bool:
    """Finish the commit once nothing is left to move: listed to the end, and no item open that may
    still be tried. Every slice asks when it ends, and so does the run that planned; whichever
    asks last finds the answer yes, and the conditional update in ``_finish`` records it once."""
    limit = settings.SPACEPORT_COMMIT_ITEM_ATTEMPTS
    if not Commit.objects.filter(pk=commit.pk, planned=True, state__in=ACTIVE_STATES).exists():
        return False
    if CommitItem.objects.filter(commit=commit, state__in=OPEN_ITEM_STATES, attempts__lt=limit).exists():
        return False
    recount(commit)
    _finish(commit, error="" if commit.total else NOTHING_TO_COMMIT)
    return True


def give_up(commit_id: int, error: str) -> None:
    """Finish a commit that cannot go on (retries spent): open items fail, sources stay."""
    commit = Commit.objects.select_related("organization", "space", "user").filter(pk=commit_id).first()
    if commit is not None and commit.state in ACTIVE_STATES:
        _finish(commit, error=error)


def _claim(commit_id: int) -> Commit | None:
    now = timezone.now()
    claimed = Commit.objects.filter(pk=commit_id, state__in=ACTIVE_STATES).update(
        state=CommitState.RUNNING, heartbeat=now, runs=F("runs") + 1
    )
    if not claimed:
        return None
    Commit.objects.filter(pk=commit_id, started__isnull=True).update(started=now)
    return Commit.objects.select_related("organization", "space", "user").get(pk=commit_id)


def _route(commit: Commit) -> Route:
    connection = connection_of(commit.space)
    return Route(
        client=client_for(connection),
        source=location_for(connection, LOADINGZONE),
        target=location_for(connection, commit.space.name),
        root_dir=commit.root_dir,
    )


def _plan(commit: Commit, route: Route) -> Iterator[None]:
    """List the root directory into items, a page at a time, so moving starts with the first page
    (its folders are listed side by side, :mod:`commits.listing`).

    Yields after each page is recorded. Listing again after a crash adds only what is missing;
    the commit counts as planned once the listing went through to the end.
    """
    if commit.planned:
        return
    started = time.monotonic()
    start = len(route.source.key(route.root_dir + "/"))
    batch: list[StoredObject] = []
    listing = listed(route.client, route.source, route.root_dir + "/")
    while True:
        try:
            stored = next(listing, None)
        except Exception as exc:
            raise route.client.explain(exc) from exc
        if stored is not None:
            batch.append(stored)
        if len(batch) >= PLAN_BATCH or (stored is None and batch):
            record_listed(commit, batch, start)
            Commit.objects.filter(pk=commit.pk).update(heartbeat=timezone.now())
            batch = []
            yield
        if stored is None:
            break
    Commit.objects.filter(pk=commit.pk).update(planned=True)
    commit.planned = True
    recount(commit)
    logger.info("commit %s planned %s objects in %.1f s", commit.pk, commit.total, time.monotonic() - started)


def _slices(commit: Commit, route: Route, space_was_empty: bool) -> Iterator[list[Slice]]:
    """The run's slices: first what earlier runs planned and left open, then each listing page's
    as it is recorded (an empty list when a page did not fill a slice yet, so the caller can stop).

    Items recorded later have higher primary keys (one planning run per commit at a time), so a
    cursor on the primary key cuts each open item into exactly one slice of this run.
    """
    size = settings.SPACEPORT_COMMIT_SLICE_SIZE
    limit = settings.SPACEPORT_COMMIT_ITEM_ATTEMPTS
    cursor = 0

    def cut(whole_only: bool) -> list[Slice]:
        nonlocal cursor
        pieces: list[Slice] = []
        while True:
            pks = list(
                CommitItem.objects.filter(commit=commit, state__in=OPEN_ITEM_STATES, attempts__lt=limit, pk__gt=cursor)
                .order_by("pk")
                .values_list("pk", flat=True)[:size]
            )
            if not pks or (whole_only and len(pks) < size):
                return pieces
            pieces.append(Slice(commit.pk, cursor, pks[-1], space_was_empty))
            cursor = pks[-1]

    left_open = cut(whole_only=False)
    if left_open:
        yield left_open
    for _ in _plan(commit, route):
        yield cut(whole_only=True)
    yield cut(whole_only=False)


def _work(commit: Commit, route: Route, piece: Slice, deadline: float | None) -> bool:
    """Move a slice's open items; False when the deadline stopped it before the end.

    Batches flow through a pipeline: while the copies of a few batches run in the pool, the next
    is inspected and started, and finished ones are recorded and their sources deleted (in a pool
    of their own). The slowest copies of a batch (its large objects) and the database work between
    batches then no longer leave the pool idle.
    """
    attempts = settings.SPACEPORT_COMMIT_ITEM_ATTEMPTS
    size = settings.SPACEPORT_COMMIT_BATCH_SIZE
    with Pipeline(commit, route) as pipeline:
        for attempt in range(attempts):
            cursor = piece.after
            while items := open_items(commit, cursor, piece.upto, size, attempts):
                if deadline is not None and time.monotonic() > deadline:
                    pipeline.drain()
                    return False
                cursor = items[-1].pk
                pipeline.start(items)
            pipeline.drain()
            if not open_items(commit, piece.after, piece.upto, 1, attempts):
                return True
            # Not a Celery retry: only the items that failed get another pass, inside this slice and
            # its deadline, after a pause that doubles up to 30 s; the task is retried only when the
            # storage as a whole is unreachable.
            time.sleep(min(2**attempt, 30))
    return True


def _slice_route(route: Route, space_was_empty: bool) -> Route:
    """The route as a run's slices see it: a space empty when the run began needs no look before a
    first copy; otherwise each copy is decided from what the space holds."""
    return replace(route, existing={} if space_was_empty else None)


def _space_is_empty(route: Route) -> bool:
    """Whether the space holds nothing under the root directory, asked once per run.

    A space whose storage is missing (an Azure container not created yet) gets it now, where the
    connection may create it; otherwise the error says what to create.
    """
    try:
        return _nothing_under(route)
    except StorageError as exc:
        if exc.code != "no_such_container":
            raise
        try:
            route.client.prepare_space(route.target)
        except StorageError:
            raise exc from None
        return _nothing_under(route)


def _nothing_under(route: Route) -> bool:
    try:
        return not any(True for _ in route.client.list_objects(route.target, route.root_dir + "/", limit=1))
    except Exception as exc:
        raise route.client.explain(exc) from exc


def final_state(commit: Commit) -> str:
    if commit.total and not (commit.failed or commit.conflicts):
        return CommitState.SUCCEEDED
    if commit.moved or commit.skipped:
        return CommitState.PARTIALLY_FAILED
    return CommitState.FAILED


def _finish(commit: Commit, error: str = "") -> None:
    """Settle the commit once: whichever run gets here first records the end, audits and notifies."""
    CommitItem.objects.filter(commit=commit, state__in=OPEN_ITEM_STATES).update(
        state=ItemState.FAILED,
        error=error or "Gave up after repeated failures; the source is kept in the loadingzone.",
    )
    recount(commit)
    state = final_state(commit)
    if not error and state != CommitState.SUCCEEDED:
        error = _summary(commit)
    with transaction.atomic():
        settled = Commit.objects.filter(pk=commit.pk, state__in=ACTIVE_STATES).update(
            state=state, finished=timezone.now(), error=error[:4000]
        )
        if not settled:
            return
        commit.state, commit.error, commit.finished = state, error, timezone.now()
        record(
            "commit.finish",
            commit,
            actor=commit.user,
            outcome=AuditEvent.Outcome.SUCCESS if state == CommitState.SUCCEEDED else AuditEvent.Outcome.FAILURE,
            details={"space": commit.space.name, "root_dir": commit.root_dir, "state": state, **commit.counts},
        )
        finished.send(sender=Commit, commit=commit)
    logger.info("commit %s finished: %s %s", commit.pk, state, commit.counts)


def _summary(commit: Commit) -> str:
    parts = []
    if commit.conflicts:
        parts.append(f"{commit.conflicts} already existed in the space with different content")
    if commit.failed:
        parts.append(f"{commit.failed} could not be moved")
    return ("; ".join(parts) + ". Their sources are kept in the loadingzone.") if parts else ""


def stalled(older_than: timedelta) -> list[int]:
    """Commits no worker has made progress on for ``older_than``: a killed worker's, most likely."""
    cutoff = timezone.now() - older_than
    return list(
        Commit.objects.filter(
            Q(state=CommitState.RUNNING, heartbeat__lt=cutoff) | Q(state=CommitState.QUEUED, created__lt=cutoff)
        ).values_list("pk", flat=True)
    )
