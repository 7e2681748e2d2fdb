"""The IPP operations of our printer: a decoded request in, a response message out.

Synchronous Django code (the ASGI endpoint runs it in a worker thread). Two steps per request:
`admit` checks the message and who sends it before any document is read, so a refused request
never touches the spool; `answer` carries the operation out, with the document already on disk.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.accounts.errors import AccountError
from apps.accounts.models import User
from apps.accounts.roles import MANAGE_PRINTERS, permission_name
from apps.ippserver.attributes import (
    BOOKLET_MAKER,
    SUPPORTED_OPERATIONS,
    Capabilities,
    JobTemplate,
    capabilities_of,
    job_template,
    printer_attributes,
)
from apps.ippserver.auth import basic_credentials, user_for_credentials
from apps.ippserver.models import IppJob, PrintingProfile
from apps.jobs import pipeline
from apps.jobs.choices import TERMINAL_STATES, JobSource, JobState
from apps.jobs.convert import ACCEPTED_FORMATS, OCTET_STREAM, to_pdf
from apps.jobs.documents import DocumentError, delete_document
from apps.jobs.release import ReleaseRefused, job_release
from apps.jobs.services import job_create_held
from apps.printers.models import Printer
from printmgmt.ipp import (
    Attribute,
    AttributeGroup,
    DateTime,
    GroupTag,
    Message,
    Operation,
    Status,
    ValueTag,
    operation_name,
)
from printmgmt.ppde.model import FINISHING_ENUM_RANGES, FINISHINGS_BOOKLET

logger = logging.getLogger(__name__)

PRINTER_PATH = "/ipp/print"
SUPPORTED_VERSIONS = frozenset({(1, 0), (1, 1), (2, 0), (2, 1), (2, 2)})
DOCUMENT_OPERATIONS = frozenset({Operation.PRINT_JOB, Operation.SEND_DOCUMENT})
ANONYMOUS_OPERATIONS = frozenset({Operation.GET_PRINTER_ATTRIBUTES})


class IppRefusal(Exception):
    """A request we answer with an IPP error status (and maybe unsupported attributes)."""

    def __init__(self, status: Status, message: str, unsupported: Sequence[Attribute] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.unsupported = tuple(unsupported)


@dataclass(frozen=True)
class Endpoint:
    """How the client reached us: the URIs we tell it to use."""

    host: str  # host[:port] from the request
    secure: bool

    @property
    def printer_uri(self) -> str:
        return f"{'ipps' if self.secure else 'ipp'}://{self.host}{PRINTER_PATH}"

    @property
    def portal_url(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.host}/"

    def job_uri(self, job_id: int) -> str:
        return f"{self.printer_uri}/{job_id}"


@dataclass(frozen=True)
class Admission:
    """What `admit` decided: refuse now, ask for credentials, or go on (storing the document)."""

    user: User | None
    refusal: Message | None = None
    needs_credentials: bool = False


def respond(
    request: Message,
    status: int,
    message: str | None = None,
    groups: Sequence[AttributeGroup] = (),
) -> Message:
    version = request.version if request.version in SUPPORTED_VERSIONS else (1, 1)
    return Message.response(
        status, request.request_id, status_message=message, groups=groups, version=version
    )


def _unsupported_group(attributes: Sequence[Attribute]) -> list[AttributeGroup]:
    return [AttributeGroup(GroupTag.UNSUPPORTED, tuple(attributes))] if attributes else []


def refusal_response(request: Message, refusal: IppRefusal) -> Message:
    return respond(request, refusal.status, str(refusal), _unsupported_group(refusal.unsupported))


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
    path = urlsplit(str(first[2].value)).path.rstrip("/")
    if not path.startswith(PRINTER_PATH):
        raise IppRefusal(Status.CLIENT_ERROR_NOT_FOUND, f"there is no printer at {path}")
    if request.operation_id not in SUPPORTED_OPERATIONS:
        name = operation_name(request.operation_id)
        why = (
            "this printer has no display or sound to identify itself with"
            if request.operation_id == Operation.IDENTIFY_PRINTER
            else "this printer does not support it"
        )
        raise IppRefusal(Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED, f"{name}: {why}")


def admit(request: Message, authorization: str | None) -> Admission:
    """Check a request before its document is read: well-formed, supported, and whose."""
    try:
        check_message(request)
    except IppRefusal as refusal:
        return Admission(None, refusal_response(request, refusal))
    credentials = basic_credentials(authorization)
    user = user_for_credentials(*credentials) if credentials else None
    if user is None and request.operation_id not in ANONYMOUS_OPERATIONS:
        return Admission(None, needs_credentials=True)
    return Admission(user)


# --------------------------------------------------------------------------- answers


def answer(
    request: Message, user: User | None, endpoint: Endpoint, document: Path | None
) -> Message:
    """Carry out an admitted request. `document` is the data after the attributes, if any."""
    operation = request.operation_id
    try:
        if operation == Operation.GET_PRINTER_ATTRIBUTES:
            return _get_printer_attributes(request, user, endpoint)
        assert user is not None  # admit() asked for credentials otherwise
        handler = _HANDLERS[Operation(operation)]
        return handler(request, user, endpoint, document)
    except IppRefusal as refusal:
        return refusal_response(request, refusal)


def _operation_value(request: Message, name: str) -> Attribute | None:
    return request.operation_attributes.get(name)


def _requested(request: Message) -> set[str] | None:
    attribute = _operation_value(request, "requested-attributes")
    if attribute is None:
        return None
    return {str(value) for value in attribute.python_values}


def _select(
    attributes: Iterable[Attribute], requested: set[str] | None, groups: dict[str, set[str]]
) -> tuple[Attribute, ...]:
    if requested is None or "all" in requested:
        return tuple(attributes)
    wanted = set(requested)
    for group, members in groups.items():
        if group in requested:
            wanted |= members
    return tuple(attribute for attribute in attributes if attribute.name in wanted)


def product_capabilities() -> Capabilities:
    snapshots = [
        printer.capabilities
        for printer in Printer.objects.filter(enabled=True).only("capabilities")
        if isinstance(printer.capabilities, dict)
    ]
    return capabilities_of(snapshots)


def printer_uuid() -> str:
    """Stable for a site (derived from SECRET_KEY), so clients recognise the printer."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"printmgmt-ipp-printer:{settings.SECRET_KEY}"))


_JOB_TEMPLATE_NAMES = {
    "copies", "finishings", "media", "media-col", "page-ranges", "print-color-mode", "sides",
    "number-up", "orientation-requested", "print-quality", "printer-resolution", "output-bin",
    "job-hold-until", "job-priority", "job-sheets", "multiple-document-handling",
    "cover-front", "cover-back", "cover-type",
}  # fmt: skip


def _get_printer_attributes(request: Message, user: User | None, endpoint: Endpoint) -> Message:
    capabilities = product_capabilities()
    attributes = printer_attributes(
        capabilities,
        printer_uris=[endpoint.printer_uri],
        uri_security="tls" if endpoint.secure else "none",
        printer_uuid=printer_uuid(),
        more_info=endpoint.portal_url,
        icon=f"{endpoint.portal_url}static/ippserver/printer-icon.png",
        up_time=int(time.time()),
        queued_job_count=held_job_count(),
        name="hold-queue",
        location="",
    )
    template_names = {
        a.name
        for a in attributes
        if a.name.endswith(("-default", "-supported", "-ready", "-database"))
        and a.name.rsplit("-", 1)[0] in _JOB_TEMPLATE_NAMES | {"media-col"}
    }
    groups = {
        "job-template": template_names,
        "printer-description": {a.name for a in attributes} - template_names,
    }
    selected = _select(attributes, _requested(request), groups)
    return respond(
        request, Status.SUCCESSFUL_OK, groups=[AttributeGroup(GroupTag.PRINTER, selected)]
    )


def held_job_count() -> int:
    return IppJob.objects.filter(job__state=JobState.HELD).count()


# --------------------------------------------------------------------------- job creation


def _job_request(request: Message, *, with_format: bool) -> tuple[JobTemplate, str]:
    """Check the operation attributes of a job creation; the template and document format."""
    operation = request.operation_attributes
    compression = operation.get("compression")
    if compression is not None and compression.value != "none":
        raise IppRefusal(
            Status.CLIENT_ERROR_COMPRESSION_NOT_SUPPORTED,
            f"compression {compression.display()} is not supported",
            [compression],
        )
    document_format = OCTET_STREAM
    format_attribute = operation.get("document-format")
    if with_format and format_attribute is not None:
        document_format = str(format_attribute.value).split(";", 1)[0].strip().lower()
        if document_format not in ACCEPTED_FORMATS:
            raise IppRefusal(
                Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
                f"documents of type {document_format} are not accepted: send PDF, PostScript, "
                "JPEG, PNG or plain text",
                [format_attribute],
            )
    job_group = request.group(GroupTag.JOB)
    template = job_template(job_group.attributes if job_group else (), product_capabilities())
    fidelity = operation.get("ipp-attribute-fidelity")
    if template.unsupported and fidelity is not None and fidelity.value is True:
        raise IppRefusal(
            Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
            "the printer cannot honour "
            + ", ".join(attribute.name for attribute in template.unsupported),
            template.unsupported,
        )
    return template, document_format


def _job_title(request: Message) -> str:
    for name in ("job-name", "document-name"):
        attribute = _operation_value(request, name)
        if attribute is not None and str(attribute.value).strip():
            return str(attribute.value).strip()[:255]
    return "Untitled"


def _created(
    request: Message, ipp_job: IppJob, endpoint: Endpoint, template: JobTemplate
) -> Message:
    status = (
        Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
        if template.unsupported
        else Status.SUCCESSFUL_OK
    )
    wanted = {"job-id", "job-uri", "job-state", "job-state-reasons", "job-state-message"}
    attributes = tuple(a for a in job_attributes(ipp_job, endpoint) if a.name in wanted)
    return respond(
        request,
        status,
        groups=[
            *_unsupported_group(template.unsupported),
            AttributeGroup(GroupTag.JOB, attributes),
        ],
    )


def _hold_document(ipp_job: IppJob, document: Path | None, document_format: str) -> None:
    """Convert the document, hold it, and save the IPP job with its held job. Raises IppRefusal.

    job_create_held reads and checks the PDF before its first write, so the transaction (and
    SQLite's single write lock) lasts only for the inserts, not for the conversion.
    """
    if document is None or document.stat().st_size == 0:
        raise IppRefusal(Status.CLIENT_ERROR_BAD_REQUEST, "the request carries no document")
    try:
        pdf = to_pdf(document, document_format)
        with transaction.atomic():
            job = job_create_held(
                ipp_job.owner,
                pdf,
                title=ipp_job.name,
                source=JobSource.IPP,
                options=ipp_job.options,
                copies=ipp_job.copies,
                page_ranges=ipp_job.page_ranges,
                move=True,
            )
            try:
                ipp_job.job = job
                ipp_job.save()
            except BaseException:
                delete_document(job.document_name)
                raise
    except DocumentError as error:
        raise IppRefusal(Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR, str(error)) from None
    logger.info("IPP job %s held as job %s for %s", ipp_job.pk, job.pk, ipp_job.owner)


def _new_ipp_job(request: Message, user: User, template: JobTemplate) -> IppJob:
    return IppJob(
        owner=user,
        name=_job_title(request),
        options=template.options,
        copies=template.copies,
        page_ranges=template.page_ranges,
    )


def _print_job(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    template, document_format = _job_request(request, with_format=True)
    ipp_job = _new_ipp_job(request, user, template)
    _hold_document(ipp_job, document, document_format)
    return _created(request, ipp_job, endpoint, template)


def _validate_job(
    request: Message, user: User, endpoint: Endpoint, document: Path | None
) -> Message:
    template, _format = _job_request(request, with_format=True)
    status = (
        Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
        if template.unsupported
        else Status.SUCCESSFUL_OK
    )
    return respond(request, status, groups=_unsupported_group(template.unsupported))


def _create_job(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    template, _format = _job_request(request, with_format=False)
    ipp_job = _new_ipp_job(request, user, template)
    ipp_job.save()
    return _created(request, ipp_job, endpoint, template)


def _send_document(
    request: Message, user: User, endpoint: Endpoint, document: Path | None
) -> Message:
    last = _operation_value(request, "last-document")
    if last is None or last.tag != ValueTag.BOOLEAN:
        raise IppRefusal(Status.CLIENT_ERROR_BAD_REQUEST, "last-document is missing")
    _template, document_format = _job_request(request, with_format=True)
    with transaction.atomic():
        ipp_job = _target_job(request, user, lock=True)
        has_data = document is not None and document.stat().st_size > 0
        if ipp_job.canceled_at is not None or (ipp_job.job is not None and has_data):
            raise IppRefusal(
                Status.CLIENT_ERROR_NOT_POSSIBLE,
                "the job is canceled" if ipp_job.canceled_at else "the job has its document",
            )
        if ipp_job.job is None:
            if not has_data:
                raise IppRefusal(Status.CLIENT_ERROR_BAD_REQUEST, "the request carries no document")
            # One document per job: the first one, even with last-document false, is the job's.
            _hold_document(ipp_job, document, document_format)
    return _created(request, ipp_job, endpoint, JobTemplate())


# --------------------------------------------------------------------------- job queries


def _is_operator(user: User) -> bool:
    return user.has_perm(permission_name(MANAGE_PRINTERS))


def _visible_jobs(user: User) -> QuerySet[IppJob]:
    jobs = IppJob.objects.select_related("job", "owner")
    return jobs if _is_operator(user) else jobs.filter(owner=user)


def _target_job(request: Message, user: User, *, lock: bool = False) -> IppJob:
    """The job a job operation names (job-uri, or printer-uri with job-id). Other users' jobs
    are not found, so that nobody learns which jobs exist."""
    target = request.operation_attributes.attributes[2]
    if target.name == "job-uri":
        tail = urlsplit(str(target.value)).path.rstrip("/").rsplit("/", 1)[-1]
        job_id = int(tail) if tail.isdigit() else None
    else:
        attribute = _operation_value(request, "job-id")
        if attribute is None or not isinstance(attribute.value, int):
            raise IppRefusal(Status.CLIENT_ERROR_BAD_REQUEST, "job-id is missing")
        job_id = attribute.value
    jobs = _visible_jobs(user)
    if lock:
        jobs = jobs.select_for_update(of=("self",))
    ipp_job = jobs.filter(pk=job_id).first() if job_id is not None else None
    if ipp_job is None:
        raise IppRefusal(Status.CLIENT_ERROR_NOT_FOUND, f"there is no job {job_id}")
    return ipp_job


_IPP_STATES: dict[str, tuple[int, str]] = {
    JobState.HELD: (4, "job-hold-until-specified"),
    JobState.RELEASED: (3, "job-queued"),
    JobState.SENDING: (5, "job-transforming"),
    JobState.PROCESSING: (5, "job-printing"),
    JobState.COMPLETED: (9, "job-completed-successfully"),
    JobState.FAILED: (8, "aborted-by-system"),
    JobState.CANCELED: (7, "job-canceled-by-user"),
    JobState.EXPIRED: (7, "job-canceled-by-operator"),
}


def ipp_job_state(ipp_job: IppJob) -> tuple[int, str, str]:
    """(job-state, job-state-reasons, job-state-message) of a job."""
    if ipp_job.job is not None:
        state, reason = _IPP_STATES[ipp_job.job.state]
        message = ipp_job.job.message or ipp_job.job.get_state_display()
        if ipp_job.job.state == JobState.HELD:
            message = "held: release it at a printer or in the portal"
        return state, reason, message
    if ipp_job.canceled_at is not None:
        return 7, "job-canceled-by-user", "canceled before its document came"
    return 3, "job-incoming", "waiting for its document"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _finishings(options: dict[str, object]) -> list[int]:
    enums = [
        int(str(options[name]))
        for name in FINISHING_ENUM_RANGES
        if str(options.get(name, "3")).isdigit() and str(options.get(name, "3")) != "3"
    ]
    if options.get(FINISHINGS_BOOKLET, "none") != "none":
        enums.append(BOOKLET_MAKER)
    return enums or [3]


def job_attributes(ipp_job: IppJob, endpoint: Endpoint) -> list[Attribute]:
    state, reason, message = ipp_job_state(ipp_job)
    job = ipp_job.job
    no_value = Attribute.out_of_band
    started = job.state_changed_at if job and job.state != JobState.HELD else None
    ended = job.state_changed_at if job and job.state in TERMINAL_STATES else None
    if ipp_job.canceled_at is not None:
        ended = ipp_job.canceled_at
    options: dict[str, object] = dict(job.options if job else ipp_job.options)
    attributes = [
        Attribute.integer("job-id", ipp_job.pk),
        Attribute.uri("job-uri", endpoint.job_uri(ipp_job.pk)),
        Attribute.uri("job-printer-uri", endpoint.printer_uri),
        Attribute.name_("job-name", ipp_job.name),
        Attribute.name_("job-originating-user-name", ipp_job.owner.username),
        Attribute.enum("job-state", state),
        Attribute.keyword("job-state-reasons", reason),
        Attribute.text("job-state-message", message[:255]),
        Attribute.uri("job-more-info", endpoint.portal_url),
        Attribute.integer("time-at-creation", _epoch(ipp_job.created_at)),
        Attribute.integer("time-at-processing", _epoch(started))
        if started
        else no_value("time-at-processing", ValueTag.NO_VALUE),
        Attribute.integer("time-at-completed", _epoch(ended))
        if ended
        else no_value("time-at-completed", ValueTag.NO_VALUE),
        Attribute.integer("job-printer-up-time", int(time.time())),
        Attribute.date_time("date-time-at-creation", DateTime.from_datetime(ipp_job.created_at)),
        Attribute.date_time("date-time-at-processing", DateTime.from_datetime(started))
        if started
        else no_value("date-time-at-processing", ValueTag.NO_VALUE),
        Attribute.date_time("date-time-at-completed", DateTime.from_datetime(ended))
        if ended
        else no_value("date-time-at-completed", ValueTag.NO_VALUE),
        Attribute.integer("number-of-documents", 1 if job else 0),
        Attribute.integer("copies", job.copies if job else ipp_job.copies),
        Attribute.enum("finishings", *_finishings(options)),
        Attribute.keyword("job-hold-until", "indefinite" if state == 4 else "no-hold"),
    ]
    if job is not None:
        attributes.append(Attribute.integer("job-impressions", job.page_count))
    for name in ("sides", "media", "print-color-mode"):
        if isinstance(options.get(name), str):
            attributes.append(Attribute.keyword(name, str(options[name])))
    if isinstance(options.get("number-up"), str) and str(options["number-up"]).isdigit():
        attributes.append(Attribute.integer("number-up", int(str(options["number-up"]))))
    return attributes


_JOB_GROUPS = {
    "job-template": {
        "copies", "finishings", "job-hold-until", "media", "number-up", "print-color-mode",
        "sides",
    },
}  # fmt: skip


def _job_group(ipp_job: IppJob, endpoint: Endpoint, requested: set[str] | None) -> AttributeGroup:
    attributes = job_attributes(ipp_job, endpoint)
    groups = dict(_JOB_GROUPS)
    groups["job-description"] = {a.name for a in attributes} - groups["job-template"]
    return AttributeGroup(GroupTag.JOB, _select(attributes, requested, groups))


def _get_job_attributes(
    request: Message, user: User, endpoint: Endpoint, document: Path | None
) -> Message:
    ipp_job = _target_job(request, user)
    return respond(
        request, Status.SUCCESSFUL_OK, groups=[_job_group(ipp_job, endpoint, _requested(request))]
    )


_NOT_COMPLETED = Q(job__isnull=True, canceled_at__isnull=True) | Q(
    job__state__in=[s for s in JobState if s not in TERMINAL_STATES]
)


def _get_jobs(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    which = _operation_value(request, "which-jobs")
    which_jobs = str(which.value) if which is not None else "not-completed"
    jobs = _visible_jobs(user)
    if which_jobs == "not-completed":
        jobs = jobs.filter(_NOT_COMPLETED)
    elif which_jobs == "completed":
        jobs = jobs.exclude(_NOT_COMPLETED)
    elif which_jobs != "all":
        assert which is not None
        raise IppRefusal(
            Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
            f"which-jobs {which_jobs} is not supported",
            [which],
        )
    my_jobs = _operation_value(request, "my-jobs")
    if my_jobs is not None and my_jobs.value is True:
        jobs = jobs.filter(owner=user)
    limit = _operation_value(request, "limit")
    count = 1000
    if limit is not None and isinstance(limit.value, int) and limit.value > 0:
        count = min(count, limit.value)
    requested = _requested(request) or {"job-id", "job-uri"}
    groups = [_job_group(ipp_job, endpoint, requested) for ipp_job in jobs.order_by("-id")[:count]]
    return respond(request, Status.SUCCESSFUL_OK, groups=groups)


# --------------------------------------------------------------------------- job changes


def _cancel_job(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    with transaction.atomic():
        ipp_job = _target_job(request, user, lock=True)
        if ipp_job.job is None:
            if ipp_job.canceled_at is not None:
                raise IppRefusal(Status.CLIENT_ERROR_NOT_POSSIBLE, "the job is canceled already")
            ipp_job.canceled_at = timezone.now()
            ipp_job.save(update_fields=["canceled_at"])
            return respond(request, Status.SUCCESSFUL_OK)
        job_id = ipp_job.job.pk
    if ipp_job.job.state in TERMINAL_STATES or (
        pipeline.cancel(job_id, reason=f"canceled from a device by {user.username}") is None
    ):
        raise IppRefusal(
            Status.CLIENT_ERROR_NOT_POSSIBLE,
            f"the job is {ipp_job.job.get_state_display().lower()} and cannot be canceled",
        )
    return respond(request, Status.SUCCESSFUL_OK)


def _hold_job(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    ipp_job = _target_job(request, user)
    if ipp_job.canceled_at is not None or (
        ipp_job.job is not None and ipp_job.job.state != JobState.HELD
    ):
        raise IppRefusal(Status.CLIENT_ERROR_NOT_POSSIBLE, "the job is no longer held")
    return respond(request, Status.SUCCESSFUL_OK, "held jobs stay held until released")


def _release_job(
    request: Message, user: User, endpoint: Endpoint, document: Path | None
) -> Message:
    ipp_job = _target_job(request, user)
    if ipp_job.job is None or ipp_job.job.state != JobState.HELD:
        raise IppRefusal(Status.CLIENT_ERROR_NOT_POSSIBLE, "the job is not held")
    profile = PrintingProfile.objects.filter(user=user).select_related("default_printer").first()
    if profile is None or profile.default_printer is None:
        raise IppRefusal(
            Status.CLIENT_ERROR_NOT_POSSIBLE,
            "you have no default printer: choose one in the portal, or release the job there",
        )
    job = ipp_job.job
    try:
        job_release(
            job.pk,
            user,
            profile.default_printer.pk,
            job.options,
            copies=job.copies,
            page_ranges=job.page_ranges,
        )
    except (ReleaseRefused, AccountError) as error:
        raise IppRefusal(Status.CLIENT_ERROR_NOT_POSSIBLE, str(error)) from None
    return respond(request, Status.SUCCESSFUL_OK)


_HANDLERS = {
    Operation.PRINT_JOB: _print_job,
    Operation.VALIDATE_JOB: _validate_job,
    Operation.CREATE_JOB: _create_job,
    Operation.SEND_DOCUMENT: _send_document,
    Operation.CANCEL_JOB: _cancel_job,
    Operation.GET_JOB_ATTRIBUTES: _get_job_attributes,
    Operation.GET_JOBS: _get_jobs,
    Operation.HOLD_JOB: _hold_job,
    Operation.RELEASE_JOB: _release_job,
}
