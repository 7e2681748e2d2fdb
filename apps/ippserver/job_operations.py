"""The job operations of our printer: creating jobs (Print-Job, Validate-Job, Create-Job,
Send-Document, Close-Job), asking about them (Get-Job-Attributes, Get-Jobs) and changing them
(Cancel-Job, Cancel-My-Jobs, Hold-Job, Release-Job). A job's document becomes a held job in the
hold queue.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from apps.accounts.errors import AccountError
from apps.accounts.models import User
from apps.ippserver.attributes import DOCUMENT_TIME_OUT_SECONDS, JobTemplate, job_template
from apps.ippserver.ipp_jobs import (
    job_attribute_group,
    job_status_attributes,
    not_completed,
    requested_job_ids,
    target_job,
    visible_jobs,
    waited_in_vain,
)
from apps.ippserver.models import IppJob, PrintingProfile
from apps.ippserver.printer_operations import product_capabilities
from apps.ippserver.protocol import (
    Endpoint,
    IppRefusal,
    operation_value,
    requested_attributes,
    respond,
    unsupported_group,
)
from apps.jobs import pipeline
from apps.jobs.choices import TERMINAL_STATES, JobSource, JobState
from apps.jobs.convert import ACCEPTED_FORMATS, OCTET_STREAM, to_pdf
from apps.jobs.documents import DocumentError, delete_document
from apps.jobs.release import ReleaseRefused, job_release
from apps.jobs.services import job_create_held
from printmgmt.ipp import Attribute, AttributeGroup, GroupTag, Message, Status, ValueTag

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
    # What the printers can do is only asked (of the database) when there is something to check.
    template = (
        job_template(job_group.attributes, product_capabilities())
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


def _job_title(request: Message) -> str:
    for name in ("job-name", "document-name"):
        attribute = operation_value(request, name)
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


def send_document(
    request: Message, user: User, endpoint: Endpoint, document: Path | None
) -> Message:
    last = operation_value(request, "last-document")
    if last is None or last.tag != ValueTag.BOOLEAN:
        raise IppRefusal(Status.CLIENT_ERROR_BAD_REQUEST, "last-document is missing")
    _template, document_format = _job_request(request, with_format=True)
    with transaction.atomic():
        ipp_job = target_job(request, user, lock=True)
        has_data = document is not None and document.stat().st_size > 0
        if waited_in_vain(ipp_job, endpoint.received_at):
            raise IppRefusal(Status.CLIENT_ERROR_NOT_POSSIBLE, _TIMED_OUT)
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


_TIMED_OUT = f"the job was aborted: its document did not come within {DOCUMENT_TIME_OUT_SECONDS} s"


def close_job(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    """No more documents for this job (PWG 5100.11). A job holds one document, so a job with
    it is closed already; one still without it ends, as there is nothing to print."""
    with transaction.atomic():
        ipp_job = target_job(request, user, lock=True)
        if ipp_job.canceled_at is not None:
            raise IppRefusal(Status.CLIENT_ERROR_NOT_POSSIBLE, "the job is canceled")
        if waited_in_vain(ipp_job, endpoint.received_at):
            raise IppRefusal(Status.CLIENT_ERROR_NOT_POSSIBLE, _TIMED_OUT)
        if ipp_job.job is None:
            ipp_job.canceled_at = timezone.now()
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
    return respond(
        request,
        Status.SUCCESSFUL_OK,
        groups=[job_attribute_group(ipp_job, endpoint, requested_attributes(request))],
    )


def get_jobs(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    which = operation_value(request, "which-jobs")
    which_jobs = str(which.value) if which is not None else "not-completed"
    job_ids = requested_job_ids(request)
    jobs = visible_jobs(user)
    if job_ids is not None:
        # The jobs asked for by number, whatever their state (which-jobs does not apply).
        jobs = jobs.filter(pk__in=job_ids)
    elif which_jobs == "not-completed":
        jobs = jobs.filter(not_completed(endpoint.received_at))
    elif which_jobs == "completed":
        jobs = jobs.exclude(not_completed(endpoint.received_at))
    elif which_jobs != "all":
        assert which is not None
        raise IppRefusal(
            Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
            f"which-jobs {which_jobs} is not supported",
            [which],
        )
    my_jobs = operation_value(request, "my-jobs")
    if my_jobs is not None and my_jobs.value is True:
        jobs = jobs.filter(owner=user)
    limit = operation_value(request, "limit")
    count = 1000
    if limit is not None and isinstance(limit.value, int) and limit.value > 0:
        count = min(count, limit.value)
    requested = requested_attributes(request) or {"job-id", "job-uri"}
    groups = [
        job_attribute_group(ipp_job, endpoint, requested)
        for ipp_job in jobs.order_by("-id")[:count]
    ]
    return respond(request, Status.SUCCESSFUL_OK, groups=groups)


# --------------------------------------------------------------------------- job changes


def _cancel(ipp_job_id: int, user: User, endpoint: Endpoint) -> str | None:
    """Cancel one job; why it cannot be, or None when it was canceled."""
    with transaction.atomic():
        ipp_job = (
            IppJob.objects.select_for_update(of=("self",)).select_related("job").get(pk=ipp_job_id)
        )
        if ipp_job.job is None:
            if ipp_job.canceled_at is not None:
                return "the job is canceled already"
            if waited_in_vain(ipp_job, endpoint.received_at):
                return _TIMED_OUT
            ipp_job.canceled_at = timezone.now()
            ipp_job.save(update_fields=["canceled_at"])
            return None
        job = ipp_job.job
    # Outside the transaction: a job at a printer is canceled there too, over the network.
    reason = f"canceled from a device by {user.username}"
    if job.state in TERMINAL_STATES or pipeline.cancel(job.pk, reason=reason) is None:
        job.refresh_from_db(fields=["state"])
        return f"the job is {job.get_state_display().lower()} and cannot be canceled"
    return None


def cancel_job(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    refused = _cancel(target_job(request, user).pk, user, endpoint)
    if refused is not None:
        raise IppRefusal(Status.CLIENT_ERROR_NOT_POSSIBLE, refused)
    return respond(request, Status.SUCCESSFUL_OK)


def cancel_my_jobs(
    request: Message, user: User, endpoint: Endpoint, document: Path | None
) -> Message:
    """Cancel the user's own jobs that have not ended, or those `job-ids` names (PWG 5100.11):
    all of them or, when one cannot be, none."""
    job_ids = requested_job_ids(request)
    mine = IppJob.objects.filter(owner=user)
    if job_ids is None:
        for ipp_job_id in mine.filter(not_completed(endpoint.received_at)).values_list(
            "pk", flat=True
        ):
            _cancel(ipp_job_id, user, endpoint)  # one that ended meanwhile stays as it ended
        return respond(request, Status.SUCCESSFUL_OK)
    found = set(mine.filter(pk__in=job_ids).values_list("pk", flat=True))
    unknown = [i for i in job_ids if i not in found]
    if unknown:
        raise IppRefusal(
            Status.CLIENT_ERROR_NOT_FOUND,
            "you have no job " + ", ".join(map(str, unknown)),
            [Attribute.integer("job-ids", *unknown)],
        )
    ended = list(
        mine.filter(pk__in=job_ids)
        .exclude(not_completed(endpoint.received_at))
        .values_list("pk", flat=True)
    )
    if ended:
        raise IppRefusal(
            Status.CLIENT_ERROR_NOT_POSSIBLE,
            "these jobs have ended and cannot be canceled: " + ", ".join(map(str, ended)),
            [Attribute.integer("job-ids", *ended)],
        )
    refused = [i for i in job_ids if _cancel(i, user, endpoint) is not None]
    if refused:  # they ended while the others were canceled
        raise IppRefusal(
            Status.CLIENT_ERROR_NOT_POSSIBLE,
            "these jobs ended before they could be canceled: " + ", ".join(map(str, refused)),
            [Attribute.integer("job-ids", *refused)],
        )
    return respond(request, Status.SUCCESSFUL_OK)


def hold_job(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    ipp_job = target_job(request, user)
    if ipp_job.canceled_at is not None or (
        ipp_job.job is not None and ipp_job.job.state != JobState.HELD
    ):
        raise IppRefusal(Status.CLIENT_ERROR_NOT_POSSIBLE, "the job is no longer held")
    return respond(request, Status.SUCCESSFUL_OK, "held jobs stay held until released")


def release_job(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    ipp_job = target_job(request, user)
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
