"""A run's batches in flight: decide, record ``copying``, copy in a pool, record, delete sources.

The database is written only from the run's own thread, and every step is recorded before the
next side effect starts, which is what lets any later run take the same decision after a crash
(see :mod:`commits.engine`). The engine's slice tasks and the planner that moves slices while it
lists both drive one :class:`Pipeline`.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

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
    removal: Future[list[Outcome]] | None = None

    def ready(self) -> bool:
        """Whether its current step has finished, so advancing it will not wait."""
        return self.removal.done() if self.removal is not None else all(copy.done() for copy in self.copies)


class Pipeline:
    """Batches of one run in flight; the database is written only from the run's own thread.

    Every step is recorded before the next side effect starts: ``copying`` before a copy,
    the copy's outcome (``verified``) before its source is removed.
    """

    def __init__(self, commit: Commit, route: Route, pool: ThreadPoolExecutor, removers: ThreadPoolExecutor) -> None:
        self.commit = commit
        self.route = route
        self.pool = pool
        self.removers = removers
        self.batches: deque[InFlight] = deque()
        self.counted = time.monotonic()

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
            batch.copies.append(self.pool.submit(moving.copy, self.route, batch.by_pk[pk], sources[pk]))
        self.batches.append(batch)
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
        """Move finished batches along; wait only while more than ``keep`` are in flight."""
        while self.batches and (len(self.batches) > keep or self.batches[0].ready()):
            batch = self.batches[0]
            if batch.removal is None:
                _record(batch.by_pk, [copy.result() for copy in batch.copies])
                verified = [item for item in batch.by_pk.values() if item.state == ItemState.VERIFIED]
                batch.removal = self.removers.submit(moving.remove_sources, self.route, verified)
                continue
            _record(batch.by_pk, batch.removal.result())
            self.batches.popleft()
        if time.monotonic() - self.counted > RECOUNT_SECONDS:
            recount(self.commit)
            self.counted = time.monotonic()


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
