"""Celery tasks of our IPP printer."""

from __future__ import annotations

import logging

from celery import shared_task

from apps.ippserver.job_documents import close_timed_out_jobs

logger = logging.getLogger(__name__)


# Merging a job's documents takes seconds; a run that overlaps the next skips what it held.
@shared_task(ignore_result=True, soft_time_limit=300, time_limit=330)
def hold_timed_out_jobs() -> int:
    """Hold the IPP jobs whose next document did not come in time, with what they received."""
    held = close_timed_out_jobs()
    if held:
        logger.info("IPP printer: held %s jobs whose next document did not come", held)
    return held
