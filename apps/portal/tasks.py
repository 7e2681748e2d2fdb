"""Periodic housekeeping of the portal."""

from __future__ import annotations

import logging

from celery import shared_task

from apps.portal.thumbnails import thumbnails_prune

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, time_limit=600)
def prune_thumbnails() -> int:
    """Thumbnails of documents that left the spool are deleted (idempotent)."""
    deleted = thumbnails_prune()
    if deleted:
        logger.info("deleted %s thumbnails of documents no longer held", deleted)
    return deleted
