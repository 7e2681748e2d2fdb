"""Whole inbox pages kept in each web process, for people who reload or keep their inbox open.

A logged-in page costs several times a trivial one to build (bench/bench_portal.py); a user who
reloads their inbox, or a page that refreshes itself, mostly asks for a page that has not
changed. A page is kept under a key holding everything it is built from:

- the user, their name, superuser flag and permissions (the navigation),
- the held-jobs stamp read before the jobs (apps/jobs/held_stamp.py: renewed on every change),
- the language, the full path with its query (page number, the language form's return path),
- the current minute (ages and times to expiry are shown in minutes).

The CSRF token is not kept: the page is built with a random marker in its place, and each answer
gets the token of its own request. A request with messages to show (after an upload, a cancel)
is built afresh and not kept. Settings and templates cannot change while a process runs, so the
pages live in the process, bounded in size, least recently used first out.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.translation import get_language

from apps.accounts.models import User
from apps.jobs.held_stamp import held_jobs_stamp

logger = logging.getLogger(__name__)

#: Stands for the CSRF token in a kept page: random per process, so no job title can forge it.
TOKEN_MARKER = f"csrf-{secrets.token_hex(16)}"
_TOKEN_MARKER_BYTES = TOKEN_MARKER.encode()


class KeptPages:
    """Encoded pages by key, at most `max_bytes` of them in all, least recently used first out.
    Safe for the threads of one process."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._pages: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: Hashable, page: bytes) -> None:
        if len(page) > self.max_bytes:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self.size -= len(old)
            self._pages[key] = page
            self.size += len(page)
            while self.size > self.max_bytes:
                _, dropped = self._pages.popitem(last=False)
                self.size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self.size = 0

    def __len__(self) -> int:
        return len(self._pages)


#: This process's inbox pages (INBOX_PAGE_CACHE_MB).
INBOX_PAGES = KeptPages(settings.INBOX_PAGE_CACHE_MB * 2**20)


def inbox_page_key(request: HttpRequest, user: User) -> Hashable | None:
    """The key of this request's inbox page, or None when it must be built afresh: with
    messages to show, with a query other than the page number (anything else would only make
    more keys), or when the cache holding the stamps cannot be read (the page still works)."""
    if len(messages.get_messages(request)) or not request.GET.keys() <= {"page"}:
        return None
    try:
        stamp = held_jobs_stamp(user.pk)
    except Exception:  # any cache failure: build the page, as without kept pages
        logger.warning("inbox pages are built afresh: the held-jobs stamp cannot be read")
        return None
    return (
        user.pk,
        stamp,
        user.get_username(),
        # A superuser may do anything; ModelBackend would list every permission with a query.
        user.is_superuser or frozenset(user.get_all_permissions()),
        get_language(),
        request.get_full_path(),
        current_minute(),
    )


def current_minute() -> int:
    return int(time.time() // 60)


def with_request_token(page: bytes, request: HttpRequest) -> bytes:
    """A kept page with this request's CSRF token in place of the marker."""
    return page.replace(_TOKEN_MARKER_BYTES, get_token(request).encode())
