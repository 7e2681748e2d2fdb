"""Every error the IPP layer raises derives from IppError.

``retryable`` tells the print pipeline whether sending the same request again later can
succeed: transport trouble and a busy or temporarily failing printer can; a request the
printer refused on its merits cannot. ``answered`` tells whether the printer was reached
and answered, if not usefully, so that nobody is told it could not be reached.
"""

from __future__ import annotations

from printmgmt.ipp.names import (
    PRINTER_FAILURE_STATUSES,
    RETRYABLE_STATUSES,
    StatusClass,
    effective_status,
    status_class,
    status_name,
    status_sentence,
)


class IppError(Exception):
    """Base class of the errors of this package.

    ``may_have_made_job`` says whether the printer may have acted on the request (made the
    job) despite the error: a request cut off mid-way, or unanswered in time, may have;
    one that never connected, or that the printer answered with an error status, has not.
    """

    retryable: bool = False
    may_have_made_job: bool = True
    answered: bool = False


class IppDecodeError(IppError):
    """The bytes are not a well-formed IPP message (or exceed a decode limit)."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(f"offset {offset}: {reason}")
        self.offset = offset
        self.reason = reason


class IppAttributesTooLarge(IppDecodeError):
    """The attributes run past ``DecodeLimits.max_attribute_bytes``: the message may be well
    formed, but is more than the decoder was allowed to read."""


class IppEncodeError(IppError):
    """A message built in code cannot be put on the wire (value of the wrong type,
    string too long for a 16-bit length, ...)."""


class IppTransportError(IppError):
    """The printer could not be reached or did not answer in time (connection refused,
    timeout, TLS failure), or ``answered`` with something that is not IPP (an HTTP error, a
    web page, bytes that do not decode). Worth retrying."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = True,
        may_have_made_job: bool = True,
        answered: bool = False,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.may_have_made_job = may_have_made_job
        self.answered = answered


class IppAcceptedWithoutJobId(IppTransportError):
    """The printer answered a job-creating request successful-ok but named no job: it took
    the job, which may well print, but cannot be asked about by its id."""

    def __init__(self) -> None:
        super().__init__(
            "the printer accepted the job but sent no job-id", retryable=True, answered=True
        )


class IppStatusError(IppError):
    """The printer answered with an IPP status code that is not successful: it did not act
    on the request (RFC 8011 §4.1.6). ``printer_failed``: it failed (internal or device
    error) rather than refused the request."""

    may_have_made_job = False
    answered = True

    def __init__(
        self,
        status_code: int,
        *,
        status_message: str | None = None,
        unsupported_attributes: tuple[str, ...] = (),
        operation: str = "",
    ) -> None:
        self.status_code = status_code
        self.status_name = status_name(status_code)
        self.status_class: StatusClass = status_class(status_code)
        self.status_message = status_message
        self.unsupported_attributes = unsupported_attributes
        self.operation = operation
        self.retryable = status_code in RETRYABLE_STATUSES
        # An unknown server error counts as internal-error (RFC 8011 §4.1.6).
        self.printer_failed = effective_status(status_code) in PRINTER_FAILURE_STATUSES
        super().__init__(self.sentence)

    @property
    def sentence(self) -> str:
        """A human sentence like cupsLastErrorString(): the printer's own message when it
        sent one, else a description of the status, plus what it did not support."""
        text = self.status_message or status_sentence(self.status_code)
        prefix = f"{self.operation}: " if self.operation else ""
        suffix = ""
        if self.unsupported_attributes:
            suffix = " (unsupported: " + ", ".join(self.unsupported_attributes) + ")"
        return f"{prefix}{text} [{self.status_name}]{suffix}"
