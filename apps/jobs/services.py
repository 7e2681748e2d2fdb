"""Writes on jobs: creating held jobs and moving them through their states."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.jobs.build import page_ranges_within
from apps.jobs.choices import JobSource, JobState, states_leading_to
from apps.jobs.documents import DocumentError, delete_document, store_pdf
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
) -> Job:
    """Store a PDF and hold it in its owner's inbox, its page selection cut at the document's
    end (page_ranges_within). Raises DocumentError for a bad PDF or page selection, and
    NoPageOfDocument for a selection of pages the document does not have: a job held with it
    could never be released."""
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


def jobs_create_held(
    owner: User,
    documents: Sequence[DocumentToHold],
    *,
    source: JobSource,
    options: dict[str, Any] | None = None,
    copies: int = 1,
    page_ranges: str = "",
) -> list[Job]:
    """Hold several documents, one job each, as job_create_held does: all of them or, when one
    is refused, none (a command printing three files must not leave two of them in the inbox
    unsaid). The DocumentError names the refused one."""
    jobs: list[Job] = []
    try:
        with transaction.atomic():
            for document in documents:
                try:
                    jobs.append(
                        job_create_held(
                            owner,
                            document.pdf,
                            title=document.title,
                            source=source,
                            options=options,
                            copies=copies,
                            page_ranges=page_ranges,
                            move=document.move,
                        )
                    )
                except DocumentError as error:
                    raise DocumentError(f"{document.name}: {error}") from None
    except BaseException:
        # The rows went with the transaction; the stored documents are files.
        for job in jobs:
            delete_document(job.document_name)
        raise
    return jobs


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
    `fields` are saved in the same transaction as the transition record.
    """
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
