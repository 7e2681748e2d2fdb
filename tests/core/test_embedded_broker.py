"""The embedded default's broker (folders, no server) is quiet: commands that queue a task
(`lp -H immediate`) printed a kombu warning about a missing host name, which reads like an
error to an admin. Its workers look for messages every 0.1 s, not kombu's 1 s."""

from __future__ import annotations

import os
from pathlib import Path

from tests.children import run_django

OPEN_THE_BROKER = """
import logging
import sys

import django

logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
django.setup()
from django.conf import settings

from printmgmt.celery import app

assert settings.CELERY_BROKER_URL.startswith("filesystem://"), settings.CELERY_BROKER_URL
with app.connection_for_write() as connection:
    connection.ensure_connection(max_retries=1)
    print(connection.as_uri())
"""


def test_the_embedded_broker_connects_without_a_warning(tmp_path: Path) -> None:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("CELERY_BROKER_URL", "DATABASE_URL", "CACHE_URL")
    }
    environment["PRINTMGMT_DATA_DIR"] = str(tmp_path)
    result = run_django(OPEN_THE_BROKER, environment=environment, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("filesystem://")
    assert "WARNING" not in result.stderr, result.stderr[-2000:]


WORKER_POLLING = """
import django

django.setup()
from printmgmt.celery import app

with app.connection_for_read() as connection:
    print(connection.transport.polling_interval)
"""


def test_a_worker_of_the_embedded_broker_looks_for_messages_every_tenth_of_a_second(
    tmp_path: Path,
) -> None:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("CELERY_BROKER_URL", "DATABASE_URL", "CACHE_URL")
    }
    environment["PRINTMGMT_DATA_DIR"] = str(tmp_path)
    result = run_django(WORKER_POLLING, environment=environment, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["0.1"]
