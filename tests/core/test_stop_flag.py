"""A stop flag set from signal handlers: a burst of signals during a wait ends it at once."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest

from apps.core.stop_flag import StopFlag


@pytest.fixture
def alarms() -> Iterator[None]:
    previous = signal.getsignal(signal.SIGALRM)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def test_signals_in_a_burst_set_the_flag_and_end_the_wait(alarms: None) -> None:
    flag = StopFlag()
    calls = []

    def handler(*_: object) -> None:
        calls.append(time.monotonic())
        if len(calls) >= 20:  # the wait goes on through the first ones: the flag is set late
            flag.set()

    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
    started = time.monotonic()
    assert flag.wait(10)
    assert time.monotonic() - started < 2
    assert flag.is_set()


def test_a_wait_with_a_time_out_ends_unset() -> None:
    flag = StopFlag()
    started = time.monotonic()
    assert not flag.wait(0.25)
    assert 0.2 <= time.monotonic() - started < 2
    assert not flag.is_set()
    flag.set()
    assert flag.wait(0)
    assert flag.wait()
