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
"""

from __future__ import annotations

import hashlib
import pickle
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction

from portal.core.cache import ProcessMemory
from portal.core.requests import current_request

VERSION_KEY = "access-snapshot:version"
REQUEST_ATTRIBUTE = "_access_snapshot_version"
TTL_SECONDS = 600

# Pickled, so every reader unpickles its own copy; built with ``secrets=False`` (no connection secret).
_local: ProcessMemory[str, bytes] = ProcessMemory("access snapshots", entries=4096)

T = TypeVar("T")


def version() -> str:
    """The current version, read once per request (a change within the request updates it)."""
    request = current_request.get()
    remembered = getattr(request, REQUEST_ATTRIBUTE, None) if request is not None else None
    if remembered is not None:
        return str(remembered)
    current = cache.get(VERSION_KEY)
    if current is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        current = cache.get(VERSION_KEY)
    if request is not None:
        setattr(request, REQUEST_ATTRIBUTE, current)
    return str(current)


def _new_version() -> None:
    fresh = uuid.uuid4().hex
    cache.set(VERSION_KEY, fresh, None)
    request = current_request.get()
    if request is not None:
        setattr(request, REQUEST_ATTRIBUTE, fresh)


def changed(*args: Any, **kwargs: Any) -> None:
    """Start a new version now and again when the transaction commits (usable as a signal receiver).

    Now, so the writing transaction itself never reads an old snapshot; at commit, so a snapshot
    another process built from the not yet committed state in between is dropped too. Versions are
    random values, never a counter, so a version lost from the cache can never revive old snapshots.
    """
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
    value = cache.get(key)
    if value is None:
        value = produce()
        if value is None:
            return value
        cache.set(key, value, TTL_SECONDS)
    _local.put(local_key, pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    return value
