"""Reads shared by every app."""

from __future__ import annotations

from apps.core.models import WorkerHeartbeat


def recent_workers(limit: int = 20) -> list[dict[str, str]]:
    return [
        {"hostname": beat.hostname, "seen_at": beat.seen_at.isoformat()}
        for beat in WorkerHeartbeat.objects.all()[:limit]
    ]
