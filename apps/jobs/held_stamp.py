"""A stamp per user that changes whenever the set of their held jobs, or one of them, changes.

Pages built from a user's held jobs (the inbox) may be kept as long as the stamp they were built
under is current (apps/portal/page_cache.py). The stamp lives in Django's cache (Redis in
production, a folder shared by the processes of one machine otherwise), so a job held by the
IPP printer in one process or canceled by a worker in another is seen by every web process.

The stamp is dropped after the change commits, and the next page build makes a new random one; a
page is built from a stamp read *before* its jobs are read. Whatever the order of a change and a
page build, a page kept under a stamp never shows jobs older than that stamp's change. A process
that dies between a commit and the drop leaves the stamp in place: kept pages carry the minute
they were made in their key, so none outlives the next minute.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.jobs.choices import JobState
from apps.jobs.models import Job

_KEY = "held-jobs-stamp:{}"


def held_jobs_stamp(owner_id: int) -> str:
    """The owner's current stamp (a new one after a change, or when none is known)."""
    key = _KEY.format(owner_id)
    stamp: str | None = cache.get(key)
    if stamp is None:
        stamp = secrets.token_hex(8)
        if not cache.add(key, stamp, None):
            stamp = cache.get(key) or stamp
    return stamp


def held_jobs_changed(owner_id: int) -> None:
    """Drop the owner's stamp once the current transaction commits (at once outside one); the
    next page build makes a new one. Dropping costs less than writing a new stamp (the
    file-based cache writes a file and lists its folder on every write: 0.6 ms per job the IPP
    printer received). robust: the change itself stands even when the cache cannot be written;
    the pages kept under the old stamp then last until their minute ends."""

    def drop() -> None:
        cache.delete(_KEY.format(owner_id))

    transaction.on_commit(drop, robust=True)


@receiver(post_save, sender=Job, dispatch_uid="held-stamp-save")
def _held_job_saved(sender: type[Job], instance: Job, **kwargs: Any) -> None:
    """A job received, held again, or edited (e.g. in Django's admin) while held. A job that
    leaves HELD is announced by job_transition, which knows the state it left."""
    if instance.state == JobState.HELD:
        held_jobs_changed(instance.owner_id)


@receiver(post_delete, sender=Job, dispatch_uid="held-stamp-delete")
def _held_job_deleted(sender: type[Job], instance: Job, **kwargs: Any) -> None:
    if instance.state == JobState.HELD:
        held_jobs_changed(instance.owner_id)
