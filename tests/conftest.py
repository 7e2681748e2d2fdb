"""Shared fixtures: real services only (PostgreSQL, Redis, a Celery worker, IPP peers)."""

from __future__ import annotations

pytest_plugins = ["tests.workers", "tests.peers", "tests.servers"]
