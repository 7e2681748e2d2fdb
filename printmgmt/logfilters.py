"""Logging filters the settings attach."""

from __future__ import annotations

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """Django logs a refused request (403, 404, 400) with the exception that produced it: a
    traceback in the server log for every visitor who opens a page they may not. The line
    stays; the traceback goes. Server errors (5xx) keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
