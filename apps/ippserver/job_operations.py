"""The job operations of our printer: creating jobs (Print-Job, Validate-Job, Create-Job,
Send-Document, Close-Job), asking about them (Get-Job-Attributes, Get-Jobs) and changing them
(Cancel-Job, Cancel-My-Jobs, Hold-Job, Release-Job). A job's documents become a held job in the
hold queue.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.writers import one_writer_at_a_time
from apps.ippserver.attributes import DOCUMENT_TIME_OUT_SECONDS
from apps.ippserver.ipp_jobs import (
    aborted_message,
    job_attribute_group,
    job_status_attributes,
    not_completed,
    requested_job_ids,
    target_job,
    timed_out,
    timed_out_at,
    visible_jobs,
    waited_in_vain,
)
from apps.ippserver.job_template import JobTemplate, job_template
from apps.ippserver.models import IppJob
from apps.ippserver.pdf_parts import pdf_starts, split_pdfs
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
from apps.jobs.documents import DocumentError, inspect_pdf
from apps.jobs.services import (
    MAX_DOCUMENTS_PER_JOB,
    DocumentToHold,
    PreparedDocument,
    discard_prepared,
    job_create_prepared,
    prepare_held,
    prepare_held_together,
)
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


#: The name of a job created without job-name, until a document brings a document-name.
UNTITLED = "Untitled"


def _name_value(request: Message, name: str) -> str:
    attribute = operation_value(request, name)
    if attribute is None:
        return ""
    return _CONTROL_CHARACTERS.sub(" ", str(attribute.value)).strip()[:255]


def _job_title(request: Message) -> str:
    return _name_value(request, "job-name") or _name_value(request, "document-name") or UNTITLED


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


class DocumentRefused(IppRefusal):
    """A document of a job refused (its format, its content, one too many): the job ends."""


@contextlib.contextmanager
def _refused_documents() -> Iterator[None]:
    """A document or page selection a job cannot be held with, as the IPP status saying so."""
    try:
        yield
    except NoPageOfDocument as error:
        raise DocumentRefused(
            Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED, str(error)
        ) from None
    except DocumentError as error:
        raise DocumentRefused(Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR, str(error)) from None


def _hold_document(
    ipp_job: IppJob, document: Path | None, document_format: str, *, split: bool
) -> None:
    """Convert the document, hold it, and save the IPP job with its held job. Raises IppRefusal.

    The document is converted, read and stored before the transaction (_prepared), so the
    transaction (and SQLite's single write lock) lasts only for the inserts.
    """
    if document is None or document.stat().st_size == 0:
        raise IppRefusal(Status.CLIENT_ERROR_BAD_REQUEST, "the request carries no document")
    pdfs: list[DocumentToHold] = []
    try:
        with _refused_documents():
            pdfs = _pdfs(document, document_format, name=ipp_job.name, first_number=1, split=split)
            prepared = _prepared(pdfs, ipp_job.page_ranges)
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
                ipp_job.job = job_create_prepared(
                    ipp_job.owner,
                    prepared,
                    title=ipp_job.name,
                    source=JobSource.IPP,
                    options=ipp_job.options,
                    copies=ipp_job.copies,
                )
                if ipp_job.pk is None:
                    ipp_job.save()
                else:
                    ipp_job.save(update_fields=["job", "name"])
        except BaseException:
            discard_prepared(prepared)
            raise
    finally:
        _delete_pdfs(pdfs)
    logger.info("IPP job %s held as job %s for %s", ipp_job.pk, ipp_job.job_id, ipp_job.owner)


def _prepared(pdfs: Sequence[DocumentToHold], page_ranges: str) -> PreparedDocument:
    """The document of a held job made of `pdfs`: one is moved into the spool as it is
    (no copy), several are merged. Raises DocumentError."""
    if len(pdfs) == 1:
        return prepare_held(pdfs[0].pdf, page_ranges=page_ranges, move=True)
    return prepare_held_together(pdfs, page_ranges=page_ranges)


def _pdfs(
    document: Path, document_format: str, *, name: str, first_number: int, split: bool
) -> list[DocumentToHold]:
    """The document as PDF, converted (to_pdf); or, when `split` (a client that may send them:
    Endpoint.from_cups) and it is PDFs sent back to back (as CUPS sends `lp a.pdf b.pdf`, see
    pdf_parts), each of them, named as the job's documents from `first_number` on. Their files
    are deleted with _delete_pdfs. Raises DocumentError."""
    pdf = to_pdf(document, document_format)
    starts = pdf_starts(pdf, MAX_DOCUMENTS_PER_JOB) if split and pdf == document else []
    if not starts:
        return [DocumentToHold(pdf, name, name, move=False)]
    if len(starts) >= MAX_DOCUMENTS_PER_JOB:
        raise _too_many_documents()
    parts = split_pdfs(pdf, starts)
    documents = []
    for number, part in enumerate(parts, start=first_number):
        named = _("document %(number)d") % {"number": number}
        documents.append(DocumentToHold(part, named, named, move=False))
    return documents


def _delete_pdfs(pdfs: list[DocumentToHold]) -> None:
    """Delete what _pdfs made (the upload itself goes with its request anyway)."""
    for document in pdfs:
        document.pdf.unlink(missing_ok=True)


def _closed() -> IppRefusal:
    return IppRefusal(
        Status.CLIENT_ERROR_NOT_POSSIBLE,
        "the job has all its documents: send more documents as a job of their own",
    )


def _concurrent() -> IppRefusal:
    return IppRefusal(
        Status.CLIENT_ERROR_NOT_POSSIBLE,
        "another document of the job arrived meanwhile: send a job's documents one at a time",
    )


def _too_many_documents() -> DocumentRefused:
    return DocumentRefused(
        Status.CLIENT_ERROR_NOT_POSSIBLE,
        f"a job takes at most {MAX_DOCUMENTS_PER_JOB} documents: send the rest as another job",
    )


def _received_path(document: Mapping[str, object]) -> Path:
    return Path(settings.SPOOL_DIR) / str(document["file"])


def delete_received(documents: Iterable[Mapping[str, object]]) -> None:
    """Delete the spool files of documents a job received but never held."""
    for document in documents:
        _received_path(document).unlink(missing_ok=True)


def _receive_document(
    ipp_job: IppJob,
    document: Path,
    document_format: str,
    *,
    name: str,
    document_name: str,
    split: bool,
) -> None:
    """Convert and check a document that more are to follow, and keep it for the job under a
    hidden name in the spool (the spool's cleanup removes what a dead process left). `name` is
    what the job calls it, `document_name` what the client did (which names an untitled job).
    Raises DocumentRefused for a document the job cannot take, IppRefusal when the job has
    ended."""
    if len(ipp_job.documents) >= MAX_DOCUMENTS_PER_JOB:
        raise _too_many_documents()
    kept: list[dict[str, object]] = []
    pdfs: list[DocumentToHold] = []
    try:
        pdfs = _pdfs(
            document,
            document_format,
            name=name,
            first_number=len(ipp_job.documents) + 1,
            split=split,
        )
        for pdf in pdfs:
            try:
                pages = inspect_pdf(pdf.pdf).page_count
            except DocumentError as error:
                raise DocumentRefused(
                    Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR, f"{pdf.name}: {error}"
                ) from None
            # The upload, its conversion and its parts are in the spool: keeping one is a rename.
            path = Path(settings.SPOOL_DIR) / f".ipp-job-{ipp_job.pk}-{secrets.token_hex(8)}.pdf"
            os.replace(pdf.pdf, path)
            kept.append({"name": pdf.name, "file": path.name, "pages": pages})
        with one_writer_at_a_time(), transaction.atomic():
            locked = locked_ipp_job(ipp_job.pk)
            check_takes_documents(locked, timezone.now())
            if len(locked.documents) + len(kept) > MAX_DOCUMENTS_PER_JOB:
                raise _too_many_documents()
            locked.documents = [*locked.documents, *kept]
            locked.document_received_at = timezone.now()
            if locked.name == UNTITLED and document_name:
                locked.name = document_name
            locked.save(update_fields=["documents", "document_received_at", "name"])
    except DocumentError as error:
        delete_received(kept)
        raise DocumentRefused(
            Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR, f"{name}: {error}"
        ) from None
    except BaseException:
        delete_received(kept)
        raise
    finally:
        _delete_pdfs(pdfs)
    # Younger than the spool cleanup's age limit while the job waits for its next document;
    # a Cancel-Job may have deleted them since the commit.
    for received in locked.documents:
        with contextlib.suppress(FileNotFoundError):
            os.utime(_received_path(received))
    logger.info(
        "IPP job %s of %s received document %d", ipp_job.pk, ipp_job.owner, len(locked.documents)
    )


def _hold_received(
    ipp_job_id: int, last: Sequence[DocumentToHold] = (), *, only_timed_out: bool = False
) -> bool:
    """Hold a job's received documents, and `last` after them, as one held job; with
    `only_timed_out`, only a job whose next document is late (False otherwise). Raises
    DocumentRefused for a document or a page selection the job cannot be held with.

    Their PDF is merged and stored before the job's lock is taken (merging a hundred documents
    takes seconds, and the lock stalled every Send-Document and Cancel-Job of the job, and on
    SQLite every other write); under the lock the job is checked again, and held only with the
    documents that were merged."""
    ipp_job = _ipp_job(ipp_job_id)
    while True:
        if not _may_hold(ipp_job, closing=not last, only_timed_out=only_timed_out):
            return False
        received = list(ipp_job.documents)
        documents = [
            DocumentToHold(_received_path(d), str(d["name"]), str(d["name"]), move=False)
            for d in received
        ]
        documents += last
        if len(documents) > MAX_DOCUMENTS_PER_JOB:
            raise _too_many_documents()
        try:
            with _refused_documents():
                prepared = prepare_held_together(documents, page_ranges=ipp_job.page_ranges)
        except (DocumentRefused, FileNotFoundError):
            # A Cancel-Job meanwhile deletes the received documents: its outcome is the answer.
            ipp_job = _ipp_job(ipp_job_id)
            if not _may_hold(ipp_job, closing=not last, only_timed_out=only_timed_out):
                return False
            if ipp_job.documents != received:
                continue
            raise
        held = False
        try:
            with one_writer_at_a_time(), transaction.atomic():
                ipp_job = locked_ipp_job(ipp_job_id)
                if not _may_hold(ipp_job, closing=not last, only_timed_out=only_timed_out):
                    return False
                # Only a Send-Document can have changed the documents of a job that may still
                # be held: it added one, and told its client so. Merged again with it, the job
                # has every document it took (refusing would lose it, or, for a Close-Job, end
                # a job that still has its documents). Each round follows a document more, and
                # a job takes at most MAX_DOCUMENTS_PER_JOB, so the rounds end.
                if ipp_job.documents == received:
                    ipp_job.job = job_create_prepared(
                        ipp_job.owner,
                        prepared,
                        title=ipp_job.name,
                        source=JobSource.IPP,
                        options=ipp_job.options,
                        copies=ipp_job.copies,
                    )
                    ipp_job.documents = []
                    ipp_job.save(update_fields=["job", "documents"])
            held = ipp_job.job is not None
        finally:
            if not held:
                discard_prepared(prepared)
        if held:
            break
    delete_received(received)
    logger.info(
        "IPP job %s held as job %s of %d documents for %s",
        ipp_job_id,
        ipp_job.job_id,
        len(documents),
        ipp_job.owner,
    )
    return True


def _may_hold(ipp_job: IppJob, *, closing: bool, only_timed_out: bool) -> bool:
    """Whether the job may be held now: False for one not timed out when `only_timed_out`.
    Raises IppRefusal for one that has ended or is held, and, when a last document comes with
    it (not `closing`), for one that takes no more documents."""
    now = timezone.now()
    if only_timed_out and not timed_out(ipp_job, now):
        return False  # held, ended, or a document began to arrive meanwhile
    if closing:
        check_open(ipp_job, now)
        if ipp_job.job is not None:
            raise _closed()
    else:
        check_takes_documents(ipp_job, now)
    return True


def _abort(ipp_job_id: int, refusal: IppRefusal) -> None:
    """End a job one of whose documents was refused: nothing of it is held, and the documents
    it received are deleted."""
    with transaction.atomic():
        locked = locked_ipp_job(ipp_job_id)
        if locked.job is not None or locked.canceled_at is not None:
            return
        received = list(locked.documents)
        locked.refused_at = timezone.now()
        locked.refusal = str(refusal)[:255]
        locked.documents = []
        locked.save(update_fields=["refused_at", "refusal", "documents"])
    delete_received(received)
    logger.info("IPP job %s aborted: %s", ipp_job_id, refusal)


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
    _hold_document(ipp_job, document, document_format, split=endpoint.from_cups)
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
    return _ipp_job(ipp_job_id, lock=True)


def _ipp_job(ipp_job_id: int, *, lock: bool = False) -> IppJob:
    jobs = IppJob.objects.select_related("job")
    if lock:
        jobs = jobs.select_for_update(of=("self",))
    ipp_job = jobs.filter(pk=ipp_job_id).first()
    if ipp_job is None:
        raise IppRefusal(Status.CLIENT_ERROR_NOT_FOUND, f"there is no job {ipp_job_id}")
    return ipp_job


def close_timed_out_jobs() -> int:
    """Hold the jobs whose next document did not come within the time-out with the documents
    they received, as CUPS prints what a job has then (a job without any is aborted, and one
    that cannot be held with them too). Returns how many jobs were held."""
    late = (
        IppJob.objects.filter(timed_out_at(timezone.now()))
        .exclude(documents=[])
        .values_list("pk", flat=True)
    )
    held = 0
    for ipp_job_id in late:
        try:
            held += _hold_or_abort(ipp_job_id, only_timed_out=True)
        except IppRefusal as refusal:
            logger.info("IPP job %s not held after its time-out: %s", ipp_job_id, refusal)
    return held


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
        raise _closed()
    if timed_out(ipp_job, at):
        raise IppRefusal(
            Status.CLIENT_ERROR_NOT_POSSIBLE,
            f"the job takes no more documents: none came within {DOCUMENT_TIME_OUT_SECONDS} s "
            f"of the last, so it is held with the {len(ipp_job.documents)} it received",
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
        check_takes_documents(ipp_job, now)
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
    """A document of a job made by Create-Job. Those before the last are kept for the job; the
    last (or an empty last Send-Document after them) holds the job with all of them. A refused
    document aborts the job: nothing of it is held."""
    last = operation_value(request, "last-document")
    if last is None or last.tag != ValueTag.BOOLEAN:
        raise IppRefusal(Status.CLIENT_ERROR_BAD_REQUEST, "last-document is missing")
    ipp_job = target_job(request, user, own=True)
    now = timezone.now()
    check_open(ipp_job, now)
    has_data = document is not None and document.stat().st_size > 0
    if ipp_job.job is not None and not has_data:
        return _created(request, ipp_job, endpoint, JobTemplate())
    check_takes_documents(ipp_job, now)
    if not has_data:
        if last.value is not True or not ipp_job.documents:
            raise IppRefusal(Status.CLIENT_ERROR_BAD_REQUEST, "the request carries no document")
        # RFC 8011 4.3.1: an empty last Send-Document closes the job.
        _hold_or_abort(ipp_job.pk)
    else:
        assert document is not None
        try:
            _take_document(
                request, ipp_job, document, last=last.value is True, split=endpoint.from_cups
            )
        except DocumentRefused as refusal:
            _abort(ipp_job.pk, refusal)
            raise
    ipp_job.refresh_from_db()
    return _created(request, ipp_job, endpoint, JobTemplate())


def _take_document(
    request: Message, ipp_job: IppJob, document: Path, *, last: bool, split: bool
) -> None:
    try:
        _template, document_format = _job_request(request, with_format=True)
    except IppRefusal as refusal:
        raise DocumentRefused(refusal.status, str(refusal), refusal.unsupported) from None
    name = _name_value(request, "document-name")
    if last and not ipp_job.documents:
        if ipp_job.name == UNTITLED and name:
            ipp_job.name = name
        _hold_document(ipp_job, document, document_format, split=split)
        return
    number = len(ipp_job.documents) + 1
    title = name or _("document %(number)d") % {"number": number}
    if not last:
        _receive_document(
            ipp_job, document, document_format, name=title, document_name=name, split=split
        )
        return
    pdfs: list[DocumentToHold] = []
    try:
        pdfs = _pdfs(document, document_format, name=title, first_number=number, split=split)
        _hold_received(ipp_job.pk, pdfs)
    except DocumentError as error:
        raise DocumentRefused(
            Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR, f"{title}: {error}"
        ) from None
    finally:
        _delete_pdfs(pdfs)


def _hold_or_abort(
    ipp_job_id: int, last: Sequence[DocumentToHold] = (), *, only_timed_out: bool = False
) -> bool:
    try:
        return _hold_received(ipp_job_id, last, only_timed_out=only_timed_out)
    except DocumentRefused as refusal:
        _abort(ipp_job_id, refusal)
        raise


def close_job(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    """No more documents for this job (PWG 5100.11): the documents received are held as the
    job; one still without any ends, as there is nothing to print."""
    now = timezone.now()
    with transaction.atomic():
        ipp_job = target_job(request, user, lock=True, own=True)
        check_open(ipp_job, now)
        if ipp_job.job is None and not ipp_job.documents:
            ipp_job.canceled_at = now
            ipp_job.save(update_fields=["canceled_at"])
        elif ipp_job.job is not None and ipp_job.job.state in TERMINAL_STATES:
            raise IppRefusal(
                Status.CLIENT_ERROR_NOT_POSSIBLE,
                f"the job is {ipp_job.job.get_state_display().lower()}",
            )
    if ipp_job.job is None and ipp_job.documents:
        _hold_or_abort(ipp_job.pk)
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
