"""Jobs of several documents at our printer (made by Create-Job): Send-Document and Close-Job.
The documents before the last are kept in the spool, and the last (or Close-Job, or the
time-out of a job whose next document is late) holds the job with all of them; a refused
one aborts it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.writers import one_writer_at_a_time
from apps.ippserver.ipp_jobs import (
    target_job,
    timed_out,
    timed_out_at,
)
from apps.ippserver.job_creation import (
    UNTITLED,
    DocumentRefused,
    check_open,
    check_takes_documents,
    created_answer,
    delete_pdfs,
    document_pdfs,
    document_request,
    hold_document,
    ipp_job_by_id,
    job_held_for,
    locked_ipp_job,
    name_value,
    numbered_document,
    refused_documents,
    too_many_documents,
)
from apps.ippserver.job_template import JobTemplate
from apps.ippserver.models import IppJob
from apps.ippserver.protocol import (
    Endpoint,
    IppRefusal,
    operation_value,
    respond,
)
from apps.jobs.choices import TERMINAL_STATES
from apps.jobs.documents import DocumentError, inspect_pdf
from apps.jobs.services import (
    MAX_DOCUMENTS_PER_JOB,
    DocumentToHold,
    discard_prepared,
    prepare_held_together,
)
from printmgmt.ipp import Attribute, GroupTag, Message, Status, ValueTag

logger = logging.getLogger(__name__)


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
        raise too_many_documents()
    kept: list[dict[str, object]] = []
    pdfs: list[DocumentToHold] = []
    try:
        pdfs = document_pdfs(
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
                raise too_many_documents()
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
        delete_pdfs(pdfs)
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
    ipp_job = ipp_job_by_id(ipp_job_id)
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
            raise too_many_documents()
        try:
            with refused_documents():
                prepared = prepare_held_together(documents, page_ranges=ipp_job.page_ranges)
        except (DocumentRefused, FileNotFoundError):
            # A Cancel-Job meanwhile deletes the received documents: its outcome is the answer.
            ipp_job = ipp_job_by_id(ipp_job_id)
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
                    ipp_job.job = job_held_for(ipp_job, prepared)
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
    """Whether the job may be held now: False for one not timed out when `only_timed_out`,
    and, when `closing`, for one held meanwhile (a Close-Job sent again, or the time-out, got
    there first: the job has what the close asked for). Raises IppRefusal for one that has
    ended, and, when a last document comes with it (not `closing`), for one that takes no
    more documents."""
    now = timezone.now()
    if only_timed_out and not timed_out(ipp_job, now):
        return False  # held, ended, or a document began to arrive meanwhile
    if closing:
        check_open(ipp_job, now)
        if ipp_job.job is not None:
            return False
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
    document aborts the job: nothing of it is held.

    Send-Document takes no job attributes (RFC 8011 section 4.3.1: the job's were given by
    Create-Job): a job group sent with it is ignored, and the answer names its attributes as
    unsupported, as sent."""
    ignored = JobTemplate(unsupported=_job_group(request))
    last = operation_value(request, "last-document")
    if last is None or last.tag != ValueTag.BOOLEAN:
        raise IppRefusal(Status.CLIENT_ERROR_BAD_REQUEST, "last-document is missing")
    ipp_job = target_job(request, user, own=True)
    now = timezone.now()
    check_open(ipp_job, now)
    has_data = document is not None and document.stat().st_size > 0
    if ipp_job.job is not None and not has_data:
        return created_answer(request, ipp_job, endpoint, ignored)
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
    return created_answer(request, ipp_job, endpoint, ignored)


def _job_group(request: Message) -> list[Attribute]:
    return [a for group in request.groups_of(GroupTag.JOB) for a in group.attributes]


def _take_document(
    request: Message, ipp_job: IppJob, document: Path, *, last: bool, split: bool
) -> None:
    try:
        document_format = document_request(request)
    except IppRefusal as refusal:
        raise DocumentRefused(refusal.status, str(refusal), refusal.unsupported) from None
    name = name_value(request, "document-name")
    if last and not ipp_job.documents:
        if ipp_job.name == UNTITLED and name:
            ipp_job.name = name
        hold_document(ipp_job, document, document_format, document_name=name, split=split)
        return
    number = len(ipp_job.documents) + 1
    title = name or numbered_document(number)
    if not last:
        _receive_document(
            ipp_job, document, document_format, name=title, document_name=name, split=split
        )
        return
    pdfs: list[DocumentToHold] = []
    try:
        pdfs = document_pdfs(
            document, document_format, name=title, first_number=number, split=split
        )
        _hold_received(ipp_job.pk, pdfs)
    except DocumentError as error:
        raise DocumentRefused(
            Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR, f"{title}: {error}"
        ) from None
    finally:
        delete_pdfs(pdfs)


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
