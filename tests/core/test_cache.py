"""The Redis cache keeps one connection pool per process, shared by every request."""

from __future__ import annotations

import os
import threading
import warnings
from typing import Any, cast

import pytest

from apps.core.cache import ProcessPoolRedisCache


@pytest.fixture
def redis_url() -> str:
    # The test command's Redis (the Celery broker), on a database number nothing else uses.
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        pytest.fail("the tests need the Redis that scripts/test.sh starts (CELERY_BROKER_URL)")
    return broker.rsplit("/", 1)[0] + "/15"


def pool_of(backend: ProcessPoolRedisCache) -> Any:
    return cast(Any, backend)._cache._get_connection_pool(write=True)


def test_cache_objects_of_different_requests_share_one_pool_and_connection(
    redis_url: str,
) -> None:
    # Django makes a cache object per request context; each one is a new backend instance.
    first = ProcessPoolRedisCache(redis_url, {})
    first.set("shared-pool", "value", 30)
    seen: list[object] = []

    def request() -> None:
        backend = ProcessPoolRedisCache(redis_url, {})
        seen.append(backend.get("shared-pool"))

    for _ in range(5):
        thread = threading.Thread(target=request)
        thread.start()
        thread.join()
    assert seen == ["value"] * 5
    pool = pool_of(first)
    assert pool_of(ProcessPoolRedisCache(redis_url, {})) is pool
    # One request after the other reused one connection instead of opening one each.
    assert len(pool._available_connections) + len(pool._in_use_connections) == 1


def test_operations_of_different_requests_use_one_client(redis_url: str) -> None:
    first = cast(Any, ProcessPoolRedisCache(redis_url, {}))._cache
    second = cast(Any, ProcessPoolRedisCache(redis_url, {}))._cache
    client = first.get_client(write=True)
    assert first.get_client("a key") is client
    assert second.get_client("another key", write=True) is client
    assert client.connection_pool is pool_of(ProcessPoolRedisCache(redis_url, {}))


def test_keys_memcached_would_refuse_are_stored_without_a_warning(redis_url: str) -> None:
    backend = ProcessPoolRedisCache(redis_url, {})
    key = "a key with spaces " + "x" * 300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        backend.set(key, 1, 30)
        assert backend.get(key) == 1
