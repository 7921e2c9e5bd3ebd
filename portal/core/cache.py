"""Django's Redis cache, keeping one redis-py client per connection pool; what its API lacks.

Besides the cache backend: the raw redis-py client for pipelines, streams and scripts
(:func:`raw_redis`), counting in a window in one round trip (:func:`count_hit`), and a bounded
per-process memory for values that never change under their key (:class:`ProcessMemory`).

Django builds a new ``redis.Redis`` object for every cache operation. The object is only a
thin handle on the pool, but building one sets up a few hundred response callbacks, which
dominated the time of a cached credential request; the handle is safe to share (redis-py
clients are thread-safe over their pool), so it is built once per pool.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
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
    """The default cache's redis-py client, and the cache's naming of keys (its prefix and version)."""

    client: Any
    key: Callable[[str], str]


def raw_redis() -> RawRedis | None:
    """The default cache's Redis, or None when the cache is not Redis (the embedded setup)."""
    backend = caches["default"]
    if not isinstance(backend, SharedClientRedisCache):
        return None
    return RawRedis(backend._cache.get_client(write=True), backend.make_and_validate_key)


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


V = TypeVar("V")


class ProcessMemory(Generic[V]):
    """A bounded map in this process, oldest out first, for values that never change under their key.

    Keys are the cache's full keys (:meth:`key`), so a value is found only under the cache
    namespace it was read in.
    """

    def __init__(self, entries: int) -> None:
        self._entries = entries
        self._items: OrderedDict[str, V] = OrderedDict()

    @staticmethod
    def key(cache_key: str) -> str:
        return str(cache.make_key(cache_key))

    def get(self, key: str) -> V | None:
        return self._items.get(key)

    def put(self, key: str, value: V) -> None:
        self._items[key] = value
        if len(self._items) > self._entries:
            self._items.popitem(last=False)

    def forget(self, key: str) -> None:
        self._items.pop(key, None)
