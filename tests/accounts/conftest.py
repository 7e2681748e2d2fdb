"""Fixtures for the money layer: users made through the service (so they get their personal
account), shared accounts, and a helper that runs code in threads with their own connections."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection

from apps.accounts.models import Account, LedgerEntry, User
from apps.accounts.roles import PRINTER_ADMIN, STAFF
from apps.accounts.services import user_create


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(username: str, *, admin: bool = False) -> User:
        return user_create(username, "pw-not-used-1", role=PRINTER_ADMIN if admin else STAFF)

    return make


@pytest.fixture
def staff_group(db: None) -> Group:
    return Group.objects.get(name=STAFF.group_name)


def ledger_sum(account: Account) -> Decimal:
    return sum((entry.amount for entry in LedgerEntry.objects.filter(account=account)), Decimal(0))


def fresh(account: Account) -> Account:
    return Account.objects.get(pk=account.pk)


def run_at_once(count: int, work: Callable[[int], Any], timeout: float = 60) -> list[Any]:
    """Run work(0..count-1) in `count` threads released together; each thread uses its own
    database connection and closes it. Returns each result, or the exception it raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def body(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # handed back to the test to assert on
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "threads still running: a deadlock?"
    return results


def on_embedded_sqlite(folder: Path, script: str) -> str:
    """What `script` prints, run by `manage.py shell` on a fresh SQLite database in `folder`
    (the embedded database small sites run on; the tests' own database is PostgreSQL)."""
    environment = dict(
        os.environ,
        PRINTMGMT_DATA_DIR=str(folder),
        DATABASE_URL=f"sqlite:///{folder / 'embedded.sqlite3'}",
    )
    for command in (["migrate", "-v", "0"], ["shell", "-v", "0", "-c", script]):
        result = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=settings.BASE_DIR,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    return result.stdout.strip()
