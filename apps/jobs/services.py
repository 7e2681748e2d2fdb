"""Writes on jobs: creating held jobs and moving them through their states."""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.jobs.build import NoPageOfDocument, page_ranges_in_each, page_ranges_within
from apps.jobs.choices import JobSource, JobState, states_leading_to
from apps.jobs.documents import (
    LEFTOVER_AGE_SECONDS,
    DocumentError,
    StoredDocument,
    delete_document,
    inspect_pdf,
    max_job_pages,
    merge_pdfs,
    store_pdf,
)

# Where callers (the IPP printer, tests) have always found it.
from apps.jobs.documents import MAX_DOCUMENTS_PER_JOB as MAX_DOCUMENTS_PER_JOB
from apps.jobs.held_stamp import held_jobs_changed
from apps.jobs.models import Job, JobTransition

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentToHold:
    pdf: Path
    title: str
    #: What a refusal names it by (the file as the sender gave it).
    name: str
    #: Whether the PDF is ours to move into the spool (a converted copy), or only to copy.
    move: bool


@dataclass(frozen=True)
class PreparedDocument:
    """A held job's PDF, checked, counted and stored in the spool, before the job's rows exist.

    Reading, merging and storing large PDFs takes seconds: it is done (prepare_held,
    prepare_held_together) before any transaction or lock, and only the rows are written in
    one (job_create_prepared). One that does not become a job is deleted (discard_prepared).
    """

    stored: StoredDocument
    #: The page selection as the job keeps it: cut at the document's end, or applied to each.
    page_ranges: str
    #: The job's title when its caller has none.
    fallback_title: str
    #: The documents whose pages the PDF holds one after the other: name and pages of each.
    documents: tuple[dict[str, Any], ...] = ()


def prepare_held(
    pdf: Path, *, page_ranges: str = "", move: bool = False, most_pages: int | None = None
) -> PreparedDocument:
    """Store a PDF for a held job, its page selection cut at the document's end
    (page_ranges_within). No database access. Raises DocumentError for a bad PDF or page
    selection, or one of more than `most_pages` pages (a document's MAX_DOCUMENT_PAGES by
    default), and NoPageOfDocument for a selection of pages the document does not have: a
    job held with it could never be released."""
    stored = store_pdf(pdf, move=move, most_pages=most_pages)
    try:
        page_ranges = page_ranges_within(page_ranges, stored.page_count)
    except BaseException:
        delete_document(stored.name)
        raise
    return PreparedDocument(stored, page_ranges, fallback_title=pdf.name)


def prepare_held_together(
    documents: Sequence[DocumentToHold], *, page_ranges: str = ""
) -> PreparedDocument:
    """Store several documents as one PDF for a held job, their pages one after the other and
    the page selection applied to each (page_ranges_in_each). No database access; the
    documents to move stay until the job is created (job_create_held_together removes them).
    Each document is checked on its own (MAX_DOCUMENT_PAGES is a document's limit, so the job
    has at most max_job_pages()); a refused one is named in the DocumentError, and nothing is
    stored."""
    if not documents:
        raise ValueError("a job needs a document")
    if len(documents) > MAX_DOCUMENTS_PER_JOB:
        raise DocumentError(
            _("a job takes at most %(most)d documents; this one has %(count)d")
            % {"most": MAX_DOCUMENTS_PER_JOB, "count": len(documents)}
        )
    if len(documents) == 1:
        only = documents[0]
        try:
            prepared = prepare_held(only.pdf, page_ranges=page_ranges, move=only.move)
        except NoPageOfDocument:
            # The page selection is the job's, not the document's: it stays what it is.
            raise
        except DocumentError as error:
            raise DocumentError(f"{only.name}: {error}") from None
        return replace(prepared, fallback_title=only.title or prepared.fallback_title)
    listed: list[dict[str, Any]] = []
    for document in documents:
        try:
            pages = inspect_pdf(document.pdf).page_count
        except DocumentError as error:
            raise DocumentError(f"{document.name}: {error}") from None
        listed.append({"name": document.name[:255], "pages": pages})
    selection = page_ranges_in_each(page_ranges, [int(document["pages"]) for document in listed])
    # In the spool, under a hidden name: a process that dies here leaves a file the spool's
    # cleanup removes, and storing it is one rename.
    merged = Path(settings.SPOOL_DIR) / f".merge-{secrets.token_hex(8)}.pdf"
    merged.parent.mkdir(parents=True, exist_ok=True)
    try:
        merge_pdfs([document.pdf for document in documents], merged)
        # Each document was checked: the whole is held to the job's bound, not a document's.
        prepared = prepare_held(
            merged, page_ranges=selection, move=True, most_pages=max_job_pages()
        )
    finally:
        merged.unlink(missing_ok=True)
    return replace(prepared, fallback_title=documents[0].title, documents=tuple(listed))


def stored_orphans_remove(now: float | None = None) -> int:
    """Delete stored documents no job refers to, older than LEFTOVER_AGE_SECONDS: a process
    that died between storing a job's document (prepare_held) and committing the job left
    them. store_pdf stamps each document with the time it was stored, so one about to become
    a job is never that old. Returns how many were deleted."""
    spool = Path(settings.SPOOL_DIR)
    if not spool.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - LEFTOVER_AGE_SECONDS
    old: list[Path] = []
    for entry in spool.iterdir():
        if entry.name.startswith(".") or entry.suffix != ".pdf":
            continue
        with contextlib.suppress(FileNotFoundError):  # its job ended meanwhile
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                old.append(entry)
    removed = 0
    for start in range(0, len(old), 500):
        batch = old[start : start + 500]
        names = [entry.name for entry in batch]
        held = set(
            Job.objects.filter(document_name__in=names).values_list("document_name", flat=True)
        )
        for entry in batch:
            if entry.name not in held:
                entry.unlink(missing_ok=True)
                removed += 1
    return removed


def discard_prepared(prepared: PreparedDocument) -> None:
    """Delete the stored PDF of a prepared document that did not become a job."""
    delete_document(prepared.stored.name)


def job_create_prepared(
    owner: User,
    prepared: PreparedDocument,
    *,
    title: str,
    source: JobSource,
    options: dict[str, Any] | None = None,
    copies: int = 1,
) -> Job:
    """Hold a prepared document in its owner's inbox: the job's rows, in the caller's
    transaction when there is one. The caller discards the prepared document should this
    raise."""
    # No savepoint inside a caller's transaction (the IPP printer's): every error is raised
    # on, so that transaction rolls back whole anyway; a savepoint cost two statements.
    with transaction.atomic(savepoint=False):
        job = Job.objects.create(
            owner=owner,
            title=title[:255] or prepared.fallback_title[:255],
            source=source,
            document_name=prepared.stored.name,
            page_count=prepared.stored.page_count,
            documents=list(prepared.documents),
            first_page_landscape=prepared.stored.facts.landscape,
            first_page_rotation=prepared.stored.facts.rotation,
            expires_at=timezone.now() + timedelta(hours=settings.HELD_JOB_EXPIRY_HOURS),
            options=options or {},
            copies=copies,
            page_ranges=prepared.page_ranges,
        )
        JobTransition.objects.create(
            job=job, from_state=JobState.HELD, to_state=JobState.HELD, reason="received"
        )
    logger.info("job %s held for %s (pages: %s)", job.pk, owner, job.page_count)
    return job


def job_create_held(
    owner: User,
    pdf: Path,
    *,
    title: str,
    source: JobSource,
    options: dict[str, Any] | None = None,
    copies: int = 1,
    page_ranges: str = "",
    move: bool = False,
) -> Job:
    """Store a PDF and hold it in its owner's inbox (prepare_held, then job_create_prepared).
    Raises as prepare_held does."""
    prepared = prepare_held(pdf, page_ranges=page_ranges, move=move)
    return _job_created_or_discarded(
        owner, prepared, title=title, source=source, options=options, copies=copies
    )


def _job_created_or_discarded(owner: User, prepared: PreparedDocument, **job: Any) -> Job:
    """job_create_prepared, on its own (not in a caller's transaction): a job that is not
    created leaves no stored document."""
    try:
        return job_create_prepared(owner, prepared, **job)
    except BaseException:
        discard_prepared(prepared)
        raise


def job_create_held_together(
    owner: User,
    documents: Sequence[DocumentToHold],
    *,
    title: str,
    source: JobSource,
    options: dict[str, Any] | None = None,
    copies: int = 1,
    page_ranges: str = "",
) -> Job:
    """Hold several documents as one job (as `lp a.pdf b.pdf` makes one job in CUPS), its
    page selection applied to each (prepare_held_together, then job_create_prepared). A
    printer that takes jobs of several documents prints each on sheets of its own; any other
    prints them as one.

    The stored PDF holds their pages one after the other, so the previews, the price and the
    page selection see one document; the job records each one's name and pages. A refused
    document is named in the DocumentError, and nothing is held."""
    prepared = prepare_held_together(documents, page_ranges=page_ranges)
    job = _job_created_or_discarded(
        owner, prepared, title=title, source=source, options=options, copies=copies
    )
    for document in documents:
        if document.move:  # a converted copy, ours to remove once its pages are stored
            document.pdf.unlink(missing_ok=True)
    return job


def job_transition(
    job_id: int,
    to_state: JobState,
    *,
    reason: str,
    actor: User | None = None,
    only_from: frozenset[JobState] | None = None,
    only_attempt: int | None = None,
    **fields: Any,
) -> Job | None:
    """Move a job to `to_state` if the table allows it from its current state.

    This is also how tasks claim work: it returns None, changing nothing, when the job is not
    in a state that may move (another worker got there first, or the job ended meanwhile), or,
    given `only_attempt`, when the job's claim is no longer that send attempt's (it was taken
    over: every claim counts an attempt).
    `fields` are saved in the same transaction as the transition record; a message with
    `message_fields`, so that it is kept to be translated as well as in English.
    """
    if ("message" in fields) != ("message_text" in fields):
        raise TypeError("a job's message is set with message_fields(), not in English alone")
    allowed = states_leading_to(to_state)
    if only_from is not None:
        allowed = allowed & only_from
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.state not in allowed or only_attempt not in (None, job.send_attempts):
            return None
        from_state = job.state
        job.state = to_state
        job.state_changed_at = timezone.now()
        for name, value in fields.items():
            setattr(job, name, value)
        job.save(update_fields=["state", "state_changed_at", *fields])
        JobTransition.objects.create(
            job=job, from_state=from_state, to_state=to_state, reason=reason[:500], actor=actor
        )
        if from_state == JobState.HELD and to_state != JobState.HELD:
            held_jobs_changed(job.owner_id)
    logger.info("job %s: %s → %s (%s)", job_id, from_state, to_state, reason)
    return job
