"""The embedded default's broker (folders, no server) is quiet: commands that queue a task
(`lp -H immediate`) printed a kombu warning about a missing host name, which reads like an
error to an admin. Its workers look for messages every 0.1 s, not kombu's 1 s."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from apps.core.apps import ensure_local_broker_folders
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


def test_preflight_names_a_broker_folder_that_is_a_file_in_one_line(tmp_path: Path) -> None:
    """A file where a broker folder goes ended every command (preflight too) with a
    FileExistsError traceback at start-up; preflight names it, in one line, exit 2."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("CELERY_BROKER_URL", "DATABASE_URL", "CACHE_URL")
    }
    environment["PRINTMGMT_DATA_DIR"] = str(tmp_path)
    (tmp_path / "broker").mkdir()
    (tmp_path / "broker" / "control").write_text("not a folder")
    result = subprocess.run(
        [sys.executable, "manage.py", "preflight"],
        cwd=Path(__file__).resolve().parents[2],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"CommandError: broker unreachable: local broker folder {tmp_path}/")
    assert f"{tmp_path}/broker/control (control_folder: " in line
    assert ") is a file, not a folder (check PRINTMGMT_DATA_DIR)" in line


def test_the_broker_folders_that_can_be_made_are_made_at_start(
    tmp_path: Path, settings: Any
) -> None:
    (tmp_path / "control").write_text("not a folder")
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(tmp_path / "queue"),
        "processed_folder": str(tmp_path / "processed"),
        "control_folder": str(tmp_path / "control"),
    }
    ensure_local_broker_folders()  # the file is left for /healthz and preflight to name
    assert (tmp_path / "queue").is_dir()
    assert (tmp_path / "processed").is_dir()
    assert (tmp_path / "control").read_text() == "not a folder"
