"""One writing transaction at a time per process on SQLite.

SQLite lets one transaction write at a time. A second writer of the same process (the IPP
printer answers jobs on several threads) slept in SQLite's busy handler (1, 2, 5, 10 ... ms)
and tried again, so most of its wait was sleeping past the moment the first one committed.
Queued on a lock, each writer starts as soon as the previous one has committed. Writers of
other processes still meet in SQLite's busy handler. PostgreSQL locks rows, not the database:
there nothing is queued.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections

_sqlite_writer = threading.RLock()


@contextmanager
def one_writer_at_a_time(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Around a writing transaction: on SQLite, waits until no other thread of this process
    is in one."""
    if connections[using].vendor != "sqlite":
        yield
        return
    with _sqlite_writer:
        yield
