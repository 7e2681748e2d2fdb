"""The task of the embedded broker's worker test, loaded into that worker with --include."""

from __future__ import annotations

import os

from celery import shared_task


@shared_task(ignore_result=True)
def record_mark(path: str, mark: str) -> None:
    """Append the mark as a line: one write to a file opened for appending is never mixed
    with another process's, so each run leaves exactly one line."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, f"{mark}\n".encode())
    finally:
        os.close(descriptor)
