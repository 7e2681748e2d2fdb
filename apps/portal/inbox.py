"""The inbox's list items, formatted in Python in one pass: an inbox may hold hundreds of held
jobs, and a template loop (or a row object per job) costs several times more per request
(bench/bench_portal.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from html import escape

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.jobs.choices import JobSource
from apps.portal.documents import documents_count
from apps.portal.selectors import InboxLine


class UrlOf:
    """Fast reverse() for one URL pattern with one varying number, for long lists."""

    SENTINEL = 987654321

    def __init__(self, name: str, *fixed: int) -> None:
        self.prefix, _, self.suffix = reverse(name, args=[self.SENTINEL, *fixed]).partition(
            str(self.SENTINEL)
        )

    def __call__(self, number: int) -> str:
        return f"{self.prefix}{number}{self.suffix}"


def _duration(minutes: int) -> str:
    """A short, rounded-down duration: "5 minutes", "3 hours", "2 days"."""
    if minutes < 60:
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    days = hours // 24
    return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}


def expiry_text(expires_at: datetime) -> str:
    """ "expires in 2 days" for a held job, in the page's language."""
    return _expiry_phrase(max(int((expires_at - timezone.now()).total_seconds() // 60), 0))


def _expiry_phrase(minutes: int) -> str:
    return _("expires in %(left)s") % {"left": _duration(minutes)}


def _memoised(make: Callable[[int], str]) -> Callable[[int], str]:
    """`make`, computed once per distinct number: many jobs share a page count or an age."""
    known: dict[int, str] = {}

    def text(number: int) -> str:
        found = known.get(number)
        if found is None:
            found = known[number] = make(number)
        return found

    return text


def inbox_items_html(lines: list[InboxLine], csrf_token: str, page_number: int) -> SafeString:
    """The inbox's <li> items: thumbnail, title, pages (and documents), source, age, time to
    expiry, and the release link and cancel form of each held job (which brings the user back
    to this page). Every value is escaped here, once."""
    now = time.time()
    job, cancel, thumbnail = (
        UrlOf("portal:job"),
        UrlOf("portal:job_cancel"),
        UrlOf("portal:thumbnail", 1),
    )
    job_prefix, job_suffix = escape(job.prefix), escape(job.suffix)
    cancel_prefix, cancel_suffix = escape(cancel.prefix), escape(cancel.suffix)
    if page_number > 1:
        cancel_suffix += f"?page={page_number}"
    thumbnail_prefix, thumbnail_suffix = escape(thumbnail.prefix), escape(thumbnail.suffix)
    sources = {value: escape(str(label)) for value, label in JobSource.choices}
    release, cancel_label, token = escape(_("Release")), escape(_("Cancel")), escape(csrf_token)
    received_template = _("received %(age)s ago")
    pages = _memoised(
        lambda count: escape(
            ngettext("%(count)d page", "%(count)d pages", count) % {"count": count}
        )
    )
    documents = _memoised(lambda count: f" · {escape(documents_count(count))}" if count else "")
    received = _memoised(lambda minutes: escape(received_template % {"age": _duration(minutes)}))
    expires = _memoised(lambda minutes: escape(_expiry_phrase(minutes)))
    items = []
    for pk, raw_title, source, page_count, created, expires_at, document_count in lines:
        title = escape(raw_title)
        url = f"{job_prefix}{pk}{job_suffix}"
        age, left = max(int((now - created) // 60), 0), max(int((expires_at - now) // 60), 0)
        items.append(
            f'<li class="card job"><img src="{thumbnail_prefix}{pk}{thumbnail_suffix}" alt=""'
            ' width="90" loading="lazy" class="thumb"><div class="job-text">'
            f'<h3><a href="{url}">{title}</a></h3><p class="meta">{pages(page_count)}'
            f"{documents(document_count)} · {sources.get(source) or escape(source)} · "
            f"{received(age)} · {expires(left)}</p>"
            f'<div class="actions"><a class="button" href="{url}">{release}'
            f'<span class="visually-hidden"> {title}</span>…</a>'
            f'<form method="post" action="{cancel_prefix}{pk}{cancel_suffix}">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
            f'<button type="submit" class="secondary">{cancel_label}'
            f'<span class="visually-hidden"> {title}</span></button></form></div></div></li>'
        )
    return mark_safe("\n".join(items))  # noqa: S308 - every value above is escaped
