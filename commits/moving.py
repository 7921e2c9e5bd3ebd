"""The storage side of moving one object: look, copy server-side, verify, delete the source.

These functions touch only the storage, never the database, so the engine can run many of them
in threads and write each outcome itself before the next side effect. What to do with an object
is decided from what is in the storage *and* from the state the engine recorded, so a decision
taken after a crash is the same one an uninterrupted run would have taken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from commits.models import ItemState
from connections.storage import Location, StorageClient, StoredObject

COPY = "copy"


@dataclass(frozen=True)
class Route:
    """Where a commit's objects come from and go to, inside one connection's storage."""

    client: StorageClient
    source: Location
    target: Location
    root_dir: str
    existing: Mapping[str, StoredObject] | None = None

    def key(self, relative: str) -> str:
        return f"{self.root_dir}/{relative}"


@dataclass(frozen=True)
class Planned:
    """An item as the engine knows it: its recorded state and what the plan saw at the source."""

    pk: int
    key: str
    state: str
    size: int
    checksum: str
    copied: bool
    attempts: int = 0
    etag: str = ""

    def attempts_left(self, limit: int) -> bool:
        return self.attempts + 1 < limit


@dataclass
class Outcome:
    """What happened to one item: the state to record (or ``copy``), and why."""

    pk: int
    state: str
    copied: bool = False
    error: str = ""
    transient: bool = False
    source: StoredObject | None = None


def comparable(a: StoredObject, b: StoredObject) -> bool:
    """Both digests known and of the same kind (``md5:`` against ``md5:``)."""
    return bool(a.checksum and b.checksum) and a.checksum.split(":", 1)[0] == b.checksum.split(":", 1)[0]


def proven_same(a: StoredObject, b: StoredObject) -> bool:
    """Same bytes beyond doubt: equal sizes and equal digests (two empty objects are always equal)."""
    if a.size != b.size:
        return False
    return a.size == 0 or (comparable(a, b) and a.checksum == b.checksum)


def copy_verified(source: StoredObject, copy: StoredObject) -> bool:
    """A copy we made matches its source: equal sizes, and equal digests wherever both are known
    (a listed single-part source ETag against the copy's MD5 counts as one)."""
    if source.size != copy.size:
        return False
    if comparable(source, copy):
        return source.checksum == copy.checksum
    if copy.checksum.startswith("md5:") and is_digest_etag(source.etag):
        return source.etag.lower() == copy.checksum.removeprefix("md5:")
    return True


def is_digest_etag(etag: str) -> bool:
    return len(etag) == 32 and all(c in "0123456789abcdefABCDEF" for c in etag)


def _difference(source: StoredObject, existing: StoredObject) -> str:
    if source.size != existing.size:
        return f"{existing.size} bytes in the space, {source.size} in the loadingzone"
    if comparable(source, existing):
        return f"checksum {existing.checksum} in the space, {source.checksum} in the loadingzone"
    return "the store gives no checksum to prove both are the same"


def _failure(item: Planned, exc: Exception, route: Route, doing: str) -> Outcome:
    error = route.client.explain(exc)
    return Outcome(item.pk, ItemState.FAILED, error=f"{doing}: {error.message}"[:2000], transient=error.transient)


def planned_copy(route: Route, item: Planned) -> Outcome | None:
    """The decision to copy a pending item the run's listing of the space does not hold, taken
    without asking the store: the copy is verified against what the plan's listing saw of the
    source, and a source that changed since fails the check and stays where it is. None when
    only ``inspect`` can decide."""
    key = route.key(item.key)
    if (
        item.state == ItemState.PENDING
        and not item.copied
        and route.existing is not None
        and route.target.key(key) not in route.existing
    ):
        planned = StoredObject(key=route.source.key(key), size=item.size, etag=item.etag, checksum=item.checksum)
        return Outcome(item.pk, COPY, source=planned)
    return None


def inspect(route: Route, item: Planned, overwrite: bool) -> Outcome:
    """Decide an open item from both sides of the move; nothing is changed in the storage."""
    decided = planned_copy(route, item)
    if decided is not None:
        return decided
    key = route.key(item.key)
    try:
        source = route.client.head_object(route.source, key)
        existing = route.client.head_object(route.target, key)
    except Exception as exc:
        return _failure(item, exc, route, "Looking at the object failed")
    ours = item.state in (ItemState.COPYING, ItemState.VERIFIED)
    copied_before = item.copied or item.state == ItemState.COPYING
    if source is None:
        recorded = StoredObject(key=key, size=item.size, checksum=item.checksum)
        if existing is not None and ours and copy_verified(recorded, existing):
            return Outcome(item.pk, ItemState.DONE if copied_before else ItemState.SKIPPED, copied=copied_before)
        return Outcome(item.pk, ItemState.FAILED, error="The object left the loadingzone before it was moved.")
    if existing is None:
        return Outcome(item.pk, COPY, source=source)
    if proven_same(source, existing):
        return Outcome(item.pk, ItemState.VERIFIED, copied=copied_before, source=source)
    if ours and not comparable(source, existing) and source.size == existing.size:
        return Outcome(item.pk, ItemState.VERIFIED, copied=True, source=source)
    if overwrite:
        return Outcome(item.pk, COPY, source=source)
    return Outcome(
        item.pk,
        ItemState.CONFLICT,
        error=f"A different object already exists in the space ({_difference(source, existing)}); "
        "commit with overwrite to replace it.",
        source=source,
    )


def copy(route: Route, item: Planned, source: StoredObject) -> Outcome:
    """Copy server-side and verify the copy against the source as it was when inspected."""
    key = route.key(item.key)
    try:
        written = route.client.copy_object(route.source, key, route.target, key, expected=source)
    except Exception as exc:
        return _failure(item, exc, route, "Copying failed")
    if not copy_verified(source, written):
        return Outcome(
            item.pk,
            ItemState.FAILED,
            error=f"The copy does not match its source ({_difference(source, written)}); the source is kept.",
        )
    return Outcome(item.pk, ItemState.VERIFIED, copied=True, source=source)


def remove_sources(route: Route, items: list[Planned]) -> list[Outcome]:
    """Delete verified items' sources in one batch (S3 DeleteObjects); a key already gone counts as deleted."""
    if not items:
        return []
    try:
        failures = route.client.delete_objects(route.source, [route.key(item.key) for item in items])
    except Exception as exc:
        return [
            _failure(item, exc, route, "The copy is in the space, but removing the source failed") for item in items
        ]
    outcomes = []
    for item in items:
        problem = failures.get(route.key(item.key))
        if problem is None:
            outcomes.append(Outcome(item.pk, ItemState.DONE if item.copied else ItemState.SKIPPED, copied=item.copied))
        else:
            outcomes.append(_failure(item, problem, route, "The copy is in the space, but removing the source failed"))
    return outcomes
