"""Celery tasks of the print pipeline. Each takes a job id and may run any number of times."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from apps.jobs import following, outcomes, pipeline, recovery
from apps.jobs.choices import JobState
from apps.jobs.documents import spool_leftovers_remove
from apps.jobs.endings import finish
from apps.jobs.models import Job
from apps.jobs.services import stored_orphans_remove
from printmgmt.translatable import Text

logger = logging.getLogger(__name__)

# A released job waits for its next attempt at most PRINT_RETRY_MAX_SECONDS; one waiting this
# much longer has lost its task. A sending job is held by its task at most SEND_CLAIM_SECONDS.
STUCK_RELEASED_MARGIN = timedelta(minutes=2)
STUCK_SENDING = timedelta(minutes=15)
UNFOLLOWED = timedelta(minutes=5)


def backoff(attempt: int, base: int, cap: int) -> float:
    """Exponential backoff with jitter, so that many waiting jobs do not retry in step."""
    ceiling: float = min(cap, base * 2 ** min(attempt, 20))
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - spreading load, not security


# Retries are unbounded here: the pipeline bounds them (PRINT_MAX_ATTEMPTS for sending; a
# followed job ends when the printer says so, and the reconcile sweep watches the rest).
@shared_task(
    bind=True,
    acks_late=True,
    max_retries=None,
    soft_time_limit=recovery.SEND_CLAIM_SECONDS - 60,
    time_limit=recovery.SEND_CLAIM_SECONDS,
)
def print_job(self: Task, job_id: int) -> str:  # type: ignore[type-arg]
    """Build and send a released job; then follow it."""
    try:
        outcome = pipeline.send(job_id, task_id=self.request.id or "")
    except outcomes.RetryLater as error:
        delay = backoff(
            self.request.retries,
            settings.PRINT_RETRY_BASE_SECONDS,
            settings.PRINT_RETRY_MAX_SECONDS,
        )
        logger.info("job %s: retry in %.0fs (%s)", job_id, delay, error)
        raise self.retry(countdown=delay) from None
    logger.info("job %s: %s", job_id, outcome)
    # Followed by the task that put it at the printer: a second message for a job already
    # there starts no second chain.
    if outcome.at_printer:
        follow_job.apply_async((job_id,), countdown=settings.FOLLOW_INTERVAL_SECONDS)
    elif outcome.check_again_in is not None:
        print_job.apply_async((job_id,), countdown=outcome.check_again_in + 1)
    return str(outcome)


@shared_task(bind=True, acks_late=True, max_retries=None, soft_time_limit=60, time_limit=90)
def follow_job(self: Task, job_id: int) -> bool:  # type: ignore[type-arg]
    """Ask the printer about a sent job until it ends, polling less often as time goes by."""
    try:
        ended = following.follow(job_id)
    except outcomes.RetryLater as error:
        logger.info("job %s: printer not answering (%s)", job_id, error)
        ended = False
    if not ended:
        delay = backoff(
            self.request.retries,
            settings.FOLLOW_INTERVAL_SECONDS,
            settings.FOLLOW_MAX_INTERVAL_SECONDS,
        )
        raise self.retry(countdown=delay)
    return ended


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=150)
def reconcile_jobs() -> int:
    """Find jobs whose task was lost (a worker or the broker died) and queue them again.

    Safe to run at any time: the tasks claim jobs by state, so a job already in hand is left
    alone.
    """
    now = timezone.now()
    stuck_released = timedelta(seconds=settings.PRINT_RETRY_MAX_SECONDS) + STUCK_RELEASED_MARGIN
    # A sending job's claim is made anew when another task takes it over; one whose process
    # stopped renewing it (its worker died, on whatever machine) is taken over at once.
    claim_stale = (
        Q(claimed_at__lt=now - STUCK_SENDING)
        | Q(claimed_at__isnull=True, state_changed_at__lt=now - STUCK_SENDING)
        | recovery.renewals_stopped(now)
    )
    stuck = list(
        Job.objects.filter(
            Q(state=JobState.RELEASED, state_changed_at__lt=now - stuck_released)
            | (Q(state=JobState.SENDING) & claim_stale)
        ).values_list("pk", flat=True)
    )
    for job_id in stuck:
        print_job.delay(job_id)
    unfollowed = list(
        Job.objects.filter(state=JobState.PROCESSING)
        .filter(Q(checked_at__isnull=True) | Q(checked_at__lt=now - UNFOLLOWED))
        .filter(state_changed_at__lt=now - UNFOLLOWED)
        .values_list("pk", flat=True)
    )
    for job_id in unfollowed:
        follow_job.delay(job_id)
    if stuck or unfollowed:
        logger.warning("reconcile: resent %s, following again %s", stuck, unfollowed)
    return len(stuck) + len(unfollowed)


@shared_task(ignore_result=True, soft_time_limit=30, time_limit=45)
def resume_lapsed_sends() -> int:
    """Queue the jobs whose send claim has just gone unrenewed (the process sending them
    stopped: its worker died, on whatever machine), so that a task takes them over within
    seconds. Their task's own message comes back late if ever (Redis hands it out again after
    an hour; the embedded broker loses it).

    Only claims that went stale within the last few runs: one queued then and not taken over
    since is reconcile_jobs's to queue again, not every run's."""
    now = timezone.now()
    recent = timedelta(
        seconds=settings.SEND_CLAIM_STALE_SECONDS + 2 * settings.SEND_CLAIM_SWEEP_SECONDS
    )
    lapsed = list(
        Job.objects.filter(state=JobState.SENDING, claim_renewed_at__gte=now - recent)
        .filter(recovery.renewals_stopped(now))
        .values_list("pk", flat=True)
    )
    for job_id in lapsed:
        print_job.delay(job_id)
    if lapsed:
        logger.warning("jobs %s: their send claims went unrenewed: queued to be taken over", lapsed)
    return len(lapsed)


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=150)
def expire_held_jobs() -> int:
    """End held jobs past their expiry and delete their documents; and delete what a dead
    process left in the spool: working files, and documents stored for jobs never created."""
    leftovers = spool_leftovers_remove()
    if leftovers:
        logger.warning("spool: removed %s working files left by ended requests", leftovers)
    orphans = stored_orphans_remove()
    if orphans:
        logger.warning("spool: removed %s stored documents of jobs never created", orphans)
    expired = list(
        Job.objects.filter(state=JobState.HELD, expires_at__lt=timezone.now()).values_list(
            "pk", flat=True
        )
    )
    for job_id in expired:
        finish(job_id, JobState.EXPIRED, Text(gettext_noop("not released in time")))
    return len(expired)
