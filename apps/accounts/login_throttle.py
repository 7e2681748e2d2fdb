"""Log-in rate limit: after too many failures for one username from one address, refuse for a
while, with a message saying so. The portal's log-in and the IPP printer's password checks
count together. Counts live in Django's cache (shared when the cache is)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def failures_allowed() -> int:
    return int(settings.LOGIN_FAILURES_ALLOWED)


def window_seconds() -> int:
    return int(settings.LOGIN_FAILURE_WINDOW_SECONDS)


def _key(username: str, address: str) -> str:
    digest = hashlib.sha256(f"{username.casefold()}\0{address}".encode()).hexdigest()
    return f"login-failures:{digest}"


def login_blocked(username: str, address: str) -> bool:
    return int(cache.get(_key(username, address), 0)) >= failures_allowed()


def login_failed(username: str, address: str) -> None:
    key = _key(username, address)
    if cache.add(key, 1, timeout=window_seconds()):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window_seconds())
        return
    # The window runs from the latest failure; also, some backends' incr (the file cache's) is
    # a read and a set with the default timeout, which would shorten it.
    cache.touch(key, window_seconds())


def login_succeeded(username: str, address: str) -> None:
    cache.delete(_key(username, address))
