"""Inbox pages kept per process: served again only while nothing they show has changed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.jobs.choices import JobState
from apps.jobs.models import Job
from apps.jobs.services import job_transition
from apps.portal import page_cache
from apps.portal.page_cache import INBOX_PAGES, KeptPages
from tests.portal.conftest import People, logged_in

Committed = Callable[[], AbstractContextManager[Any]]


@pytest.fixture(autouse=True)
def _pages_kept(settings: LazySettings) -> Iterator[None]:
    settings.INBOX_PAGE_CACHE_MB = 16
    INBOX_PAGES.clear()
    yield
    INBOX_PAGES.clear()


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Callable[..., Any]) -> Committed:
    """A block whose on-commit callbacks run at its end, as after a real commit (a test's
    transaction never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def load(client: Client, path: str = "/inbox/") -> tuple[str, list[str]]:
    """The page, and the SQL its request ran."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return response.content.decode(), [query["sql"] for query in queries]


def reads_jobs(statements: list[str]) -> bool:
    return any(Job._meta.db_table in statement for statement in statements)


TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_a_reload_is_the_kept_page_with_the_requests_own_token(
    people: People,
    held: Callable[..., Job],
    committed: Committed,
) -> None:
    with committed():
        job = held(people.staff, title="kept report")
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.staff)
    first, first_statements = load(client)
    second, second_statements = load(client)
    assert reads_jobs(first_statements)
    assert not reads_jobs(second_statements)
    assert len(INBOX_PAGES) == 1
    assert "kept report" in second
    assert page_cache.TOKEN_MARKER not in second
    # Every form (upload, log out, language, each job's cancel) carries a token of its own
    # request, which the server accepts.
    tokens = TOKEN.findall(second)
    assert len(tokens) == 4
    assert len(set(tokens)) == 1
    assert TOKEN.sub("", first) == TOKEN.sub("", second)
    with committed():
        canceled = client.post(f"/jobs/{job.pk}/cancel/", {"csrfmiddlewaretoken": tokens[0]})
    assert canceled.status_code == 302
    assert Job.objects.get(pk=job.pk).state == JobState.CANCELED


def test_the_page_changes_the_moment_held_jobs_do(
    people: People,
    held: Callable[..., Job],
    committed: Committed,
) -> None:
    client = logged_in(people.staff)
    assert "No held jobs" in load(client)[0]
    # Received (upload, IPP printer) ...
    with committed():
        job = held(people.staff, title="arrived")
    assert "arrived" in load(client)[0]
    # ... edited while held (e.g. in Django's admin) ...
    job.title = "renamed"
    with committed():
        job.save()
    assert "renamed" in load(client)[0]
    # ... released or canceled ...
    with committed():
        job_transition(job.pk, JobState.CANCELED, reason="test")
    assert "renamed" not in load(client)[0]
    # ... or deleted.
    with committed():
        other = held(people.staff, title="deleted later")
    assert "deleted later" in load(client)[0]
    with committed():
        other.delete()
    page, statements = load(client)
    assert "deleted later" not in page
    assert reads_jobs(statements)


def test_a_change_that_never_commits_leaves_the_page_as_it_was(
    people: People,
    held: Callable[..., Job],
    committed: Committed,
) -> None:
    with committed():
        held(people.staff, title="stays")
    client = logged_in(people.staff)
    load(client)
    # The stamp is dropped after a commit, never before: a page built meanwhile from the
    # data before the change cannot be kept under a stamp that claims to be newer. (This
    # test's connection sees its own uncommitted job; a dropped stamp would show it.)
    held(people.staff, title="uncommitted")
    page, statements = load(client)
    assert "uncommitted" not in page
    assert not reads_jobs(statements)


def test_pages_are_kept_per_user_page_and_language(
    people: People,
    held: Callable[..., Job],
    committed: Committed,
) -> None:
    with committed():
        held(people.staff, title="sams report")
        held(people.other_staff, title="olgas report")
    sam, olga = logged_in(people.staff), logged_in(people.other_staff)
    for _ in range(2):
        assert "olgas report" not in load(sam)[0]
        assert "sams report" not in load(olga)[0]
    load(sam, "/inbox/?page=2")
    # Any other query is built for its request and not kept (it would only make more keys).
    assert reads_jobs(load(sam, "/inbox/?page=1&x=1")[1])
    assert reads_jobs(load(sam, "/inbox/?page=1&x=1")[1])
    german = logged_in(people.staff)
    german.cookies["django_language"] = "de"
    assert "Angehaltene Aufträge" in load(german)[0]
    assert "Held jobs" in load(sam)[0]
    assert len(INBOX_PAGES) == 4


def test_ages_move_on_with_the_minute(
    people: People,
    held: Callable[..., Job],
    committed: Committed,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with committed():
        job = held(people.staff, title="aging")
    client = logged_in(people.staff)
    assert "received 0 minutes ago" in load(client)[0]
    # Time passes; nothing about the job changes.
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=7))
    assert "received 0 minutes ago" in load(client)[0]
    minute = page_cache.current_minute()
    monkeypatch.setattr(page_cache, "current_minute", lambda: minute + 1)
    assert "received 7 minutes ago" in load(client)[0]


def test_a_page_with_messages_is_built_for_its_request_and_not_kept(
    people: People,
    held: Callable[..., Job],
    committed: Committed,
) -> None:
    with committed():
        job = held(people.staff, title="to cancel")
        other = held(people.staff, title="to keep")
    client = logged_in(people.staff)
    load(client)
    with committed():
        response = client.post(f"/jobs/{job.pk}/cancel/", follow=True)
    page = response.content.decode()
    assert 'class="messages"' in page
    assert "to cancel" in page  # named in the message
    after, statements = load(client)
    assert 'class="messages"' not in after
    assert "to cancel" not in after
    assert "to keep" in after
    assert reads_jobs(statements)
    assert other.state == JobState.HELD


def test_a_size_of_zero_builds_every_page(
    people: People, held: Callable[..., Job], settings: LazySettings
) -> None:
    settings.INBOX_PAGE_CACHE_MB = 0
    held(people.staff, title="fresh")
    client = logged_in(people.staff)
    for _ in range(2):
        assert reads_jobs(load(client)[1])
    assert len(INBOX_PAGES) == 0


def test_kept_pages_stay_within_their_size_least_recently_used_first_out() -> None:
    pages = KeptPages(max_bytes=10)
    pages.put("a", b"aaaa")
    pages.put("b", b"bbbb")
    assert pages.get("a") == b"aaaa"  # now the most recently used
    pages.put("c", b"cccc")
    assert pages.get("b") is None
    assert (pages.get("a"), pages.get("c"), pages.size) == (b"aaaa", b"cccc", 8)
    pages.put("a", "AAA…".encode())  # 6 bytes: pages are counted as they are kept, encoded
    assert (pages.get("a"), pages.get("c"), pages.size, len(pages)) == (
        "AAA…".encode(),
        b"cccc",
        10,
        2,
    )
    pages.put("huge", b"x" * 11)
    assert pages.get("huge") is None
    assert len(pages) == 2
    pages.clear()
    assert (len(pages), pages.size) == (0, 0)


def test_a_change_of_permissions_shows_at_once(
    people: People, held: Callable[..., Job], committed: Committed
) -> None:
    with committed():
        held(people.staff, title="mine")
    client = logged_in(people.staff)
    assert ">Printers</a>" not in load(client)[0]
    people.staff.user_permissions.add(Permission.objects.get(codename="manage_printers"))
    assert ">Printers</a>" in load(client)[0]


def test_the_inbox_works_when_the_stamps_cannot_be_read(
    people: People,
    held: Callable[..., Job],
    committed: Committed,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with committed():
        held(people.staff, title="still shown")
    client = logged_in(people.staff)
    load(client)

    def unreachable(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the cache is down")

    monkeypatch.setattr(cache, "get", unreachable)
    for _ in range(2):
        page, statements = load(client)
        assert "still shown" in page
        assert reads_jobs(statements)
    assert "held-jobs stamp cannot be read" in caplog.text
