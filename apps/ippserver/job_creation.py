"""Creating jobs at our printer (Print-Job, Validate-Job, Create-Job) and what every job
creation shares: the checks of its request, its name and its answer, a document held as a
held job or refused, and the job's lock and the checks of its state.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.writers import one_writer_at_a_time
from apps.ippserver.attributes import DOCUMENT_TIME_OUT_SECONDS
from apps.ippserver.ipp_jobs import (
    aborted_message,
    job_status_attributes,
    timed_out,
    waited_in_vain,
)
from apps.ippserver.job_template import JobTemplate, job_template
from apps.ippserver.models import IppJob
from apps.ippserver.pdf_parts import pdf_starts, split_pdfs
from apps.ippserver.printer_operations import product_capabilities, product_extension_offers
from apps.ippserver.protocol import (
    Endpoint,
    IppRefusal,
    operation_value,
    respond,
    unsupported_group,
)
from apps.jobs.build import NoPageOfDocument
from apps.jobs.choices import JobSource
from apps.jobs.convert import ACCEPTED_FORMATS, OCTET_STREAM, to_pdf
from apps.jobs.documents import DocumentError
from apps.jobs.models import Job
from apps.jobs.services import (
    MAX_DOCUMENTS_PER_JOB,
    DocumentToHold,
    PreparedDocument,
    discard_prepared,
    job_create_prepared,
    prepare_held,
    prepare_held_together,
)
from printmgmt.ipp import AttributeGroup, GroupTag, Message, Status

logger = logging.getLogger(__name__)


def job_request(request: Message, *, with_format: bool) -> tuple[JobTemplate, str]:
    """Check the operation attributes of a job creation; the template and document format."""
    document_format = document_request(request, with_format=with_format)
    operation = request.operation_attributes
    job_group = request.group(GroupTag.JOB)
    # What the printers can do is asked (of the database) only for an attribute checked against it.
    template = (
        job_template(job_group.attributes, product_capabilities, product_extension_offers)
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


def document_request(request: Message, *, with_format: bool = True) -> str:
    """Check the compression (of a document sent now, or to come) and, `with_format`, the
    document format of a request; the format (octet-stream: detected by content)."""
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
    return document_format


#: Control characters (a file name's line break): a name value must not contain them, and
#: libcups refuses an answer whose job-name does.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


#: The name of a job created without job-name, until a document brings a document-name.
UNTITLED = "Untitled"


def name_value(request: Message, name: str) -> str:
    attribute = operation_value(request, name)
    if attribute is None:
        return ""
    return _CONTROL_CHARACTERS.sub(" ", str(attribute.value)).strip()[:255]


def _job_title(request: Message) -> str:
    return name_value(request, "job-name") or name_value(request, "document-name") or UNTITLED


def created_answer(
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


class DocumentRefused(IppRefusal):
    """A document of a job refused (its format, its content, one too many): the job ends."""


@contextlib.contextmanager
def refused_documents() -> Iterator[None]:
    """A document or page selection a job cannot be held with, as the IPP status saying so."""
    try:
        yield
    except NoPageOfDocument as error:
        raise DocumentRefused(
            Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED, str(error)
        ) from None
    except DocumentError as error:
        raise DocumentRefused(Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR, str(error)) from None


def numbered_document(number: int) -> str:
    """What a job calls its document `number` that the client gave no name."""
    return _("document %(number)d") % {"number": number}


def hold_document(
    ipp_job: IppJob,
    document: Path | None,
    document_format: str,
    *,
    document_name: str,
    split: bool,
) -> None:
    """Convert the document, hold it, and save the IPP job with its held job. Raises IppRefusal
    naming a refused document, as a job of several documents does: by `document_name` (the
    request's document-name), else by the job's name.

    The document is converted, read and stored before the transaction (_prepared), so the
    transaction (and SQLite's single write lock) lasts only for the inserts.
    """
    if document is None or document.stat().st_size == 0:
        raise IppRefusal(Status.CLIENT_ERROR_BAD_REQUEST, "the request carries no document")
    named = document_name or (ipp_job.name if ipp_job.name != UNTITLED else numbered_document(1))
    pdfs: list[DocumentToHold] = []
    try:
        with refused_documents():
            try:
                pdfs = document_pdfs(
                    document, document_format, name=named, first_number=1, split=split
                )
                prepared = _prepared(pdfs, ipp_job.page_ranges)
            except DocumentError as error:
                # PDFs sent back to back are each named (prepare_held_together), and a page
                # selection is the job's, not the document's.
                if len(pdfs) > 1 or isinstance(error, NoPageOfDocument):
                    raise
                raise DocumentError(f"{named}: {error}") from None
        try:
            with one_writer_at_a_time(), transaction.atomic():
                if ipp_job.pk is not None:
                    # Send-Document: checked again under the job's lock, after the conversion.
                    locked = locked_ipp_job(ipp_job.pk)
                    check_takes_documents(locked, timezone.now())
                    # A document that came meanwhile is refused, not merged in: the two were
                    # sent at once, so neither order is the one the client meant.
                    if locked.documents:
                        raise _concurrent()
                ipp_job.job = job_held_for(ipp_job, prepared)
                if ipp_job.pk is None:
                    ipp_job.save()
                else:
                    ipp_job.save(update_fields=["job", "name"])
        except BaseException:
            discard_prepared(prepared)
            raise
    finally:
        delete_pdfs(pdfs)
    logger.info("IPP job %s held as job %s for %s", ipp_job.pk, ipp_job.job_id, ipp_job.owner)


def job_held_for(ipp_job: IppJob, prepared: PreparedDocument) -> Job:
    """The held job of an IPP job, with the options its client asked for, from its prepared
    document; in the caller's transaction."""
    return job_create_prepared(
        ipp_job.owner,
        prepared,
        title=ipp_job.name,
        source=JobSource.IPP,
        options=ipp_job.options,
        copies=ipp_job.copies,
    )


def _prepared(pdfs: Sequence[DocumentToHold], page_ranges: str) -> PreparedDocument:
    """The document of a held job made of `pdfs`: one is moved into the spool as it is
    (no copy), several are merged. Raises DocumentError."""
    if len(pdfs) == 1:
        return prepare_held(pdfs[0].pdf, page_ranges=page_ranges, move=True)
    return prepare_held_together(pdfs, page_ranges=page_ranges)


def document_pdfs(
    document: Path, document_format: str, *, name: str, first_number: int, split: bool
) -> list[DocumentToHold]:
    """The document as PDF, converted (to_pdf); or, when `split` (a client that may send them:
    Endpoint.from_cups) and it is PDFs sent back to back (as CUPS sends `lp a.pdf b.pdf`, see
    pdf_parts), each of them, named as the job's documents from `first_number` on. Their files
    are deleted with delete_pdfs. Raises DocumentError."""
    pdf = to_pdf(document, document_format)
    starts = pdf_starts(pdf, MAX_DOCUMENTS_PER_JOB) if split and pdf == document else []
    if not starts:
        return [DocumentToHold(pdf, name, name, move=False)]
    if len(starts) >= MAX_DOCUMENTS_PER_JOB:
        raise too_many_documents()
    parts = split_pdfs(pdf, starts)
    documents = []
    for number, part in enumerate(parts, start=first_number):
        named = numbered_document(number)
        documents.append(DocumentToHold(part, named, named, move=False))
    return documents


def delete_pdfs(pdfs: list[DocumentToHold]) -> None:
    """Delete what document_pdfs made (the upload itself goes with its request anyway)."""
    for document in pdfs:
        document.pdf.unlink(missing_ok=True)


def closed_refusal() -> IppRefusal:
    return IppRefusal(
        Status.CLIENT_ERROR_NOT_POSSIBLE,
        "the job has all its documents: send more documents as a job of their own",
    )


def _concurrent() -> IppRefusal:
    return IppRefusal(
        Status.CLIENT_ERROR_NOT_POSSIBLE,
        "another document of the job arrived meanwhile: send a job's documents one at a time",
    )


def too_many_documents() -> DocumentRefused:
    return DocumentRefused(
        Status.CLIENT_ERROR_NOT_POSSIBLE,
        f"a job takes at most {MAX_DOCUMENTS_PER_JOB} documents: send the rest as another job",
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
    template, document_format = job_request(request, with_format=True)
    ipp_job = _new_ipp_job(request, user, template)
    hold_document(
        ipp_job,
        document,
        document_format,
        document_name=name_value(request, "document-name"),
        split=endpoint.from_cups,
    )
    return created_answer(request, ipp_job, endpoint, template)


def validate_job(
    request: Message, user: User, endpoint: Endpoint, document: Path | None
) -> Message:
    template, _format = job_request(request, with_format=True)
    status = (
        Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
        if template.unsupported
        else Status.SUCCESSFUL_OK
    )
    return respond(request, status, groups=unsupported_group(template.unsupported))


def create_job(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    template, _format = job_request(request, with_format=False)
    ipp_job = _new_ipp_job(request, user, template)
    ipp_job.save()
    return created_answer(request, ipp_job, endpoint, template)


def locked_ipp_job(ipp_job_id: int) -> IppJob:
    return ipp_job_by_id(ipp_job_id, lock=True)


def ipp_job_by_id(ipp_job_id: int, *, lock: bool = False) -> IppJob:
    jobs = IppJob.objects.select_related("job")
    if lock:
        jobs = jobs.select_for_update(of=("self",))
    ipp_job = jobs.filter(pk=ipp_job_id).first()
    if ipp_job is None:
        raise IppRefusal(Status.CLIENT_ERROR_NOT_FOUND, f"there is no job {ipp_job_id}")
    return ipp_job


def check_open(ipp_job: IppJob, at: datetime) -> None:
    """Refuse a job that ended before its documents came: canceled, or aborted at `at`."""
    if ipp_job.canceled_at is not None:
        raise IppRefusal(Status.CLIENT_ERROR_NOT_POSSIBLE, "the job is canceled")
    if ipp_job.refused_at is not None:
        raise IppRefusal(
            Status.CLIENT_ERROR_NOT_POSSIBLE, f"the job was aborted: {ipp_job.refusal}"
        )
    if waited_in_vain(ipp_job, at):
        raise IppRefusal(
            Status.CLIENT_ERROR_NOT_POSSIBLE, f"the job was {aborted_message(ipp_job)}"
        )


def check_takes_documents(ipp_job: IppJob, at: datetime) -> None:
    """Refuse a document for a job that has ended, has all its documents, or whose next
    document is late: that job is held with the documents it received."""
    check_open(ipp_job, at)
    if ipp_job.job is not None:
        raise closed_refusal()
    if timed_out(ipp_job, at):
        raise IppRefusal(
            Status.CLIENT_ERROR_NOT_POSSIBLE,
            f"the job takes no more documents: none came within {DOCUMENT_TIME_OUT_SECONDS} s "
            f"of the last, so it is held with the {len(ipp_job.documents)} it received",
        )
