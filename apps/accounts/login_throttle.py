"""Log-in rate limit: after too many failures for one username from one address, refuse for a
while, with a message saying so. The portal's log-in and the IPP printer's password checks
count together. Counts live in Django's cache (shared when the cache is)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac


def failures_allowed() -> int:
    return int(settings.LOGIN_FAILURES_ALLOWED)


def window_seconds() -> int:
    return int(settings.LOGIN_FAILURE_WINDOW_SECONDS)


def _key(username: str, address: str) -> str:
    digest = hashlib.sha256(f"{username.casefold()}\0{address}".encode()).hexdigest()
    return f"login-failures:{digest}"


def login_blocked(username: str, address: str) -> bool:
    return int(cache.get(_key(username, address), 0)) >= failures_allowed()


def _attempt_key(username: str, address: str, password: str) -> str:
    # Keyed with the site's secret: the cache never holds a plain digest of a near-password.
    digest = salted_hmac("login-attempt", f"{username.casefold()}\0{address}\0{password}")
    return f"login-attempt:{digest.hexdigest()}"


def login_failed(username: str, address: str, password: str) -> None:
    """Count a failed log-in. The same wrong password again (a device retrying a password
    changed since, or a revoked token) counts once: what is limited is guessing."""
    if not cache.add(_attempt_key(username, address, password), 1, timeout=window_seconds()):
        return
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
