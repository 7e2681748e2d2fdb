"""The job operations of our printer: creating jobs (Print-Job, Validate-Job, Create-Job,
Send-Document, Close-Job), asking about them (Get-Job-Attributes, Get-Jobs) and changing them
(Cancel-Job, Cancel-My-Jobs, Hold-Job, Release-Job). A job's document becomes a held job in the
hold queue.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.writers import one_writer_at_a_time
from apps.ippserver.ipp_jobs import (
    aborted_message,
    job_attribute_group,
    job_status_attributes,
    not_completed,
    requested_job_ids,
    target_job,
    visible_jobs,
    waited_in_vain,
)
from apps.ippserver.job_template import JobTemplate, job_template
from apps.ippserver.models import IppJob
from apps.ippserver.printer_operations import product_capabilities
from apps.ippserver.protocol import (
    Endpoint,
    IppRefusal,
    operation_value,
    requested_attributes,
    respond,
    unsupported_group,
)
from apps.jobs.build import NoPageOfDocument
from apps.jobs.choices import TERMINAL_STATES, JobSource
from apps.jobs.convert import ACCEPTED_FORMATS, OCTET_STREAM, to_pdf
from apps.jobs.documents import DocumentError, delete_document
from apps.jobs.services import job_create_held
from printmgmt.ipp import AttributeGroup, GroupTag, Message, Status, ValueTag

logger = logging.getLogger(__name__)


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
                "Apple or PWG raster, JPEG, PNG or plain text",
                [format_attribute],
            )
    job_group = request.group(GroupTag.JOB)
    # What the printers can do is asked (of the database) only for an attribute checked against it.
    template = (
        job_template(job_group.attributes, product_capabilities)
        if job_group and job_group.attributes
        else JobTemplate()
    )
    fidelity = operation.get("ipp-attribute-fidelity")
    if template.unsupported and fidelity is not None and fidelity.value is True:
        raise IppRefusal(
            Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
            "the printer cannot honour "
            + ", ".join(attribute.name for attribute in template.unsupported),
            template.unsupported,
        )
    return template, document_format


#: Control characters (a file name's line break): a name value must not contain them, and
#: libcups refuses an answer whose job-name does.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def _job_title(request: Message) -> str:
    for name in ("job-name", "document-name"):
        attribute = operation_value(request, name)
        if attribute is None:
            continue
        title = _CONTROL_CHARACTERS.sub(" ", str(attribute.value)).strip()
        if title:
            return title[:255]
    return "Untitled"


def _created(
    request: Message, ipp_job: IppJob, endpoint: Endpoint, template: JobTemplate
) -> Message:
    status = (
        Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
        if template.unsupported
        else Status.SUCCESSFUL_OK
    )
    attributes = tuple(job_status_attributes(ipp_job, endpoint))
    return respond(
        request,
        status,
        groups=[
            *unsupported_group(template.unsupported),
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
        with one_writer_at_a_time(), transaction.atomic():
            if ipp_job.pk is not None:
                # Send-Document: checked again under the job's lock, after the conversion.
                locked = locked_ipp_job(ipp_job.pk)
                check_open(locked, timezone.now())
                if locked.job is not None:
                    raise _second_document()
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
                if ipp_job.pk is None:
                    ipp_job.save()
                else:
                    ipp_job.save(update_fields=["job"])
            except BaseException:
                delete_document(job.document_name)
                raise
    except NoPageOfDocument as error:
        raise IppRefusal(
            Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED, str(error)
        ) from None
    except DocumentError as error:
        raise IppRefusal(Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR, str(error)) from None
    logger.info("IPP job %s held as job %s for %s", ipp_job.pk, job.pk, ipp_job.owner)


def _second_document() -> IppRefusal:
    # The status RFC 8011 (13.1.5.10) has for it, as multiple-document-jobs-supported is false.
    return IppRefusal(
        Status.SERVER_ERROR_MULTIPLE_DOCUMENT_JOBS_NOT_SUPPORTED,
        "the job has its document: send each document as a job of its own",
    )


def _new_ipp_job(request: Message, user: User, template: JobTemplate) -> IppJob:
    return IppJob(
        owner=user,
        name=_job_title(request),
        options=template.options,
        copies=template.copies,
        page_ranges=template.page_ranges,
    )


def print_job(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    template, document_format = _job_request(request, with_format=True)
    ipp_job = _new_ipp_job(request, user, template)
    _hold_document(ipp_job, document, document_format)
    return _created(request, ipp_job, endpoint, template)


def validate_job(
    request: Message, user: User, endpoint: Endpoint, document: Path | None
) -> Message:
    template, _format = _job_request(request, with_format=True)
    status = (
        Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
        if template.unsupported
        else Status.SUCCESSFUL_OK
    )
    return respond(request, status, groups=unsupported_group(template.unsupported))


def create_job(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    template, _format = _job_request(request, with_format=False)
    ipp_job = _new_ipp_job(request, user, template)
    ipp_job.save()
    return _created(request, ipp_job, endpoint, template)


def locked_ipp_job(ipp_job_id: int) -> IppJob:
    ipp_job = (
        IppJob.objects.select_for_update(of=("self",))
        .select_related("job")
        .filter(pk=ipp_job_id)
        .first()
    )
    if ipp_job is None:
        raise IppRefusal(Status.CLIENT_ERROR_NOT_FOUND, f"there is no job {ipp_job_id}")
    return ipp_job


def check_open(ipp_job: IppJob, at: datetime) -> None:
    """Refuse a job that ended before its document came: canceled, or aborted at `at`."""
    if ipp_job.canceled_at is not None:
        raise IppRefusal(Status.CLIENT_ERROR_NOT_POSSIBLE, "the job is canceled")
    if waited_in_vain(ipp_job, at):
        raise IppRefusal(
            Status.CLIENT_ERROR_NOT_POSSIBLE, f"the job was {aborted_message(ipp_job)}"
        )


@dataclass(frozen=True)
class Arrival:
    """A Send-Document bringing a job's document: the job, and when its data began to come."""

    ipp_job_id: int
    since: datetime


def document_arriving(request: Message, user: User) -> Arrival | None:
    """Before a Send-Document's data is read: refuse it (IppRefusal) when its job can take no
    document, and mark a job still without one as receiving it. The time-out then waits for
    the upload: it counts until the next Send-Document arrives, not until it has been read,
    and every answer about the job (its state, Cancel-My-Jobs) sees the mark. The returned
    mark is cleared by document_arrived once the request is over."""
    now = timezone.now()
    with transaction.atomic():
        ipp_job = target_job(request, user, lock=True, own=True)
        check_open(ipp_job, now)
        if ipp_job.job is not None:
            return None
        ipp_job.document_arriving_since = now
        ipp_job.save(update_fields=["document_arriving_since"])
    return Arrival(ipp_job.pk, now)


def document_arrived(arrival: Arrival) -> None:
    """After a Send-Document: a job it did not give its document waits (and times out) as
    before. Only this request's mark is cleared, not a later Send-Document's."""
    IppJob.objects.filter(
        pk=arrival.ipp_job_id, job__isnull=True, document_arriving_since=arrival.since
    ).update(document_arriving_since=None)


def send_document(
    request: Message, user: User, endpoint: Endpoint, document: Path | None
) -> Message:
    last = operation_value(request, "last-document")
    if last is None or last.tag != ValueTag.BOOLEAN:
        raise IppRefusal(Status.CLIENT_ERROR_BAD_REQUEST, "last-document is missing")
    _template, document_format = _job_request(request, with_format=True)
    ipp_job = target_job(request, user, own=True)
    check_open(ipp_job, timezone.now())
    has_data = document is not None and document.stat().st_size > 0
    if ipp_job.job is not None:
        if has_data:
            raise _second_document()
    elif not has_data:
        raise IppRefusal(Status.CLIENT_ERROR_BAD_REQUEST, "the request carries no document")
    else:
        # One document per job: the first one, even with last-document false, is the job's.
        _hold_document(ipp_job, document, document_format)
    return _created(request, ipp_job, endpoint, JobTemplate())


def close_job(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    """No more documents for this job (PWG 5100.11). A job holds one document, so a job with
    it is closed already; one still without it ends, as there is nothing to print."""
    now = timezone.now()
    with transaction.atomic():
        ipp_job = target_job(request, user, lock=True, own=True)
        check_open(ipp_job, now)
        if ipp_job.job is None:
            ipp_job.canceled_at = now
            ipp_job.save(update_fields=["canceled_at"])
        elif ipp_job.job.state in TERMINAL_STATES:
            raise IppRefusal(
                Status.CLIENT_ERROR_NOT_POSSIBLE,
                f"the job is {ipp_job.job.get_state_display().lower()}",
            )
    return respond(request, Status.SUCCESSFUL_OK)


# --------------------------------------------------------------------------- job queries


def get_job_attributes(
    request: Message, user: User, endpoint: Endpoint, document: Path | None
) -> Message:
    ipp_job = target_job(request, user)
    requested = requested_attributes(request)
    return respond(
        request,
        Status.SUCCESSFUL_OK,
        groups=[job_attribute_group(ipp_job, endpoint, requested, timezone.now())],
    )


def get_jobs(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    which = operation_value(request, "which-jobs")
    which_jobs = str(which.value) if which is not None else "not-completed"
    if which is not None and which_jobs not in ("not-completed", "completed", "all"):
        raise IppRefusal(
            Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
            f"which-jobs {which_jobs} is not supported",
            [which],
        )
    job_ids = requested_job_ids(request)
    now = timezone.now()
    jobs = visible_jobs(user)
    if job_ids is not None:
        # The jobs asked for by number, whatever their state (which-jobs does not apply).
        jobs = jobs.filter(pk__in=job_ids)
    elif which_jobs == "not-completed":
        jobs = jobs.filter(not_completed(now))
    elif which_jobs == "completed":
        jobs = jobs.exclude(not_completed(now))
    my_jobs = operation_value(request, "my-jobs")
    if my_jobs is not None and my_jobs.value is True:
        jobs = jobs.filter(owner=user)
    limit = operation_value(request, "limit")
    count = 1000
    if limit is not None and isinstance(limit.value, int) and limit.value > 0:
        count = min(count, limit.value)
    # Paging (PWG 5100.13): with limit, first-index says where the client's next page starts.
    first_index = operation_value(request, "first-index")
    skipped = 0
    if first_index is not None:
        if (
            first_index.tag != ValueTag.INTEGER
            or not isinstance(first_index.value, int)
            or first_index.value < 1
        ):
            raise IppRefusal(
                Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                "first-index must be a number from 1",
                [first_index],
            )
        skipped = first_index.value - 1
    requested = requested_attributes(request) or {"job-id", "job-uri"}
    groups = [
        job_attribute_group(ipp_job, endpoint, requested, now)
        for ipp_job in jobs.order_by("-id")[skipped : skipped + count]
    ]
    return respond(request, Status.SUCCESSFUL_OK, groups=groups)
