"""A real Celery worker process for tests, working on the test database and the test broker.

Tests that hand work to it must use the `transactional_db` fixture: the worker is another
process and sees only committed rows.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection

from printmgmt.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent

# Short retry and polling intervals, so tests of printers that fail or recover run in seconds.
FAST_PIPELINE = {
    "PRINT_RETRY_BASE_SECONDS": "1",
    "PRINT_RETRY_MAX_SECONDS": "2",
    "PRINT_MAX_ATTEMPTS": "5",
    "FOLLOW_INTERVAL_SECONDS": "1",
    "FOLLOW_MAX_INTERVAL_SECONDS": "1",
    "IPP_TIMEOUT_SECONDS": "3",
    "IPP_SEND_TIMEOUT_SECONDS": "3",
    "SEND_CLAIM_RENEW_SECONDS": "1",
    "SEND_CLAIM_STALE_SECONDS": "5",
}


def test_database_url() -> str:
    """DATABASE_URL of the database pytest-django created, for processes we start."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgresql://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


#: Celery node names of the workers running now (asked directly, their replies end a query).
RUNNING_NODES: set[str] = set()


class WorkerProcess:
    """One `celery worker` subprocess with a single slot: the solo pool runs tasks in the
    worker itself; the prefork pool (what `make run` starts) in a child process of it."""

    def __init__(
        self, name: str, log_path: Path, queues: str = "celery", pool: str = "solo"
    ) -> None:
        self.name = name
        self.log_path = log_path
        self.queues = queues
        self.pool = pool
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        # PGAPPNAME names the worker's PostgreSQL sessions, so a test can find them.
        env = dict(
            os.environ,
            DATABASE_URL=test_database_url(),
            PGAPPNAME=f"celery-{self.name}",
            **FAST_PIPELINE,
        )
        command = [
            sys.executable, "-m", "celery", "-A", "printmgmt", "worker",
            f"--pool={self.pool}", "--concurrency=1", "--loglevel=INFO", "--without-gossip",
            "--without-mingle",
            f"--hostname={self.name}@%h", f"--queues={self.queues}",
        ]  # fmt: skip
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self._wait_until_ready(timeout)
        RUNNING_NODES.add(self.node)

    @property
    def node(self) -> str:
        return f"{self.name}@{socket.gethostname()}"

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited at start; see {self.log_path}")
            replies = celery_app.control.ping(timeout=0.5) or []
            if any(name.startswith(f"{self.name}@") for reply in replies for name in reply):
                return
        raise RuntimeError(f"worker not ready after {timeout}s; see {self.log_path}")

    def kill(self) -> None:
        """End it at once, as a crash or an OOM kill would."""
        RUNNING_NODES.discard(self.node)
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        RUNNING_NODES.discard(self.node)
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="session")
def celery_worker(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    """A worker shared by the whole session."""
    if not str(celery_app.conf.broker_url).startswith("redis"):
        pytest.fail("the worker fixture needs CELERY_BROKER_URL=redis://... (`make test` sets it)")
    worker = WorkerProcess("session", tmp_path_factory.mktemp("celery") / "worker.log")
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def celery_worker_factory(
    django_db_setup: None, tmp_path: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start extra workers (e.g. one on its own queue, to kill mid-task); all are stopped
    after the test."""
    started: list[WorkerProcess] = []

    def make(name: str, queues: str = "celery", pool: str = "solo") -> WorkerProcess:
        worker = WorkerProcess(name, tmp_path / f"{name}.log", queues, pool)
        started.append(worker)
        worker.start()
        return worker

    yield make
    for worker in started:
        worker.stop()


def _wait_until_workers_are_idle(timeout: float = 30.0) -> None:
    """Drop queued and scheduled tasks and wait for running and reserved ones to finish.

    A transactional test ends by emptying every table; a worker still writing then (a task of
    the test, a retry it scheduled, or one our IPP server queued just before the test ended)
    deadlocks with that TRUNCATE and the next test starts on leftovers. Idle must be seen twice
    in a row, purging each time, so a task published late is caught too."""
    celery_app.control.purge()
    if not RUNNING_NODES:
        return
    inspector = celery_app.control.inspect(timeout=1.0, destination=sorted(RUNNING_NODES))
    deadline = time.monotonic() + timeout
    idle_checks = 0
    while idle_checks < 2 and time.monotonic() < deadline:
        celery_app.control.purge()
        for tasks in (inspector.scheduled() or {}).values():
            for task in tasks:
                celery_app.control.revoke(task["request"]["id"])
        busy = any((inspector.active() or {}).values()) or any(
            (inspector.reserved() or {}).values()
        )
        idle_checks = 0 if busy else idle_checks + 1
        time.sleep(0.1)


@pytest.fixture(autouse=True)
def _idle_workers_before_the_tables_are_emptied(request: pytest.FixtureRequest) -> Iterator[None]:
    # Also a transactional test that does not ask for a worker: what it queues (a Release-Job
    # through our IPP printer) reaches the session's worker all the same.
    empties_tables = "transactional_db" in request.fixturenames or any(
        name in request.fixturenames for name in ("celery_worker", "celery_worker_factory")
    )
    if empties_tables:
        # Set up after the database fixture, so torn down (and waiting) before its flush.
        request.getfixturevalue("transactional_db")
    yield
    if empties_tables:
        _wait_until_workers_are_idle()
