"""Version-stamped snapshots of what every credential request reads.

A vend needs the caller's account, their grants, the role claims their token resolves to, and
the space with its organization and connection. Those change rarely and are read on every
request, so they are cached in Redis under a version that changes whenever anything that can
affect access changes (grants, group membership, ownership, organizations, spaces,
connections, users). A change therefore takes effect on the very next request, in every
process; nothing waits for a timeout.

Each process also keeps the snapshots it has read, pickled, under the same versioned keys: a
snapshot never changes at its version, so the only Redis read a warm request needs is the version
itself.

A view marked :func:`optimistic` skips even that read: it decides on the version its process saw
last and confirms it at the one point where the decision takes effect, in the same Redis round
trip as the effect (the credential's rate limit and audit entry, see
:func:`portal.audit.journal.journal_within_limit`), or with a read of its own before any other
effect (an audit entry, a write, an answer). If the version has moved, nothing has taken effect,
and the view starts over on the current one; so a change still takes effect at the next request.

A process that serves many short requests with no web request around them (the S3 gateway) may
instead *pin* the version: it reads it from Redis in the background every fraction of a second
(:func:`stored_version`, :func:`pin_version`), and the threads that serve its requests, having
called :func:`follow_pinned_version`, use the pinned value with no round trip. A change is then felt
within the polling interval rather than at once (a change the process makes itself is pinned at
once). Nothing is pinned unless a process asks, and only
the threads that follow the pin see it, so web and worker processes (and any other thread of a
pinning process) keep reading Redis.

Every Redis read here refuses to run on an event loop's thread (``SynchronousOnlyOperation``, as the
ORM does), so a server that answers warm requests on its event loop learns from that refusal to hand
a cold one to a thread.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from django.core.cache import cache
from django.db import transaction
from django.utils.asyncio import async_unsafe

from portal.core.cache import ProcessMemory, raw_redis
from portal.core.requests import current_request

VERSION_KEY = "access-snapshot:version"
REQUEST_ATTRIBUTE = "_access_snapshot_version"
OPTIMISTIC_ATTRIBUTE = "_access_snapshot_optimistic"
ASSUMED_ATTRIBUTE = "_access_snapshot_assumed"
TTL_SECONDS = 600

# Pickled, so every reader unpickles its own copy; built with ``secrets=False`` (no connection secret).
_local: ProcessMemory[str, bytes] = ProcessMemory("access snapshots", entries=4096)

# The version this process read or wrote last, under the version's full cache key; only an
# optimistic request uses it, and only until the version is confirmed.
_last_seen: ProcessMemory[str, str] = ProcessMemory("last seen snapshot version", entries=8)

T = TypeVar("T")
View = TypeVar("View", bound=Callable[..., Any])


class StaleSnapshot(Exception):
    """An optimistic request decided on a version that is no longer current; nothing took effect."""


@dataclass(frozen=True)
class Assumption:
    """The version a request assumed, as a Redis script can check it: the full key and the stored value."""

    key: str
    stored: bytes


_pinned: str | None = None
_following = threading.local()


def pin_version(value: str | None) -> None:
    """Make ``value`` the version every following thread of this process uses; ``None`` unpins."""
    global _pinned  # one value for the whole process, set by its poller
    _pinned = value


def pinned_version() -> str | None:
    return _pinned


def follow_pinned_version() -> None:
    """Make the calling thread use the pinned version, while one is pinned, instead of reading Redis."""
    _following.active = True


def version() -> str:
    """The current version, read once per request (a change within the request updates it).

    An :func:`optimistic` request takes the version its process saw last, unread, and must
    confirm it before anything takes effect.
    """
    pinned = _pinned
    if pinned is not None and getattr(_following, "active", False):
        return pinned
    request = current_request.get()
    if request is None:
        return _read()
    remembered = getattr(request, REQUEST_ATTRIBUTE, None)
    if remembered is not None:
        return str(remembered)
    last = _last_seen.get(_last_seen.key(VERSION_KEY)) if getattr(request, OPTIMISTIC_ATTRIBUTE, False) else None
    if last is not None:
        setattr(request, ASSUMED_ATTRIBUTE, True)
        current = last
    else:
        current = _read()
    setattr(request, REQUEST_ATTRIBUTE, current)
    return current


def stored_version() -> str:
    """The version as Redis has it now, whatever is pinned or remembered (for a pinning poller)."""
    return _read()


_ROUND_TRIP = "a snapshot not in this process's memory is a round trip to Redis: read it on a thread"


@async_unsafe(_ROUND_TRIP)
def _read() -> str:
    current = cache.get(VERSION_KEY)
    if current is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        current = cache.get(VERSION_KEY)
    _last_seen.put(_last_seen.key(VERSION_KEY), str(current))
    return str(current)


def unconfirmed() -> Assumption | None:
    """The version the current request assumed and has not confirmed, for a Redis script to check.

    None when there is nothing to check: no request, a version read or written in this request,
    one confirmed already, or a cache that is not Redis (then :func:`confirm` reads it instead).
    """
    request = current_request.get()
    if request is None or not getattr(request, ASSUMED_ATTRIBUTE, False):
        return None
    redis = raw_redis()
    if redis is None:
        return None
    return Assumption(redis.key(VERSION_KEY), redis.stored(getattr(request, REQUEST_ATTRIBUTE)))


def confirmed() -> None:
    """A Redis script found the assumed version current: the request goes on as if it had read it."""
    request = current_request.get()
    if request is not None:
        setattr(request, ASSUMED_ATTRIBUTE, False)


def stale() -> NoReturn:
    """The assumed version has moved: forget it in this process and start the request over."""
    _last_seen.forget(_last_seen.key(VERSION_KEY))
    raise StaleSnapshot()


def confirm() -> None:
    """Before anything takes effect: check an assumed version against the current one (one read).

    Does nothing unless the current request assumed a version and has not confirmed it yet.
    """
    request = current_request.get()
    if request is None or not getattr(request, ASSUMED_ATTRIBUTE, False):
        return
    if _read() != getattr(request, REQUEST_ATTRIBUTE):
        stale()
    setattr(request, ASSUMED_ATTRIBUTE, False)


def optimistic(view: View) -> View:
    """Serve ``view`` on the version last seen, confirmed before it takes effect; on a stale one, again.

    The view must confirm (:func:`confirm`, or a script checking :func:`unconfirmed`) before each
    effect, and must keep nothing across the start over but what it sets again; the answer is
    confirmed here if nothing did so before.
    """

    @functools.wraps(view)
    def serve(request: Any, *args: Any, **kwargs: Any) -> Any:
        setattr(request, OPTIMISTIC_ATTRIBUTE, True)
        try:
            response = view(request, *args, **kwargs)
            confirm()
            return response
        except StaleSnapshot:
            pass
        for attribute in (OPTIMISTIC_ATTRIBUTE, ASSUMED_ATTRIBUTE, REQUEST_ATTRIBUTE):
            if hasattr(request, attribute):
                delattr(request, attribute)
        return view(request, *args, **kwargs)

    return serve  # type: ignore[return-value]


def _new_version() -> None:
    global _pinned  # a pinning process sees its own changes at once
    fresh = uuid.uuid4().hex
    cache.set(VERSION_KEY, fresh, None)
    _last_seen.put(_last_seen.key(VERSION_KEY), fresh)
    if _pinned is not None:
        _pinned = fresh
    request = current_request.get()
    if request is not None:
        setattr(request, REQUEST_ATTRIBUTE, fresh)
        setattr(request, ASSUMED_ATTRIBUTE, False)


def changed(*args: Any, **kwargs: Any) -> None:
    """Start a new version now and again when the transaction commits (usable as a signal receiver).

    Now, so the writing transaction itself never reads an old snapshot; at commit, so a snapshot
    another process built from the not yet committed state in between is dropped too. Versions are
    random values, never a counter, so a version lost from the cache can never revive old snapshots.
    A request that assumed a version confirms it first, so it never writes on a stale decision.
    """
    confirm()
    _new_version()
    transaction.on_commit(_new_version)


def cached(kind: str, identity: str, produce: Callable[[], T]) -> T:
    """The snapshot of ``kind`` for ``identity`` at the current version, produced on a miss.

    Every caller gets its own copy (unpickled from this process's copy or from Redis), so
    nothing a request changes on it leaks into another request.
    """
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    key = f"access-snapshot:{version()}:{kind}:{digest}"
    local_key = _local.key(key)
    packed = _local.get(local_key)
    if packed is not None:
        value: T = pickle.loads(packed)  # noqa: S301 - pickled by this process itself, never received
        return value
    value = _stored(key)
    if value is None:
        value = produce()
        if value is None:
            return value
        cache.set(key, value, TTL_SECONDS)
    _local.put(local_key, pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    return value


@async_unsafe(_ROUND_TRIP)
def _stored(key: str) -> Any:
    return cache.get(key)
