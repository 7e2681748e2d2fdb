"""A stop request that a signal handler may set.

A handler runs on the main thread, between two of its steps: threading.Event.set() there takes
the lock that the same thread may be holding inside Event.wait(), and waits for it for good.
Two SIGTERMs close together (a service manager's to the process group, then make run's own
to each process) can make that happen. A flag set without a lock cannot deadlock.
"""

from __future__ import annotations

import time

#: How often a wait looks at the flag: a sleep goes on after a handler returns (PEP 475).
POLL_SECONDS = 0.1


class StopFlag:
    """Set once (from a signal handler or any thread); waited for by polling."""

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        """Whether the flag was set within `timeout` seconds (forever when None)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._set:
            remaining = POLL_SECONDS if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(POLL_SECONDS, remaining))
        return True
