"""Shared fixtures: real services only (PostgreSQL, Redis, a Celery worker, IPP peers)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.utils import translation

pytest_plugins = ["tests.workers", "tests.peers", "tests.servers"]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language: a request with Accept-Language leaves its
    language active in the test's thread (LocaleMiddleware activates, nothing resets)."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _inbox_pages_built_afresh() -> Iterator[None]:
    """Tests in this process build every inbox page: a test's transaction never commits, so
    the held-jobs stamp (dropped on commit) would not change within it. The page cache has
    its own tests (tests/portal/test_page_cache.py), and the servers tests start (another
    process, committing) keep pages as production does."""
    from apps.portal.page_cache import INBOX_PAGES

    kept = settings.INBOX_PAGE_CACHE_MB
    settings.INBOX_PAGE_CACHE_MB = 0
    INBOX_PAGES.clear()
    yield
    settings.INBOX_PAGE_CACHE_MB = kept


@pytest.fixture(autouse=True)
def _thumbnail_renderers_closed() -> Iterator[None]:
    """The children a test started to draw thumbnails end after it, as programs end, so that
    what they measured counts: one a later test kills (a page too slow) would lose it all, and
    at exit all are killed, after pytest-cov has reported."""
    yield
    from apps.portal.thumbnails import thumbnail_renderers_close

    thumbnail_renderers_close()
