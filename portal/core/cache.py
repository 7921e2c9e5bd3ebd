"""Django's Redis cache, keeping one redis-py client per connection pool; what its API lacks;
and the one owner of what a process keeps in its own memory.

Besides the cache backend: the raw redis-py client for pipelines, streams and scripts
(:func:`raw_redis`), counting in a window in one round trip (:func:`count_hit`), and the bounded
per-process memory (:class:`ProcessMemory`).

Django builds a new ``redis.Redis`` object for every cache operation. The object is only a
thin handle on the pool, but building one sets up a few hundred response callbacks, which
dominated the time of a cached credential request; the handle is safe to share (redis-py
clients are thread-safe over their pool), so it is built once per pool.

What a process may keep in memory, and how: every such map is a :class:`ProcessMemory`, with a
name and a bound (the least recently used entry goes first), listed by :func:`process_memories`
and emptied by :func:`forget_process_memories`. A value may be kept only where it cannot go
stale unnoticed: its key carries a version (a snapshot version, a connection's modification
time) or the value carries an expiry its reader checks. A decrypted secret, or an object holding
one, is kept only where the map states why (``secrets=``). Functions memoized with
``functools.lru_cache`` over settings (keys derived from them, compiled patterns) are not caches
of data: they hold nothing the settings do not.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
            client = self._clients[index] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class SharedClientRedisCache(RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient


@dataclass(frozen=True)
class RawRedis:
    """The default cache's redis-py client, the cache's naming of keys (its prefix and version), and
    its encoding of values, so a script can compare what the cache stored."""

    client: Any
    key: Callable[[str], str]
    stored: Callable[[Any], Any]
    loaded: Callable[[Any], Any]


def raw_redis() -> RawRedis | None:
    """The default cache's Redis, or None when the cache is not Redis (the embedded setup)."""
    backend = caches["default"]
    if not isinstance(backend, SharedClientRedisCache):
        return None
    client = backend._cache
    serializer = client._serializer  # type: ignore[attr-defined]
    return RawRedis(client.get_client(write=True), backend.make_and_validate_key, serializer.dumps, serializer.loads)


def count_hit(key: str, window_seconds: int) -> int:
    """Count one more hit on ``key`` and answer the count so far; the count lives ``window_seconds``.

    On Redis this is one round trip (INCR and EXPIRE in a pipeline), which matters on the hot
    path of credential requests; other caches (the embedded setup's local memory) add and
    increment.
    """
    redis = raw_redis()
    if redis is not None:
        full_key = redis.key(key)
        pipeline = redis.client.pipeline(transaction=False)
        pipeline.incr(full_key)
        pipeline.expire(full_key, window_seconds, nx=True)
        count, _ = pipeline.execute()
        return int(count)
    cache.add(key, 0, window_seconds)
    try:
        return int(cache.incr(key))
    except ValueError:
        cache.set(key, 1, window_seconds)
        return 1


K = TypeVar("K")
V = TypeVar("V")


class ProcessMemory(Generic[K, V]):
    """A bounded map in this process, least recently used out first, safe across threads.

    For Django cache entries, key it by the cache's full key (:meth:`key`), so a value is found
    only under the cache namespace it was read in. It takes no lock: each step is one operation
    of ``OrderedDict``, which the interpreter lock keeps whole, and at worst two threads racing
    to add evict one entry more than needed. A lock (or ``contextlib.suppress``) would triple the
    cost of a read, and several reads serve every cached vend.
    """

    def __init__(self, name: str, entries: int, *, secrets: str = "") -> None:
        self.name = name
        self.entries = entries
        self.secrets = secrets
        self._items: OrderedDict[K, V] = OrderedDict()
        _MEMORIES.append(self)

    @staticmethod
    def key(cache_key: str) -> str:
        return str(cache.make_key(cache_key))

    def get(self, key: K) -> V | None:
        items = self._items
        value = items.get(key)
        if value is not None:
            try:  # noqa: SIM105 - cheaper than suppress() on the hot path
                items.move_to_end(key)
            except KeyError:  # another thread evicted it just now
                pass
        return value

    def put(self, key: K, value: V) -> None:
        items = self._items
        items[key] = value
        with suppress(KeyError):
            items.move_to_end(key)
        while len(items) > self.entries:
            with suppress(KeyError):
                items.popitem(last=False)

    def forget(self, key: K) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


_MEMORIES: list[ProcessMemory[Any, Any]] = []


def process_memories() -> list[ProcessMemory[Any, Any]]:
    """Every map this process keeps, with its bound and, where it holds secrets, why."""
    return list(_MEMORIES)


def forget_process_memories() -> None:
    """Empty every map, as after a configuration change (and between tests)."""
    for memory in _MEMORIES:
        memory.clear()
