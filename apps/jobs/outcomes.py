"""What a step of printing a job tells the Celery task that ran it: what it did (`Sent`), or
that the same step is to be tried again later (`RetryLater`). Sending, following and
cancelling share them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sent:
    """What a send step did, for the log; `at_printer` when it recorded the job as accepted
    by the printer (its follow-up is then this task's to start); `check_again_in` seconds when
    the job is to be looked at again then (another task holds it)."""

    message: str
    at_printer: bool = False
    check_again_in: float | None = None

    def __str__(self) -> str:
        return self.message


class RetryLater(Exception):
    """A transient failure (printer busy or unreachable): try the same step again later."""
