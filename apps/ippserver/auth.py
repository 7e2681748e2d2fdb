"""Who is printing: HTTP Basic credentials checked against product users.

The password may be the user's own (checked by Django's authenticate, so every configured
backend applies) or their printing token. `requesting-user-name` in the request is never
trusted. Password checks are deliberately slow (PBKDF2), and a desktop sends the same
credentials with every request, so a successful password check is remembered for a short
while, keyed by a digest of the credentials, with the password hash it matched: a request
that reuses it costs one query by primary key, which also finds the user deactivated or the
password changed (in any process) at once. Tokens are looked up by digest and need no cache.

Password checks share the portal's log-in rate limit (per username and address): after too
many different wrong passwords, a password is not even checked for a while, so that it cannot
be guessed over IPP either. A remembered check and a printing token (256 random bits) are not
limited.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from dataclasses import dataclass

from django.contrib.auth import authenticate

from apps.accounts.login_throttle import (
    login_blocked,
    login_failed,
    login_succeeded,
    window_seconds,
)
from apps.accounts.models import User
from apps.ippserver.services import token_digest
from printmgmt.english import counted

#: Seconds a successful password check is trusted again without PBKDF2.
PASSWORD_CHECK_REUSE_S = 120.0
_MAX_REMEMBERED = 1024


@dataclass(frozen=True)
class _Remembered:
    user_id: int
    password_hash: str  # the stored hash the password matched
    until: float  # time.monotonic()


_remembered: dict[str, _Remembered] = {}
_remembered_lock = threading.Lock()


class LoginBlocked(Exception):
    """Too many failed password checks for this user from this address: none for a while."""

    def __init__(self, username: str) -> None:
        minutes = max(1, window_seconds() // 60)
        super().__init__(
            f"too many failed log-ins for {username} from this address: "
            f"wait {counted(minutes, 'minute')} and try again"
        )


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(user name, password) from an `Authorization: Basic ...` header, or None."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, separator, password = decoded.partition(":")
    # No user name holds a NUL, and PostgreSQL refuses one in a query (a server error).
    if not separator or not username or "\x00" in username:
        return None
    return username, password


def user_for_credentials(username: str, password: str, address: str) -> User | None:
    """The active user these credentials belong to (password or printing token), or None.

    Raises LoginBlocked when the password would need checking while `address` is blocked."""
    key = hashlib.sha256(f"{username}\0{password}".encode()).hexdigest()
    now = time.monotonic()
    with _remembered_lock:
        remembered = _remembered.get(key)
    if remembered is not None and remembered.until > now:
        user = User.objects.filter(
            pk=remembered.user_id,
            username=username,
            is_active=True,
            password=remembered.password_hash,
        ).first()
        if user is not None:
            return user
    if password:
        by_token = User.objects.filter(
            username=username, is_active=True, printing_profile__token_digest=token_digest(password)
        ).first()
        if by_token is not None:
            return by_token
    if login_blocked(username, address):
        raise LoginBlocked(username)
    user = authenticate(username=username, password=password)
    if not isinstance(user, User):
        login_failed(username, address, password)
        return None
    login_succeeded(username, address)
    with _remembered_lock:
        if len(_remembered) >= _MAX_REMEMBERED:
            _remembered.clear()
        _remembered[key] = _Remembered(user.pk, user.password, now + PASSWORD_CHECK_REUSE_S)
    return user
