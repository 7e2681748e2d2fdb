"""The inbox's rows, prepared in Python: an inbox may hold hundreds of held jobs."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.jobs.choices import JobSource
from apps.jobs.models import Job


@dataclass(frozen=True)
class InboxRow:
    """One held job as the inbox shows it, prepared in Python: an inbox may hold hundreds."""

    title: str
    url: str
    thumbnail_url: str
    cancel_url: str
    pages: str
    source: str
    received: str
    expires: str


class UrlOf:
    """Fast reverse() for one URL pattern with one varying number, for long lists."""

    SENTINEL = 987654321

    def __init__(self, name: str, *fixed: int) -> None:
        self.prefix, _, self.suffix = reverse(name, args=[self.SENTINEL, *fixed]).partition(
            str(self.SENTINEL)
        )

    def __call__(self, number: int) -> str:
        return f"{self.prefix}{number}{self.suffix}"


def _duration(seconds: float) -> str:
    """A short, rounded-down duration: "5 minutes", "3 hours", "2 days"."""
    minutes = max(int(seconds // 60), 0)
    if minutes < 60:
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    days = hours // 24
    return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}


def inbox_rows(jobs: list[Job]) -> list[InboxRow]:
    now = timezone.now()
    job_url, cancel_url = UrlOf("portal:job"), UrlOf("portal:job_cancel")
    thumbnail_url = UrlOf("portal:thumbnail", 1)
    sources = {value: str(label) for value, label in JobSource.choices}
    # Many jobs share a page count or an age: each text is translated once per page.
    pages: dict[int, str] = {}
    durations: dict[int, str] = {}

    def pages_text(count: int) -> str:
        if count not in pages:
            pages[count] = ngettext("%(count)d page", "%(count)d pages", count) % {"count": count}
        return pages[count]

    def duration_text(seconds: float) -> str:
        minutes = int(seconds // 60)
        if minutes not in durations:
            durations[minutes] = _duration(seconds)
        return durations[minutes]

    received, expires = _("received %(age)s ago"), _("expires in %(left)s")
    return [
        InboxRow(
            title=job.title,
            url=job_url(job.pk),
            thumbnail_url=thumbnail_url(job.pk),
            cancel_url=cancel_url(job.pk),
            pages=pages_text(job.page_count),
            source=sources.get(job.source, job.source),
            received=received % {"age": duration_text((now - job.created_at).total_seconds())},
            expires=expires % {"left": duration_text((job.expires_at - now).total_seconds())},
        )
        for job in jobs
    ]
