"""Writes on jobs: creating held jobs and moving them through their states."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.jobs.build import page_ranges_in_each, page_ranges_within
from apps.jobs.choices import JobSource, JobState, states_leading_to
from apps.jobs.documents import (
    DocumentError,
    delete_document,
    inspect_pdf,
    merge_pdfs,
    store_pdf,
)
from apps.jobs.held_stamp import held_jobs_changed
from apps.jobs.models import Job, JobTransition

logger = logging.getLogger(__name__)


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
    documents: list[dict[str, Any]] | None = None,
) -> Job:
    """Store a PDF and hold it in its owner's inbox, its page selection cut at the document's
    end (page_ranges_within). Raises DocumentError for a bad PDF or page selection, and
    NoPageOfDocument for a selection of pages the document does not have: a job held with it
    could never be released. `documents` name the documents whose pages the PDF holds one
    after the other (job_create_held_together)."""
    stored = store_pdf(pdf, move=move)
    try:
        page_ranges = page_ranges_within(page_ranges, stored.page_count)
        # No savepoint inside a caller's transaction (the IPP printer's): every error is raised
        # on, so that transaction rolls back whole anyway; a savepoint cost two statements.
        with transaction.atomic(savepoint=False):
            job = Job.objects.create(
                owner=owner,
                title=title[:255] or pdf.name,
                source=source,
                document_name=stored.name,
                page_count=stored.page_count,
                documents=documents or [],
                first_page_landscape=stored.facts.landscape,
                first_page_rotation=stored.facts.rotation,
                expires_at=timezone.now() + timedelta(hours=settings.HELD_JOB_EXPIRY_HOURS),
                options=options or {},
                copies=copies,
                page_ranges=page_ranges,
            )
            JobTransition.objects.create(
                job=job, from_state=JobState.HELD, to_state=JobState.HELD, reason="received"
            )
    except BaseException:
        delete_document(stored.name)
        raise
    logger.info("job %s held for %s (pages: %s)", job.pk, owner, job.page_count)
    return job


@dataclass(frozen=True)
class DocumentToHold:
    pdf: Path
    title: str
    #: What a refusal names it by (the file as the sender gave it).
    name: str
    #: Whether the PDF is ours to move into the spool (a converted copy), or only to copy.
    move: bool


#: The most documents one job takes: enough for any real print, and a bound on the work (and
#: open files) of putting them together.
MAX_DOCUMENTS_PER_JOB = 100


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
    page selection applied to each (page_ranges_in_each). A printer that takes jobs of
    several documents prints each on sheets of its own; any other prints them as one.

    The stored PDF holds their pages one after the other, so the previews, the price and the
    page selection see one document; the job records each one's name and pages. A refused
    document is named in the DocumentError, and nothing is held."""
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
            return job_create_held(
                owner,
                only.pdf,
                title=title or only.title,
                source=source,
                options=options,
                copies=copies,
                page_ranges=page_ranges,
                move=only.move,
            )
        except DocumentError as error:
            raise DocumentError(f"{only.name}: {error}") from None
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
        job = job_create_held(
            owner,
            merged,
            title=title or documents[0].title,
            source=source,
            options=options,
            copies=copies,
            page_ranges=selection,
            move=True,
            documents=listed,
        )
    finally:
        merged.unlink(missing_ok=True)
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
    **fields: Any,
) -> Job | None:
    """Move a job to `to_state` if the table allows it from its current state.

    This is also how tasks claim work: it returns None, changing nothing, when the job is not
    in a state that may move (another worker got there first, or the job ended meanwhile).
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
        if job.state not in allowed:
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
