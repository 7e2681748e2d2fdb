from __future__ import annotations

from celery import Task, shared_task

from apps.core.services import worker_heartbeat_record

HEARTBEAT_SECONDS = 60


@shared_task(bind=True, ignore_result=True, soft_time_limit=20, time_limit=30)
def worker_heartbeat(self: Task) -> None:  # type: ignore[type-arg]
    """Record that this worker is alive and reaches the database."""
    worker_heartbeat_record(self.request.hostname or "unknown")
