"""The suite runs on the real parts: PostgreSQL, and a Celery worker in its own process."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from apps.core.models import WorkerHeartbeat
from apps.core.tasks import worker_heartbeat
from tests.workers import WorkerProcess


@pytest.mark.django_db
def test_suite_runs_on_postgresql() -> None:
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
    assert int(version.split(".")[0]) >= 13


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_process_runs_a_task(celery_worker: WorkerProcess) -> None:
    assert not WorkerHeartbeat.objects.exists()
    worker_heartbeat.delay()
    deadline = time.monotonic() + 30
    while not WorkerHeartbeat.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    heartbeat = WorkerHeartbeat.objects.get()
    assert heartbeat.hostname.startswith("session@")
    assert celery_worker.process is not None
    assert celery_worker.process.poll() is None


def test_every_beat_entry_names_a_registered_task() -> None:
    from django.conf import settings

    from printmgmt.celery import app

    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
        assert isinstance(entry["schedule"], float), name
