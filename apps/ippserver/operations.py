"""The IPP operations of our printer: a decoded request in, a response message out.

Synchronous Django code (the ASGI endpoint runs it in a worker thread). Two steps per request:
`admit` checks the message and who sends it before any document is read, so a refused request
never touches the spool; `answer` carries the operation out, with the document already on disk.

The operations themselves are in printer_operations, job_creation (Print-Job, Validate-Job,
Create-Job), job_documents (Send-Document, Close-Job), job_queries (Get-Job-Attributes,
Get-Jobs) and job_changes; what every operation shares (refusals, responses, the endpoint) is
in protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from apps.accounts.models import User
from apps.accounts.selectors import printing_refusal
from apps.ippserver.attributes import SUPPORTED_OPERATIONS
from apps.ippserver.auth import LoginBlocked, basic_credentials, user_for_credentials
from apps.ippserver.job_changes import cancel_job, cancel_my_jobs, hold_job, release_job
from apps.ippserver.job_creation import create_job, print_job, validate_job
from apps.ippserver.job_documents import Arrival, close_job, document_arriving, send_document
from apps.ippserver.job_queries import get_job_attributes, get_jobs
from apps.ippserver.operation_attributes import (
    check_value_counts,
    sort_operation_attributes,
    with_ignored,
)
from apps.ippserver.printer_operations import get_printer_attributes
from apps.ippserver.protocol import (
    PRINTER_PATH,
    SUPPORTED_VERSIONS,
    Endpoint,
    IppRefusal,
    refusal_response,
    target_path,
)
from printmgmt.ipp import GroupTag, Message, Operation, Status, ValueTag, operation_name

DOCUMENT_OPERATIONS = frozenset({Operation.PRINT_JOB, Operation.SEND_DOCUMENT})
#: Operations on the printer itself, which a job-uri cannot address (RFC 8011, PWG 5100.11):
#: Cancel-My-Jobs sent to one job's URI must not cancel all the user's jobs.
PRINTER_OPERATIONS = frozenset(
    {
        Operation.PRINT_JOB,
        Operation.VALIDATE_JOB,
        Operation.CREATE_JOB,
        Operation.GET_JOBS,
        Operation.GET_PRINTER_ATTRIBUTES,
        Operation.CANCEL_MY_JOBS,
    }
)
ANONYMOUS_OPERATIONS = frozenset({Operation.GET_PRINTER_ATTRIBUTES})
#: Operations that hold a job for the user, refused to someone who may not print; the others
#: (their jobs' state, canceling them) stay open to a user whose role was taken away.
JOB_CREATING_OPERATIONS = frozenset(
    {
        Operation.PRINT_JOB,
        Operation.VALIDATE_JOB,
        Operation.CREATE_JOB,
        Operation.SEND_DOCUMENT,
    }
)


@dataclass(frozen=True)
class Admission:
    """What `admit` decided: refuse now, ask for credentials, or go on (storing the document)."""

    user: User | None
    refusal: Message | None = None
    needs_credentials: bool = False


# --------------------------------------------------------------------------- admission


def check_message(request: Message) -> None:
    """RFC 8011 section 4.1: version, request-id, and the three attributes every request
    must start with. Raises IppRefusal."""
    if request.version not in SUPPORTED_VERSIONS:
        raise IppRefusal(
            Status.SERVER_ERROR_VERSION_NOT_SUPPORTED,
            f"IPP version {request.version[0]}.{request.version[1]} is not supported",
        )
    if request.request_id <= 0:
        raise IppRefusal(Status.CLIENT_ERROR_BAD_REQUEST, "request-id must be positive")
    if not request.groups or request.groups[0].tag != GroupTag.OPERATION:
        raise IppRefusal(Status.CLIENT_ERROR_BAD_REQUEST, "the operation attributes are missing")
    first = request.groups[0].attributes
    expected = (
        ("attributes-charset", ValueTag.CHARSET),
        ("attributes-natural-language", ValueTag.NATURAL_LANGUAGE),
    )
    for position, (name, tag) in enumerate(expected):
        if len(first) <= position or first[position].name != name or first[position].tag != tag:
            raise IppRefusal(
                Status.CLIENT_ERROR_BAD_REQUEST,
                f"{name} must be operation attribute {position + 1}",
            )
    if str(first[0].value).lower() not in ("utf-8", "us-ascii"):
        raise IppRefusal(
            Status.CLIENT_ERROR_CHARSET_NOT_SUPPORTED,
            f"charset {first[0].display()} is not supported",
            [first[0]],
        )
    if (
        len(first) < 3
        or first[2].name not in ("printer-uri", "job-uri")
        or first[2].tag != ValueTag.URI
    ):
        raise IppRefusal(
            Status.CLIENT_ERROR_BAD_REQUEST, "printer-uri or job-uri must be operation attribute 3"
        )
    path = target_path(first[2])
    # The printer's own path, or a job's just below it: /ipp/printer and /ipp/print/x/1 are
    # not ours.
    if first[2].name == "printer-uri" and path != PRINTER_PATH:
        raise IppRefusal(Status.CLIENT_ERROR_NOT_FOUND, f"there is no printer at {path}")
    if first[2].name == "job-uri" and path.rpartition("/")[0] != PRINTER_PATH:
        raise IppRefusal(Status.CLIENT_ERROR_NOT_FOUND, f"there is no job at {path}")
    if request.operation_id not in SUPPORTED_OPERATIONS:
        name = operation_name(request.operation_id)
        why = (
            "this printer has no display or sound to identify itself with"
            if request.operation_id == Operation.IDENTIFY_PRINTER
            else "this printer does not support it"
        )
        raise IppRefusal(Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED, f"{name}: {why}")
    if first[2].name == "job-uri" and request.operation_id in PRINTER_OPERATIONS:
        raise IppRefusal(
            Status.CLIENT_ERROR_BAD_REQUEST,
            f"{operation_name(request.operation_id)} is addressed to the printer: "
            "send printer-uri, not job-uri",
        )
    check_value_counts(request)


def admit(request: Message, authorization: str | None, address: str) -> Admission:
    """Check a request before its document is read: well-formed, supported, and whose.
    `address` is the client's, for the log-in rate limit."""
    try:
        check_message(request)
    except IppRefusal as refusal:
        return Admission(None, refusal_response(request, refusal))
    if request.operation_id in ANONYMOUS_OPERATIONS:
        # Answered the same to anyone: credentials sent along are not checked (no password
        # check to pay for, and no way to test passwords).
        return Admission(None)
    credentials = basic_credentials(authorization)
    try:
        user = user_for_credentials(*credentials, address) if credentials else None
    except LoginBlocked as blocked:
        too_many = IppRefusal(Status.CLIENT_ERROR_NOT_AUTHORIZED, str(blocked))
        return Admission(None, refusal_response(request, too_many))
    if user is None:
        return Admission(None, needs_credentials=True)
    if request.operation_id in JOB_CREATING_OPERATIONS:
        why_not = printing_refusal(user)
        if why_not is not None:
            not_allowed = IppRefusal(Status.CLIENT_ERROR_NOT_AUTHORIZED, why_not)
            return Admission(None, refusal_response(request, not_allowed))
    return Admission(user)


def begin_document(request: Message, user: User) -> Message | Arrival | None:
    """Before a Send-Document's data is read: a refusal to answer at once (the job can take no
    document), or the mark that its document is arriving, to end with end_document."""
    try:
        return document_arriving(request, user)
    except IppRefusal as refusal:
        return refusal_response(request, refusal)


# --------------------------------------------------------------------------- answers


def answer(
    request: Message, user: User | None, endpoint: Endpoint, document: Path | None
) -> Message:
    """Carry out an admitted request. `document` is the data after the attributes, if any.
    The operation sees only the operation attributes it takes; the answer names the others."""
    operation = request.operation_id
    taken, ignored = sort_operation_attributes(request)
    try:
        if operation == Operation.GET_PRINTER_ATTRIBUTES:
            response = get_printer_attributes(taken, user, endpoint)
        else:
            assert user is not None  # admit() asked for credentials otherwise
            handler = _HANDLERS[Operation(operation)]
            response = handler(taken, user, endpoint, document)
    except IppRefusal as refusal:
        response = refusal_response(request, refusal)
    return with_ignored(response, ignored)


_HANDLERS = {
    Operation.PRINT_JOB: print_job,
    Operation.VALIDATE_JOB: validate_job,
    Operation.CREATE_JOB: create_job,
    Operation.SEND_DOCUMENT: send_document,
    Operation.CANCEL_JOB: cancel_job,
    Operation.GET_JOB_ATTRIBUTES: get_job_attributes,
    Operation.GET_JOBS: get_jobs,
    Operation.HOLD_JOB: hold_job,
    Operation.RELEASE_JOB: release_job,
    Operation.CANCEL_MY_JOBS: cancel_my_jobs,
    Operation.CLOSE_JOB: close_job,
}
