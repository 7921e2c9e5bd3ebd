"""The planning run moves slices itself while it lists, through one pipeline.

A run that planned a commit and only handed its slices to the fleet would leave its own worker
idle while it lists, and a worker moving slice after slice as separate tasks drains its copies at
the end of each (a slice holding a few large objects keeps most of the pool waiting). So the run
lists in a thread of its own and, on its own thread, moves the slices it has handed off, newest
first, claiming each (:mod:`commits.slices`): slice tasks take the oldest first from the queue, so
the two rarely meet, and a task that finds its slice moved finds nothing left open in it. Every
slice is still handed to the fleet, so another worker takes what this one has not reached, and
a killed planner loses nothing: its claims go with its connection, and its slices' tasks (or the
resume) move what it left.

Items that failed for a passing reason are left to their slice's task, which tries them again
with a pause in between; the run itself tries each item once.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import connection as db

from commits.models import Commit
from commits.moving import Route
from commits.pipeline import Pipeline, open_items
from commits.slices import HandOff, Slice, release, try_claim

# What the listing thread sends: slices cut from a page, the end of the listing, or its failure.
Listed = list[Slice] | BaseException | None
WAIT_FOR_LISTING_SECONDS = 1.0


class SliceMover:
    """Moves claimed slices through one pipeline; a claim is let go once its batches are all recorded."""

    def __init__(self, commit: Commit, route: Route, pipeline: Pipeline) -> None:
        self.commit = commit
        self.route = route
        self.pipeline = pipeline
        self.offered: list[Slice] = []
        self.current: Slice | None = None
        self.cursor = 0
        self.held: list[Slice] = []

    def offer(self, pieces: list[Slice]) -> None:
        self.offered.extend(pieces)

    def step(self) -> bool:
        """Start the next batch of a claimed slice; False when there is no slice left to claim."""
        size = settings.SPACEPORT_COMMIT_BATCH_SIZE
        attempts = settings.SPACEPORT_COMMIT_ITEM_ATTEMPTS
        while True:
            if self.current is None:
                self.current = self._claim_newest()
                if self.current is None:
                    return False
                self.held.append(self.current)
                self.cursor = self.current.after
            items = open_items(self.commit, self.cursor, self.current.upto, size, attempts)
            if items:
                self.cursor = items[-1].pk
                self.pipeline.start(items, tag=self.current)
                self._let_go()
                return True
            self.current = None
            self._let_go()

    def wait(self) -> bool:
        """Wait for the oldest batch in flight to be recorded; False when none is in flight."""
        if not self.pipeline.batches:
            return False
        self.pipeline.advance(len(self.pipeline.batches) - 1)
        self._let_go()
        return True

    def close(self) -> None:
        """Record what is in flight and let every claim go, whatever stopped the run."""
        try:
            self.pipeline.drain()
        finally:
            for piece in self.held:
                release(piece)
            self.held = []
            self.current = None

    def _claim_newest(self) -> Slice | None:
        while self.offered:
            piece = self.offered.pop()
            if try_claim(piece):
                return piece
        return None

    def _let_go(self) -> None:
        busy = self.pipeline.in_flight()
        for piece in [p for p in self.held if p is not self.current and p not in busy]:
            release(piece)
            self.held.remove(piece)


def list_and_move(
    commit: Commit,
    route: Route,
    slices: Callable[[Commit], Iterator[list[Slice]]],
    hand_off: HandOff,
    deadline: float | None,
) -> bool:
    """List the commit in a thread while this one hands off and moves its slices; False when
    ``deadline`` (monotonic) stopped it before the listing ended and every claimed slice was moved."""
    listed: queue.Queue[Listed] = queue.Queue()
    stop = threading.Event()
    lister = threading.Thread(
        target=_list, args=(commit.pk, slices, listed, stop), name=f"commit-{commit.pk}-listing", daemon=True
    )
    with Pipeline(commit, route) as pipeline:
        mover = SliceMover(commit, route, pipeline)
        lister.start()
        listing = True
        try:
            while True:
                idle = mover.current is None and not mover.offered and not mover.pipeline.batches
                for message in _received(listed, wait=idle and listing):
                    if message is None:
                        listing = False
                    elif isinstance(message, BaseException):
                        raise message
                    else:
                        hand_off(message)
                        mover.offer(message)
                if deadline is not None and time.monotonic() > deadline:
                    return False
                if mover.step() or mover.wait():
                    continue
                if not listing:
                    return True
        finally:
            stop.set()
            lister.join()
            mover.close()


def _received(listed: queue.Queue[Listed], wait: bool) -> list[Listed]:
    """What the listing sent so far; when ``wait``, at least one message unless a second passes."""
    messages: list[Listed] = []
    if wait:
        try:
            messages.append(listed.get(timeout=WAIT_FOR_LISTING_SECONDS))
        except queue.Empty:
            return messages
    while True:
        try:
            messages.append(listed.get_nowait())
        except queue.Empty:
            return messages


def _list(
    commit_id: int,
    slices: Callable[[Commit], Iterator[list[Slice]]],
    listed: queue.Queue[Listed],
    stop: threading.Event,
) -> None:
    """The listing thread: its own copy of the commit and its own database connection."""
    try:
        commit = Commit.objects.select_related("organization", "space", "user").get(pk=commit_id)
        for pieces in slices(commit):
            if stop.is_set():
                return
            if pieces:
                listed.put(pieces)
        listed.put(None)
    except BaseException as exc:  # handed to the run's thread, which ends the commit or retries
        listed.put(exc)
    finally:
        db.close()
