"""Shared fixtures: real services only (PostgreSQL, Redis, a Celery worker, IPP peers)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

pytest_plugins = ["tests.workers", "tests.peers", "tests.servers"]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language: a request with Accept-Language leaves its
    language active in the test's thread (LocaleMiddleware activates, nothing resets)."""
    yield
    translation.deactivate()
