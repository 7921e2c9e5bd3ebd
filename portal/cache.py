"""Django's Redis cache, keeping one redis-py client per connection pool; counting in a window.

Django builds a new ``redis.Redis`` object for every cache operation. The object is only a
thin handle on the pool, but building one sets up a few hundred response callbacks, which
dominated the time of a cached credential request; the handle is safe to share (redis-py
clients are thread-safe over their pool), so it is built once per pool.
"""

from __future__ import annotations

from typing import Any

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


def count_hit(key: str, window_seconds: int) -> int:
    """Count one more hit on ``key`` and answer the count so far; the count lives ``window_seconds``.

    On Redis this is one round trip (INCR and EXPIRE in a pipeline), which matters on the hot
    path of credential requests; other caches (the embedded setup's local memory) add and
    increment.
    """
    backend = caches["default"]
    if isinstance(backend, SharedClientRedisCache):
        client = backend._cache.get_client(write=True)
        full_key = backend.make_and_validate_key(key)
        pipeline = client.pipeline(transaction=False)
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
