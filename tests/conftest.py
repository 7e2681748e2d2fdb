"""Shared fixtures: real services only (PostgreSQL, Redis, a Celery worker, IPP peers)."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.utils import translation

pytest_plugins = ["tests.workers", "tests.peers", "tests.servers"]


@pytest.fixture(scope="session", autouse=True)
def _password_hashes_kept() -> Iterator[None]:
    """Hashing a password is slow by design (PBKDF2, about 0.2 s), and tests create thousands
    of users with a few passwords: each password is hashed once, and the users given it share
    that real hash, which every process (servers, workers) still verifies as usual."""
    from django.contrib.auth import base_user, hashers, models

    real = hashers.make_password
    kept = functools.cache(real)

    def make_password(
        password: str | None, salt: str | None = None, hasher: str = "default"
    ) -> str:
        if isinstance(password, str) and salt is None and hasher == "default":
            return kept(password)
        return real(password, salt, hasher)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(base_user, "make_password", make_password)
        patch.setattr(models, "make_password", make_password)
        yield


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
