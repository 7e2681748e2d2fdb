"""On SQLite the writing transactions of one process's threads take turns on a lock (not in
SQLite's busy handler, which sleeps past the moment the lock is free); on PostgreSQL they do
not wait for each other."""

from __future__ import annotations

import threading

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

from apps.core.writers import one_writer_at_a_time


def _vendor(monkeypatch: pytest.MonkeyPatch, vendor: str) -> None:
    # On the class: each thread has its own connection object.
    monkeypatch.setattr(type(connections[DEFAULT_DB_ALIAS]), "vendor", vendor)


def test_on_sqlite_a_second_writer_starts_when_the_first_is_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _vendor(monkeypatch, "sqlite")
    steps: list[str] = []
    first_inside, first_may_end = threading.Event(), threading.Event()

    def first() -> None:
        with one_writer_at_a_time():
            steps.append("first begins")
            first_inside.set()
            first_may_end.wait(10)
            steps.append("first ends")

    def second() -> None:
        with one_writer_at_a_time():
            steps.append("second begins")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert first_inside.wait(10)
    threads[1].start()
    threads[1].join(0.3)
    assert threads[1].is_alive()  # waiting for the first
    first_may_end.set()
    for thread in threads:
        thread.join(10)
    assert steps == ["first begins", "first ends", "second begins"]


def test_on_postgresql_writers_do_not_wait_for_each_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _vendor(monkeypatch, "postgresql")
    other_done = threading.Event()

    def other() -> None:
        with one_writer_at_a_time():
            other_done.set()

    with one_writer_at_a_time():
        thread = threading.Thread(target=other)
        thread.start()
        assert other_done.wait(10)
    thread.join(10)
