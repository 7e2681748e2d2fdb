"""The Redis cache with one connection pool and one client per process.

Django keeps a cache object per request context, and its Redis client keeps its connection pool
on that object: under ASGI every request therefore opened a new TCP connection to Redis (and
redis-py read its own package metadata to describe the connection), about a tenth of a
logged-in page's CPU. Here the pools live at module level, shared by every request of the
process; redis-py's pools are thread-safe and start afresh in a forked child. Django also makes
a new redis-py client for every operation, which fills a table of about 170 reply handlers each
time; a client takes a connection from its pool per command, so one per pool serves all threads.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_clients: dict[tuple[str, str, str], Any] = {}
_clients_lock = threading.Lock()


class ProcessPoolRedisCacheClient(RedisCacheClient):
    # Set by RedisCacheClient (which django-stubs leaves undescribed).
    _servers: list[str]
    _pool_class: Any
    _pool_options: dict[str, Any]
    _client: Any
    # Django's per-client dict of pools by server index; here it holds the shared clients.
    _pools: dict[int, Any]

    if TYPE_CHECKING:

        def _get_connection_pool_index(self, write: bool) -> int: ...

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        # Django's own per-client dict remembers the shared client, so the key is made once.
        client = self._pools.get(index)
        if client is None:
            client = self._pools[index] = self._shared_client(self._servers[index])
        return client

    def _get_connection_pool(self, write: bool) -> Any:
        return self.get_client(write=write).connection_pool

    def _shared_client(self, url: str) -> Any:
        options = repr(sorted(self._pool_options.items(), key=lambda item: item[0]))
        key = (url, repr(self._pool_class), options)
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                pool = self._pool_class.from_url(url, **self._pool_options)
                client = _clients[key] = self._client(connection_pool=pool)
        return client


class ProcessPoolRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ProcessPoolRedisCacheClient

    def validate_key(self, key: str) -> None:
        """Redis takes any key; Django's default check warns about memcached's limits, walking
        every character of every key in Python."""
