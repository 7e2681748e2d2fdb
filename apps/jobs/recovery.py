"""Recovering a job whose send task died (or ran out of time) with the job in SENDING: another
task takes it over once the claim is stale, and records the printer's copy an earlier
attempt sent rather than sending it twice. While a task sends, its process renews its claim,
so that one whose worker died on another machine is stale within seconds too."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import F, Q
from django.utils import timezone

from apps.core.writers import one_writer_at_a_time
from apps.jobs import printer_jobs
from apps.jobs.choices import JobState
from apps.jobs.models import Job
from apps.jobs.outcomes import Sent
from apps.jobs.printer_jobs import cancel_at_printer, client_as_owner, main_marker
from apps.jobs.services import job_transition
from printmgmt import process_identity

logger = logging.getLogger(__name__)

#: How long a send task may run (its hard time limit): a job it claimed is its own until then,
#: whoever else is handed a message for it (the same task delivered twice included: a broker
#: connection lost mid-send puts the running task's message back in the queue), unless its
#: process stops renewing the claim. Its renewals stop then too.
SEND_CLAIM_SECONDS = 600


def renewals_stopped(now: datetime) -> Q:
    """Claims whose process renewed them and then stopped for SEND_CLAIM_STALE_SECONDS.

    A renewal older than the claim is another claim's: one made by a task that does not renew
    (older code) is stale only at SEND_CLAIM_SECONDS."""
    return Q(
        claim_renewed_at__gte=F("claimed_at"),
        claim_renewed_at__lt=now - timedelta(seconds=settings.SEND_CLAIM_STALE_SECONDS),
    )


def take_over(job: Job, task_id: str) -> bool:
    """Claim a job another task left in SENDING: one new attempt, one taker.

    A second message for the job (a retry's, a sweep's, the same one delivered again) must not
    send it while the first task may still be sending. It takes the job over at once when the
    process holding the claim ran on this machine and is gone (its worker was killed: Celery
    hands the task straight back to the queue), so that the printer is searched while it
    still remembers an earlier send; when that process, on any machine, stopped renewing the
    claim; otherwise once the claim is older than a send task may run."""
    now = timezone.now()
    stale = now - timedelta(seconds=SEND_CLAIM_SECONDS)
    takeable = Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale) | renewals_stopped(now)
    if job.claimed_in and process_identity.is_gone(job.claimed_in):
        takeable |= Q(claimed_in=job.claimed_in)
    updated = (
        Job.objects.filter(pk=job.pk, state=JobState.SENDING, send_attempts=job.send_attempts)
        .filter(takeable)
        .update(
            send_attempts=F("send_attempts") + 1,
            claimed_by=task_id,
            claimed_at=now,
            claim_renewed_at=now,
            claimed_in=process_identity.current(),
        )
    )
    if updated == 1 and job.claimed_at is not None and job.claimed_at >= stale:
        logger.warning(
            "job %s: taken over from %s, whose process %s is gone or stopped renewing its "
            "claim (last at %s)",
            job.pk, job.claimed_by, job.claimed_in, job.claim_renewed_at,
        )  # fmt: skip
    return updated == 1


def claim_goes_stale_in(job: Job) -> float:
    """Seconds until another task may take over the job's claim whatever holds it, should its
    process stop renewing it from now on."""
    if job.claimed_at is None:
        return 0.0
    stale_at = job.claimed_at + timedelta(seconds=SEND_CLAIM_SECONDS)
    if job.claim_renewed_at is not None and job.claim_renewed_at >= job.claimed_at:
        renewal_lapses_at = job.claim_renewed_at + timedelta(
            seconds=settings.SEND_CLAIM_STALE_SECONDS
        )
        stale_at = min(stale_at, renewal_lapses_at)
    return max((stale_at - timezone.now()).total_seconds(), 0.0)


@contextmanager
def claim_renewed(job: Job) -> Iterator[None]:
    """Around the sending of a job this task claimed: a thread renews the claim every
    SEND_CLAIM_RENEW_SECONDS, also while the send waits in network I/O (streaming a document,
    the printer's answer), until the block ends however it ends.

    It stops renewing once the claim is SEND_CLAIM_SECONDS old, as a task that hangs (in a pool
    that does not enforce the hard time limit) must not hold the job for ever, and once the
    job has moved on or was taken over (the claim is no longer this attempt's)."""
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew, args=(job, stop), name=f"claim-renewal-job{job.pk}", daemon=True
    )
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()


def _renew(job: Job, stop: threading.Event) -> None:
    assert job.claimed_at is not None
    until = job.claimed_at + timedelta(seconds=SEND_CLAIM_SECONDS)
    try:
        while not stop.wait(settings.SEND_CLAIM_RENEW_SECONDS):
            now = timezone.now()
            if now >= until:
                logger.warning(
                    "job %s: still sending after %ss: its claim is no longer renewed",
                    job.pk, SEND_CLAIM_SECONDS,
                )  # fmt: skip
                return
            try:
                # One short write of its own, outside any transaction.
                with one_writer_at_a_time():
                    renewed = Job.objects.filter(
                        pk=job.pk, state=JobState.SENDING, send_attempts=job.send_attempts
                    ).update(claim_renewed_at=now)
            except DatabaseError as error:
                # Tried again at the next beat; should the database stay out of reach until
                # the claim is stale, the send records nothing over a taker's claim.
                logger.warning("job %s: its claim could not be renewed: %s", job.pk, error)
                continue
            if not renewed:
                return
    finally:
        connections.close_all()  # this thread's own


def adopt_earlier_send(job: Job) -> Sent | None:
    """Record the printer's copy of a claimed job that an earlier attempt sent; None when the
    printer has none. Raises the IppError of a printer that cannot be searched."""
    assert job.printer is not None
    with client_as_owner(job) as client:
        found = printer_jobs.find_earlier_send(client, main_marker(job))
    if found is None:
        return None
    # Whatever attempt holds the claim now: the copy was at the printer before this one's
    # claim, so an attempt that took the job over since finds and records the same copy.
    adopted = job_transition(
        job.pk,
        JobState.PROCESSING,
        reason=f"found at {job.printer} as job {found.job_id}",
        only_from=frozenset({JobState.SENDING}),
        printer_job_id=found.job_id,
        printer_job_uri=found.job_uri or "",
    )
    if adopted is None:
        return not_recorded(job, found.job_id)
    return Sent(f"found as printer job {found.job_id}", at_printer=True)


def not_recorded(job: Job, printer_job_id: int) -> Sent:
    """An attempt's printer job that it could not record, the job no longer being in SENDING
    (or its claim no longer this attempt's): kept when another attempt recorded that very job
    (found it at the printer), otherwise canceled at the printer.

    The job was canceled meanwhile, or taken over (this process could not renew its claim, the
    database out of reach) by an attempt that did not find this one's job at the printer and
    sends or recorded its own."""
    current = Job.objects.get(pk=job.pk)
    if current.state == JobState.PROCESSING and current.printer_job_id == printer_job_id:
        return Sent(f"printer job {printer_job_id} was recorded by another attempt")
    cancel_at_printer(job, printer_job_id)
    return Sent(f"{current.state} meanwhile; printer job {printer_job_id} canceled")
