"""A run's batches in flight: decide, record ``copying``, copy in a pool, record, delete sources.

The database is written only from the run's own thread, and every step is recorded before the
next side effect starts, which is what lets any later run take the same decision after a crash
(see :mod:`commits.engine`). The engine's slice tasks and the planner that moves slices while it
lists both drive one :class:`Pipeline`.

Large objects are copied in a lane of their own beside the small ones. A server-side copy of a
large object is bound by the store's bandwidth and a small one by its round trip; in one pool, a
batch's few large copies take every thread for seconds while the small ones wait behind them (on
``make bench-commit`` the copies all but stopped for 3 s while 20 objects of 32 MiB went through).
Batches are recorded in the order they finish, so a batch waiting for its large copies holds up
no other.
"""

from __future__ import annotations

import queue
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from commits import moving
from commits.models import OPEN_ITEM_STATES, Commit, CommitItem, ItemState
from commits.moving import COPY, Outcome, Planned, Route

# Batches in flight at once, threads deleting sources, and how often progress is counted.
PIPELINE_DEPTH = 3
REMOVERS = 2
RECOUNT_SECONDS = 0.5
# From this size an object's copy takes the large lane, which has a quarter of the small lane's threads.
LARGE_OBJECT_BYTES = 8 * 1024 * 1024
LARGE_LANE_SHARE = 4


def open_items(commit: Commit, after: int, upto: int, size: int, attempts: int) -> list[Planned]:
    rows = (
        CommitItem.objects.filter(
            commit=commit, state__in=OPEN_ITEM_STATES, attempts__lt=attempts, pk__gt=after, pk__lte=upto
        )
        .order_by("pk")
        .values_list("pk", "key", "state", "size", "checksum", "copied", "attempts", "etag")[:size]
    )
    return [Planned(*row) for row in rows]


@dataclass
class InFlight:
    """A batch on its way: the items as recorded, its copies, then the removal of its sources."""

    by_pk: dict[int, Planned]
    tag: object = None
    copies: list[Future[Outcome]] = field(default_factory=list)
    copying: int = 0
    removal: Future[list[Outcome]] | None = None


class Pipeline:
    """Batches of one run in flight; the database is written only from the run's own thread.

    Every step is recorded before the next side effect starts: ``copying`` before a copy,
    the copy's outcome (``verified``) before its source is removed. Each finished copy or removal
    names its batch on a queue, so the run's thread wakes for exactly what finished. Used as a
    context manager, which owns the threads: ``SPACEPORT_COMMIT_CONCURRENCY`` for small copies
    (and the looks before them), a quarter as many for large copies, and two for deleting sources.
    """

    def __init__(self, commit: Commit, route: Route) -> None:
        self.commit = commit
        self.route = route
        concurrency = settings.SPACEPORT_COMMIT_CONCURRENCY
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="commit-copy")
        self.large = ThreadPoolExecutor(
            max_workers=max(1, concurrency // LARGE_LANE_SHARE), thread_name_prefix="commit-copy-large"
        )
        self.removers = ThreadPoolExecutor(max_workers=REMOVERS, thread_name_prefix="commit-remove")
        self.batches: list[InFlight] = []
        self.finished: queue.SimpleQueue[InFlight] = queue.SimpleQueue()
        self.counted = time.monotonic()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for pool in (self.pool, self.large, self.removers):
            pool.shutdown(wait=True)

    def start(self, items: list[Planned], tag: object = None) -> None:
        """Decide each item, record ``copying`` for those to copy, start their copies, move the rest along.

        ``tag`` names what the batch belongs to (a slice), for :meth:`in_flight`."""
        batch = InFlight({item.pk: item for item in items}, tag)
        decided = [moving.planned_copy(self.route, item) for item in items]
        undecided = [item for item, outcome in zip(items, decided, strict=True) if outcome is None]
        looked = list(self.pool.map(lambda item: moving.inspect(self.route, item, self.commit.overwrite), undecided))
        outcomes = [outcome for outcome in decided if outcome is not None] + looked
        to_copy = [outcome for outcome in outcomes if outcome.state == COPY]
        _record(batch.by_pk, [outcome for outcome in outcomes if outcome.state != COPY])
        sources = {outcome.pk: outcome.source for outcome in to_copy if outcome.source is not None}
        for pk in _mark_copying(batch.by_pk, [outcome.pk for outcome in to_copy]):
            source = sources[pk]
            lane = self.large if source.size >= LARGE_OBJECT_BYTES else self.pool
            batch.copies.append(lane.submit(moving.copy, self.route, batch.by_pk[pk], source))
        self.batches.append(batch)
        # One report per copy; a batch with nothing to copy reports once, so it is recorded too.
        batch.copying = max(1, len(batch.copies))
        for copy in batch.copies:
            copy.add_done_callback(self._reporter(batch))
        if not batch.copies:
            self.finished.put(batch)
        self.advance(PIPELINE_DEPTH)

    def in_flight(self) -> set[object]:
        """The tags of the batches not yet recorded to the end."""
        return {batch.tag for batch in self.batches}

    def drain(self) -> None:
        """Wait for every batch in flight and record it."""
        self.advance(0)
        recount(self.commit)
        self.counted = time.monotonic()

    def advance(self, keep: int) -> None:
        """Move finished batches along, in the order they finish; wait only while more than
        ``keep`` are in flight (each of them has a copy or removal still running, which will
        report)."""
        while self.batches:
            try:
                batch = self.finished.get(block=len(self.batches) > keep)
            except queue.Empty:
                break
            self._step(batch)
        if time.monotonic() - self.counted > RECOUNT_SECONDS:
            recount(self.commit)
            self.counted = time.monotonic()

    def _reporter(self, batch: InFlight) -> Callable[[Future[Any]], None]:
        """A done callback that names ``batch`` on the queue the run's thread waits on."""
        return lambda _: self.finished.put(batch)

    def _step(self, batch: InFlight) -> None:
        """Take one report: a copy finished (the last one records the copies and starts removing
        the sources), or the removal finished (recorded, the batch leaves the pipeline)."""
        if batch.removal is None:
            batch.copying -= 1
            if batch.copying > 0:
                return
            _record(batch.by_pk, [copy.result() for copy in batch.copies])
            verified = [item for item in batch.by_pk.values() if item.state == ItemState.VERIFIED]
            batch.removal = self.removers.submit(moving.remove_sources, self.route, verified)
            batch.removal.add_done_callback(self._reporter(batch))
            return
        _record(batch.by_pk, batch.removal.result())
        self.batches.remove(batch)


def _mark_copying(by_pk: dict[int, Planned], pks: list[int]) -> list[int]:
    """Record ``copying`` before any copy starts; only items still in the state we read are copied."""
    mine: list[int] = []
    for state in {by_pk[pk].state for pk in pks}:
        group = [pk for pk in pks if by_pk[pk].state == state]
        with transaction.atomic():
            locked = list(
                CommitItem.objects.select_for_update().filter(pk__in=group, state=state).values_list("pk", flat=True)
            )
            CommitItem.objects.filter(pk__in=locked).update(state=ItemState.COPYING)
        mine.extend(locked)
    for pk in mine:
        by_pk[pk] = _with(by_pk[pk], ItemState.COPYING, by_pk[pk].copied)
    return mine


def _with(item: Planned, state: str, copied: bool) -> Planned:
    return replace(item, state=state, copied=copied)


def _record(by_pk: dict[int, Planned], outcomes: list[Outcome]) -> None:
    """Write outcomes, each conditional on the state the item was read in; in memory only what was written."""
    limit = settings.SPACEPORT_COMMIT_ITEM_ATTEMPTS
    plain: dict[tuple[str, str, bool], list[int]] = defaultdict(list)
    for outcome in outcomes:
        item = by_pk[outcome.pk]
        if outcome.error:
            state = ItemState.PENDING if outcome.transient and item.attempts_left(limit) else outcome.state
            written = CommitItem.objects.filter(pk=item.pk, state=item.state).update(
                state=state, error=outcome.error, attempts=F("attempts") + 1
            )
            if written:
                by_pk[item.pk] = replace(item, state=state, attempts=item.attempts + 1)
            continue
        plain[(item.state, outcome.state, outcome.copied)].append(item.pk)
    for (before, after, copied), pks in plain.items():
        with transaction.atomic():
            locked = list(
                CommitItem.objects.select_for_update().filter(pk__in=pks, state=before).values_list("pk", flat=True)
            )
            CommitItem.objects.filter(pk__in=locked).update(state=after, copied=copied, error="")
        for pk in locked:
            by_pk[pk] = _with(by_pk[pk], after, copied)


def recount(commit: Commit) -> None:
    """Counts from the items themselves, so a crash can never leave them off by a batch."""
    rows = CommitItem.objects.filter(commit=commit).values("state").annotate(n=Count("id"), b=Sum("size"))
    counts = {row["state"]: (row["n"], row["b"] or 0) for row in rows}
    fields = {
        "total": sum(n for n, _ in counts.values()),
        "bytes_total": sum(b for _, b in counts.values()),
        "moved": counts.get(ItemState.DONE, (0, 0))[0],
        "bytes_moved": counts.get(ItemState.DONE, (0, 0))[1],
        "skipped": counts.get(ItemState.SKIPPED, (0, 0))[0],
        "failed": counts.get(ItemState.FAILED, (0, 0))[0],
        "conflicts": counts.get(ItemState.CONFLICT, (0, 0))[0],
        "heartbeat": timezone.now(),
    }
    Commit.objects.filter(pk=commit.pk).update(**fields)
    for name, value in fields.items():
        setattr(commit, name, value)
