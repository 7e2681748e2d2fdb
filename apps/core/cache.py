"""The Redis cache with one connection pool per process.

Django keeps a cache object per request context, and its Redis client keeps its connection pool
on that object: under ASGI every request therefore opened a new TCP connection to Redis (and
redis-py read its own package metadata to describe the connection), about a tenth of a
logged-in page's CPU. Here the pools live at module level, shared by every request of the
process; redis-py's pools are thread-safe and start afresh in a forked child.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_pools: dict[tuple[str, str, str], Any] = {}
_pools_lock = threading.Lock()


class ProcessPoolRedisCacheClient(RedisCacheClient):
    # Set by RedisCacheClient (which django-stubs leaves undescribed).
    _servers: list[str]
    _pool_class: Any
    _pool_options: dict[str, Any]
    _pools: dict[int, Any]

    if TYPE_CHECKING:

        def _get_connection_pool_index(self, write: bool) -> int: ...

    def _get_connection_pool(self, write: bool) -> Any:
        index = self._get_connection_pool_index(write)
        # Django's own per-client dict remembers the shared pool, so the key is made once.
        pool = self._pools.get(index)
        if pool is None:
            pool = self._pools[index] = self._shared_pool(self._servers[index])
        return pool

    def _shared_pool(self, url: str) -> Any:
        options = repr(sorted(self._pool_options.items(), key=lambda item: item[0]))
        key = (url, repr(self._pool_class), options)
        with _pools_lock:
            pool = _pools.get(key)
            if pool is None:
                pool = _pools[key] = self._pool_class.from_url(url, **self._pool_options)
        return pool


class ProcessPoolRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ProcessPoolRedisCacheClient

    def validate_key(self, key: str) -> None:
        """Redis takes any key; Django's default check warns about memcached's limits, walking
        every character of every key in Python."""
