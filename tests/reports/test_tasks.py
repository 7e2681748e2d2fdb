"""Exports with progress and retention, and scheduled reports e-mailed to a real SMTP server."""

from __future__ import annotations

import asyncio
import email
import email.header
import html
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone, translation
from openpyxl import load_workbook

from apps.accounts.selectors import job_refunded
from apps.accounts.services import user_create
from apps.jobs.models import Job
from apps.reports import conf
from apps.reports.choices import ExportState, RelativePeriod
from apps.reports.exports import write_export
from apps.reports.models import ReportExport, ScheduledReport, ScheduledReportRun, UsageRecord
from apps.reports.services import (
    EXPORT_MAX_ATTEMPTS,
    EXPORT_MAX_REQUEUES,
    EXPORT_QUEUED_RESEND_AFTER,
    EXPORT_RUN_SECONDS,
    PROGRESS_EVERY_ROWS,
    export_write,
    exports_clean,
    exports_requeue_lost,
    usage_records_catch_up,
)
from apps.reports.tasks import (
    SCHEDULED_SEND_SECONDS,
    last_period,
    periods_due,
    report_export_run,
    report_exports_clean,
    scheduled_report_send,
    scheduled_reports_send,
)
from tests.reports.conftest import History
from tests.workers import WorkerProcess


@pytest.fixture
def export_dir(tmp_path: Path) -> Iterator[Path]:
    with override_settings(REPORT_EXPORT_DIR=str(tmp_path / "exports")):
        yield tmp_path / "exports"


def _status(client: Client, export_id: int, language: str = "en") -> dict[str, Any]:
    response = client.get(f"/reports/exports/{export_id}/status", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.django_db
def test_an_export_reports_progress_and_expires(
    history: History, finance_client: Client, export_dir: Path
) -> None:
    today = timezone.localdate().isoformat()
    export = ReportExport.objects.create(
        requested_by=history.finance,
        kind="records",
        format="xlsx",
        parameters={"start": today, "end": today, "grouping": "user"},
    )
    assert _status(finance_client, export.pk) == {
        "state": "queued", "state_label": "queued", "percent": 0, "rows_done": 0,
        "rows_total": 0, "message": "", "download_url": None,
    }  # fmt: skip
    assert report_export_run(export.pk).startswith("wrote ")
    assert report_export_run(export.pk).startswith("not this run's")  # a second message
    status = _status(finance_client, export.pk)
    assert (status["state"], status["percent"], status["rows_total"]) == ("done", 100, 5)
    download = finance_client.get(status["download_url"])
    assert download.status_code == 200
    blocks = list(download.streaming_content)  # type: ignore[attr-defined]
    assert b"".join(blocks).startswith(b"PK")
    # Handed to the server in large blocks, not Django's 4 KiB ones.
    assert len(b"".join(blocks)) > 4096
    assert len(blocks) == 1
    other = Client()
    other.force_login(history.admin)  # not the requester, and not in Finance anyway
    assert other.get(status["download_url"]).status_code == 403

    ReportExport.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    # Expired, though not yet cleaned up: no longer offered, nor handed out.
    status = _status(finance_client, export.pk)
    assert (status["download_url"], status["message"]) == (
        None, "the file has expired: start the export again",
    )  # fmt: skip
    assert finance_client.get(f"/reports/exports/{export.pk}/file").status_code == 404
    page = finance_client.get(f"/reports/exports/{export.pk}/").content.decode()
    assert f"/reports/exports/{export.pk}/file" not in page  # no link that would be a 404
    assert report_exports_clean() == 1
    assert not ReportExport.objects.filter(pk=export.pk).exists()
    assert list(export_dir.iterdir()) == []


@pytest.mark.worker
def test_an_export_started_in_the_browser_runs_on_the_worker(
    celery_worker: WorkerProcess, transactional_db: None, history: History, finance_client: Client
) -> None:
    today = timezone.localdate().isoformat()
    response = finance_client.post(
        "/reports/exports/",
        {"start": today, "end": today, "grouping": "user", "kind": "records", "format": "pdf"},
    )
    assert response.status_code == 302
    export = ReportExport.objects.get()
    page = finance_client.get(response["Location"]).content.decode()
    assert "<progress" in page
    deadline = time.monotonic() + 60
    while _status(finance_client, export.pk)["state"] != ExportState.DONE:
        assert time.monotonic() < deadline, _status(finance_client, export.pk)
        time.sleep(0.2)
    download = finance_client.get(_status(finance_client, export.pk)["download_url"])
    assert b"".join(download.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]


@pytest.mark.worker
def test_an_export_started_in_a_callers_transaction_is_sent_once_it_commits(
    celery_worker: WorkerProcess, transactional_db: None, history: History, finance_client: Client
) -> None:
    """Its task is sent on commit: a worker never looks for an export not yet committed, and
    one whose transaction rolls back is never sent."""
    offset = celery_worker.log_path.stat().st_size
    today = timezone.localdate().isoformat()
    request = {"start": today, "end": today, "grouping": "user", "kind": "records", "format": "pdf"}
    with transaction.atomic():
        assert finance_client.post("/reports/exports/", request).status_code == 302
        transaction.set_rollback(True)  # the caller fails after the view
    assert not ReportExport.objects.exists()
    with transaction.atomic():
        assert finance_client.post("/reports/exports/", request).status_code == 302
        export = ReportExport.objects.get()
    deadline = time.monotonic() + 60
    while _status(finance_client, export.pk)["state"] != ExportState.DONE:
        assert time.monotonic() < deadline, _status(finance_client, export.pk)
        time.sleep(0.2)
    # The queue is first in, first out: a message sent by the rolled-back request came first.
    logged = _worker_log_from(celery_worker, offset, "report_export_run[")
    received = [
        line for line in logged.splitlines() if "report_export_run[" in line and "received" in line
    ]
    assert len(received) == 1, received


def _records_export(history: History, **fields: Any) -> ReportExport:
    today = timezone.localdate().isoformat()
    return ReportExport.objects.create(
        requested_by=history.finance,
        kind="records",
        format="xlsx",
        parameters={"start": today, "end": today, "grouping": "user"},
        **fields,
    )


#: The task id of the message a killed run came with.
KILLED_RUNS_MESSAGE = "4f0c1d2e-killed-runs-message"


def _left_by_a_killed_run(history: History, export_dir: Path, **fields: Any) -> ReportExport:
    """An export whose run was killed while writing: running, with a half-written file."""
    export = _records_export(
        history,
        state=ExportState.RUNNING,
        claimed_by="killed",
        claimed_task=KILLED_RUNS_MESSAGE,
        attempts=1,
        **fields,
    )
    export_dir.mkdir(parents=True, exist_ok=True)
    (export_dir / f"{export.pk}-usage-records.xlsx.killed.part").write_bytes(b"PK half")
    return export


@pytest.mark.django_db
def test_a_redelivered_export_is_written_again_from_the_start(
    history: History, export_dir: Path
) -> None:
    export = _left_by_a_killed_run(history, export_dir, claimed_at=timezone.now())
    # A second message that is no redelivery leaves a run that may be alive alone, and so
    # does another message handed out again (the original of an export the cleanup queued
    # again, given back by a worker stopped before it started it) ...
    assert report_export_run(export.pk).startswith("not this run's")
    # (celery-types gives push_request the task's own parameters; it takes a request's.)
    report_export_run.push_request(  # type: ignore[call-arg]
        id="another-message", delivery_info={"redelivered": True}
    )
    try:
        assert report_export_run.run(export.pk).startswith("not this run's")
    finally:
        report_export_run.pop_request()
    # ... the broker handing the killed run's message out again takes the export over.
    report_export_run.push_request(  # type: ignore[call-arg]
        id=KILLED_RUNS_MESSAGE, delivery_info={"redelivered": True}
    )
    try:
        assert report_export_run.run(export.pk).startswith("wrote ")
    finally:
        report_export_run.pop_request()
    export.refresh_from_db()
    assert (export.state, export.attempts, export.rows_done) == (ExportState.DONE, 2, 5)
    assert [path.name for path in export_dir.iterdir()] == [export.file_name]
    assert (export_dir / export.file_name).read_bytes().startswith(b"PK")


@pytest.mark.django_db
def test_an_export_whose_claim_is_stale_is_taken_over(history: History, export_dir: Path) -> None:
    long_ago = timezone.now() - timedelta(seconds=EXPORT_RUN_SECONDS + 1)
    export = _left_by_a_killed_run(history, export_dir, claimed_at=long_ago)
    assert export_write(export.pk).startswith("wrote ")
    assert [path.name for path in export_dir.iterdir()] == [
        ReportExport.objects.get(pk=export.pk).file_name
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("noticed_at", ["progress", "end"])
def test_of_two_runs_at_once_one_finishes_the_export(
    history: History, export_dir: Path, monkeypatch: pytest.MonkeyPatch, noticed_at: str
) -> None:
    """The broker hands a message out again while its first run still writes (after a lost
    broker connection): the second run takes over, the first notices and removes its file."""
    export = _records_export(history)
    outcomes = []

    def first_run_writes(*args: Any) -> None:
        out, progress = args[3], args[4]
        out.write(b"the first run's rows")
        monkeypatch.setattr("apps.reports.services.write_export", write_export)
        outcomes.append(export_write(export.pk, task_id="the message", redelivered=True))
        out.write(b"more of the first run's rows")
        if noticed_at == "progress":
            progress(PROGRESS_EVERY_ROWS)

    monkeypatch.setattr("apps.reports.services.write_export", first_run_writes)
    outcomes.insert(0, export_write(export.pk, task_id="the message"))
    assert outcomes[0] == "taken over by another run"
    assert outcomes[1].startswith("wrote ")
    export.refresh_from_db()
    assert (export.state, export.attempts, export.rows_done) == (ExportState.DONE, 2, 5)
    assert [path.name for path in export_dir.iterdir()] == [export.file_name]
    assert (export_dir / export.file_name).read_bytes().startswith(b"PK")


@pytest.mark.django_db
def test_an_export_that_keeps_killing_its_worker_is_given_up(
    history: History, export_dir: Path
) -> None:
    export = _left_by_a_killed_run(history, export_dir, claimed_at=timezone.now())
    ReportExport.objects.filter(pk=export.pk).update(attempts=EXPORT_MAX_ATTEMPTS)
    outcome = export_write(export.pk, task_id=KILLED_RUNS_MESSAGE, redelivered=True)
    assert outcome == "failed: too many attempts"
    export.refresh_from_db()
    assert export.state == ExportState.FAILED
    assert f"started {EXPORT_MAX_ATTEMPTS} times and stopped each time" in export.message
    assert export.expires_at is not None
    assert list(export_dir.iterdir()) == []


@pytest.mark.django_db
def test_the_cleanup_gives_up_abandoned_exports_and_removes_failed_ones(
    history: History, finance_client: Client, export_dir: Path
) -> None:
    abandoned = _left_by_a_killed_run(
        history, export_dir, claimed_at=timezone.now() - timedelta(hours=2, minutes=1)
    )
    alive = _left_by_a_killed_run(history, export_dir, claimed_at=timezone.now())
    failed = _records_export(history)
    ReportExport.objects.filter(pk=failed.pk).update(
        parameters={**failed.parameters, "user": "nobody"}
    )
    assert export_write(failed.pk) == "failed"
    assert report_exports_clean() == 0
    abandoned.refresh_from_db()
    assert abandoned.state == ExportState.FAILED
    assert "stopped before it was done" in _status(finance_client, abandoned.pk)["message"]
    assert [path.name for path in export_dir.iterdir()] == [
        f"{alive.pk}-usage-records.xlsx.killed.part"
    ]
    # Failed exports expire like done ones, and go with whatever they left.
    (export_dir / f"{failed.pk}-usage-records.xlsx.gone.part").write_bytes(b"PK")
    later = timezone.now() + timedelta(hours=settings.REPORT_EXPORT_RETENTION_HOURS, minutes=1)
    ReportExport.objects.filter(pk=alive.pk).update(claimed_at=later)
    assert exports_clean(later) == 2
    assert set(ReportExport.objects.values_list("pk", flat=True)) == {alive.pk}
    assert [path.name for path in export_dir.iterdir()] == [
        f"{alive.pk}-usage-records.xlsx.killed.part"
    ]


def _worker_log_from(worker: WorkerProcess, offset: int, until: str, timeout: float = 30) -> str:
    """What the worker logged after `offset`, once that has `until` in it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with worker.log_path.open("rb") as log:
            log.seek(offset)
            logged = log.read().decode(errors="replace")
        if until in logged:
            return logged
        time.sleep(0.2)
    raise AssertionError(f"the worker did not log {until!r} within {timeout} s")


@pytest.mark.worker
def test_an_export_whose_message_was_lost_is_run_once_after_the_cleanup_queues_it_again(
    celery_worker: WorkerProcess, transactional_db: None, history: History
) -> None:
    """The embedded broker lost the message (its worker was killed before starting it): the
    hourly cleanup sends it again, and the original arriving late after all does nothing."""
    offset = celery_worker.log_path.stat().st_size
    long_ago = timezone.now() - EXPORT_QUEUED_RESEND_AFTER - timedelta(minutes=1)
    export = _records_export(history, created_at=long_ago, queued_at=long_ago)
    report_exports_clean()
    late_original = report_export_run.delay(export.pk)
    logged = _worker_log_from(celery_worker, offset, f"[{late_original.id}] succeeded")
    export.refresh_from_db()
    assert (export.state, export.attempts, export.requeues) == (ExportState.DONE, 1, 1)
    assert export.queued_at > long_ago
    ran = [
        line for line in logged.splitlines() if "report_export_run[" in line and "succeeded" in line
    ]
    assert len(ran) == 2, ran
    assert "'wrote " in ran[0]
    assert late_original.id not in ran[0]
    assert late_original.id in ran[1]
    assert "written by another run" in ran[1]
    assert [path.name for path in conf.export_dir().glob(f"{export.pk}-*")] == [export.file_name]


def test_the_cleanup_runs_often_enough_that_a_lost_export_waits_little_past_its_bound() -> None:
    """Hourly, an export whose task was lost waited up to an hour more than its bound."""
    (entry,) = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "apps.reports.tasks.report_exports_clean"
    ]
    every = timedelta(seconds=float(str(entry["schedule"])))
    assert every <= timedelta(minutes=10)
    assert EXPORT_QUEUED_RESEND_AFTER + every <= timedelta(hours=1, minutes=25)


@pytest.mark.django_db
def test_a_queued_export_no_worker_starts_is_queued_again_twice_then_given_up(
    history: History,
) -> None:
    created = timezone.now()
    export = _records_export(history, created_at=created, queued_at=created)
    running = _records_export(
        history, state=ExportState.RUNNING, claimed_at=created, queued_at=created
    )
    # Behind a worker busy with another export for as long as one may run, it just waits.
    assert exports_requeue_lost(created + timedelta(seconds=EXPORT_RUN_SECONDS)) == []
    now = created
    for requeues in range(1, EXPORT_MAX_REQUEUES + 1):
        now += EXPORT_QUEUED_RESEND_AFTER + timedelta(seconds=1)
        assert exports_requeue_lost(now) == [export.pk]
        assert exports_requeue_lost(now) == []  # a second sweep at once sends nothing more
        export.refresh_from_db()
        assert (export.state, export.queued_at, export.requeues) == (
            ExportState.QUEUED, now, requeues,
        )  # fmt: skip
    now += EXPORT_QUEUED_RESEND_AFTER + timedelta(seconds=1)
    assert exports_requeue_lost(now) == []
    export.refresh_from_db()
    assert export.state == ExportState.FAILED
    assert export.message == (
        "no worker started the export, though it was queued 3 times over 3 hours: ask an "
        "administrator whether the Celery workers are running, then start it again"
    )
    assert export.expires_at is not None
    running.refresh_from_db()
    assert (running.state, running.requeues) == (ExportState.RUNNING, 0)


@pytest.mark.django_db
def test_an_export_given_up_unstarted_says_so_in_the_language_it_was_asked_in(
    history: History,
) -> None:
    long_ago = timezone.now() - 4 * EXPORT_QUEUED_RESEND_AFTER
    export = _records_export(
        history,
        created_at=long_ago,
        queued_at=long_ago,
        requeues=EXPORT_MAX_REQUEUES,
        language="de",
    )
    exports_requeue_lost()
    export.refresh_from_db()
    assert export.state == ExportState.FAILED
    assert export.message.startswith("kein Worker hat den Export begonnen")


def test_last_period() -> None:
    wednesday = date(2026, 3, 4)
    assert last_period(RelativePeriod.YESTERDAY, wednesday) == (date(2026, 3, 3), date(2026, 3, 3))
    assert last_period(RelativePeriod.LAST_WEEK, wednesday) == (
        date(2026, 2, 23), date(2026, 3, 1),
    )  # fmt: skip
    assert last_period(RelativePeriod.LAST_MONTH, wednesday) == (
        date(2026, 2, 1), date(2026, 2, 28),
    )  # fmt: skip


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("refused@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _smtp_server(inbox: Inbox) -> Iterator[None]:
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            REPORT_EMAIL_FROM="reports@print.example.org",
        ):
            yield
    finally:
        controller.stop()


@pytest.fixture
def smtp_inbox() -> Iterator[Inbox]:
    inbox = Inbox()
    with _smtp_server(inbox):
        yield inbox


@pytest.mark.django_db
def test_a_scheduled_report_is_mailed_once_per_period(history: History, smtp_inbox: Inbox) -> None:
    ScheduledReport.objects.create(
        name="Daily charge-back",
        period=RelativePeriod.YESTERDAY,
        grouping="account",
        format="csv",
        recipients="finance@example.org\nboss@example.org",
    )
    assert scheduled_reports_send(timezone.localtime()) == 1  # yesterday, just ended
    tomorrow = timezone.localtime() + timedelta(days=1)
    assert scheduled_reports_send(tomorrow) == 1
    assert scheduled_reports_send(tomorrow) == 0  # the next hourly run sends nothing again
    assert len(smtp_inbox.messages) == 2
    message = smtp_inbox.messages[1]
    assert message["X-Envelope-To"] == "finance@example.org, boss@example.org"
    assert message["From"] == "reports@print.example.org"
    assert "Daily charge-back" in message["Subject"]
    attachments = [part for part in message.walk() if part.get_filename()]
    assert len(attachments) == 1
    text = attachments[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert text.splitlines()[0] == "account,jobs,pages,sides,sheets,charged,refunded,cost"
    assert text.splitlines()[-1] == "TOTAL,5,28,28,22,5.40,0.90,4.50"
    run = ScheduledReportRun.objects.get(period_start=timezone.localdate())
    assert run.sent_at is not None
    assert run.period_end == timezone.localdate()


@pytest.mark.django_db
def test_a_failed_send_is_recorded_and_tried_again_next_time(
    history: History, smtp_inbox: Inbox
) -> None:
    ScheduledReport.objects.create(
        name="Weekly", period=RelativePeriod.LAST_WEEK, grouping="user", format="pdf",
        recipients="finance@example.org",
    )  # fmt: skip
    now = timezone.localtime()
    port = _free_port()
    with override_settings(EMAIL_PORT=port, EMAIL_TIMEOUT=2):  # nobody listens there
        assert scheduled_reports_send(now) == 0
    run = ScheduledReportRun.objects.get()
    assert run.sent_at is None
    assert run.failed_at is not None
    assert run.message == (
        f"not sent: the mail server {settings.EMAIL_HOST}:{port} refused the connection"
    )
    assert scheduled_reports_send(now) == 1
    assert len(smtp_inbox.messages) == 1


@pytest.mark.django_db
def test_one_failing_scheduled_report_does_not_keep_the_others_from_being_sent(
    history: History, smtp_inbox: Inbox
) -> None:
    base = {"period": RelativePeriod.YESTERDAY, "grouping": "user", "format": "csv"}
    refused = ScheduledReport.objects.create(
        name="A refused address", recipients="refused@example.org", **base
    )
    # Its reason in English, though the report is German: operators search for it.
    unmakeable = ScheduledReport.objects.create(
        name="B deleted user",
        recipients="finance@example.org",
        filters={"user": "ghost"},
        language="de",
        **base,
    )
    ScheduledReport.objects.create(name="C daily", recipients="finance@example.org", **base)
    tomorrow = timezone.localtime() + timedelta(days=1)
    assert scheduled_reports_send(tomorrow) == 2  # yesterday's and today's
    assert [message["Subject"].split(":")[0] for message in smtp_inbox.messages] == [
        "C daily", "C daily",
    ]  # fmt: skip
    failures = {
        run.report_id: run.message for run in ScheduledReportRun.objects.filter(sent_at=None)
    }
    assert failures.keys() == {refused.pk, unmakeable.pk}
    assert failures[refused.pk] == (
        "stopped: its recipients: the mail server refuses them: refused@example.org "
        "(550 5.1.1 no such mailbox)"
    )
    assert failures[unmakeable.pk] == "stopped: its user filter: no user is named 'ghost'."
    # Neither is tried again, every hour, until it is edited.
    assert ScheduledReport.objects.filter(stopped_at__isnull=False).count() == 2
    assert scheduled_reports_send(tomorrow) == 0
    assert len(smtp_inbox.messages) == 2
    assert ScheduledReportRun.objects.filter(sent_at=None).count() == 2


def _subjects(inbox: Inbox) -> list[str]:
    return [message["Subject"] for message in inbox.messages]


@pytest.mark.django_db
def test_every_period_that_ended_while_nothing_was_sent_is_sent(
    history: History, smtp_inbox: Inbox
) -> None:
    now = timezone.localtime()
    today = now.date()
    report = ScheduledReport.objects.create(
        name="Daily", period=RelativePeriod.YESTERDAY, grouping="user", format="csv",
        recipients="finance@example.org", active_since=now - timedelta(days=5),
    )  # fmt: skip
    assert scheduled_reports_send(now - timedelta(days=5)) == 1
    # The beat stopped for four days: each day that ended meanwhile is sent, in order.
    assert scheduled_reports_send(now) == 5
    assert scheduled_reports_send(now) == 0
    assert _subjects(smtp_inbox) == [
        f"Daily: usage {day} to {day}"
        for day in (today - timedelta(days=n) for n in range(6, 0, -1))
    ]
    assert report.runs.filter(sent_at__isnull=False).count() == 6


def _monthly(active_since: date, name: str = "Monthly") -> ScheduledReport:
    zone = timezone.get_current_timezone()
    return ScheduledReport.objects.create(
        name=name, period=RelativePeriod.LAST_MONTH, grouping="user", format="csv",
        recipients="finance@example.org",
        active_since=datetime.combine(active_since, datetime.min.time(), tzinfo=zone),
    )  # fmt: skip


@pytest.mark.django_db
def test_the_periods_due_start_when_the_report_became_active() -> None:
    report = _monthly(date(2026, 1, 15))
    assert periods_due(report, date(2026, 1, 20)) == [(date(2025, 12, 1), date(2025, 12, 31))]
    assert periods_due(report, date(2026, 4, 1)) == [
        (date(2025, 12, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 31)),
    ]
    sent = timezone.now()
    report.runs.create(period_start=date(2025, 12, 1), period_end=date(2025, 12, 31), sent_at=sent)
    report.runs.create(period_start=date(2026, 1, 1), period_end=date(2026, 1, 31))  # failed
    report.runs.create(period_start=date(2026, 2, 1), period_end=date(2026, 2, 28), sent_at=sent)
    assert periods_due(report, date(2026, 4, 1)) == [
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 3, 1), date(2026, 3, 31)),
    ]
    # A year's periods over the turn of the year, none sent yet.
    year = periods_due(_monthly(date(2026, 11, 3), "Monthly too"), date(2027, 11, 3))
    assert [first.month for first, _ in year] == [10, 11, 12, *range(1, 11)]
    assert [last for _, last in year][2:4] == [date(2026, 12, 31), date(2027, 1, 31)]


@pytest.mark.django_db
def test_periods_that_ended_while_a_report_was_paused_are_not_sent(
    history: History, finance_client: Client, smtp_inbox: Inbox
) -> None:
    report = ScheduledReport.objects.create(
        name="Daily", period=RelativePeriod.YESTERDAY, grouping="user", format="csv",
        recipients="finance@example.org",
        active_since=timezone.now() - timedelta(days=10),
    )  # fmt: skip
    for active in ("0", "1"):
        response = finance_client.post(f"/reports/schedules/{report.pk}/toggle", {"active": active})
        assert response.status_code == 302
    assert scheduled_reports_send(timezone.localtime()) == 1
    yesterday = timezone.localdate() - timedelta(days=1)
    assert _subjects(smtp_inbox) == [f"Daily: usage {yesterday} to {yesterday}"]


@pytest.mark.django_db
def test_pause_clicked_twice_leaves_the_report_paused(
    history: History, finance_client: Client
) -> None:
    report = ScheduledReport.objects.create(
        name="Daily", period=RelativePeriod.YESTERDAY, grouping="user", format="csv",
        recipients="finance@example.org",
    )  # fmt: skip
    page = finance_client.get("/reports/schedules/").content.decode()
    assert '<input type="hidden" name="active" value="0">' in page
    for _double_click in range(2):
        finance_client.post(f"/reports/schedules/{report.pk}/toggle", {"active": "0"})
    report.refresh_from_db()
    assert not report.is_active
    resumed = report.active_since
    for _double_click in range(2):
        finance_client.post(f"/reports/schedules/{report.pk}/toggle", {"active": "1"})
    report.refresh_from_db()
    assert report.is_active
    assert report.active_since > resumed
    resumed = report.active_since
    finance_client.post(f"/reports/schedules/{report.pk}/toggle", {"active": "1"})
    report.refresh_from_db()
    assert report.active_since == resumed
    assert finance_client.post(f"/reports/schedules/{report.pk}/toggle").status_code == 400


@pytest.mark.django_db
def test_a_run_out_of_time_stops_and_the_next_goes_on(
    history: History, smtp_inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.localtime()
    ScheduledReport.objects.create(
        name="Daily", period=RelativePeriod.YESTERDAY, grouping="user", format="csv",
        recipients="finance@example.org", active_since=now - timedelta(days=3),
    )  # fmt: skip
    sends = [0]

    def send_until_the_time_limit(*args: Any) -> bool:
        sends[0] += 1
        if sends[0] == 3:
            raise SoftTimeLimitExceeded
        return scheduled_report_send(*args)

    monkeypatch.setattr("apps.reports.tasks.scheduled_report_send", send_until_the_time_limit)
    with pytest.raises(SoftTimeLimitExceeded):
        scheduled_reports_send(now)
    assert sends[0] == 3
    assert not ScheduledReportRun.objects.exclude(message="").exists()
    monkeypatch.undo()
    assert scheduled_reports_send(now) == 2
    assert len(smtp_inbox.messages) == 4


class WatchingInbox(Inbox):
    """An inbox that notes, as each message arrives, whether the sending connection holds a
    transaction open and what another connection sees of the period's run."""

    def __init__(self, sender: BaseDatabaseWrapper) -> None:
        super().__init__()
        self.sender = sender
        self.seen: list[tuple[bool, bool, bool]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.seen.append(
            (self.sender.in_atomic_block, *await asyncio.to_thread(self._run_as_others_see_it))
        )
        return await super().handle_DATA(server, session, envelope)

    @staticmethod
    def _run_as_others_see_it() -> tuple[bool, bool]:
        try:
            run = ScheduledReportRun.objects.get()
            return run.sending_at is not None, run.sent_at is not None
        finally:
            connections.close_all()


def test_no_transaction_is_open_while_the_mail_server_is_spoken_to(
    transactional_db: None,
) -> None:
    inbox = WatchingInbox(connection)
    with _smtp_server(inbox):
        ScheduledReport.objects.create(
            name="Daily", period=RelativePeriod.YESTERDAY, grouping="user", format="csv",
            recipients="finance@example.org",
        )  # fmt: skip
        assert scheduled_reports_send(timezone.localtime()) == 1
    # Claimed, and committed, before the server was spoken to; sent recorded after.
    assert inbox.seen == [(False, True, False)]
    run = ScheduledReportRun.objects.get()
    assert run.sent_at is not None
    assert run.recipients == "finance@example.org"


@pytest.mark.django_db
def test_a_send_whose_worker_stopped_is_not_sent_again(
    history: History, smtp_inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    now = timezone.localtime()
    report = ScheduledReport.objects.create(
        name="Daily", period=RelativePeriod.YESTERDAY, grouping="user", format="csv",
        recipients="finance@example.org", active_since=now - timedelta(days=2),
    )  # fmt: skip
    day_before, yesterday = (now.date() - timedelta(days=n) for n in (2, 1))
    # One period claimed by a run killed after it spoke to the mail server, one by a run
    # sending it at this moment.
    report.runs.create(
        period_start=day_before, period_end=day_before,
        sending_at=now - timedelta(seconds=SCHEDULED_SEND_SECONDS + 1),
    )  # fmt: skip
    report.runs.create(period_start=yesterday, period_end=yesterday, sending_at=now)
    assert scheduled_reports_send(now) == 0
    assert smtp_inbox.messages == []
    killed, sending = report.runs.order_by("period_start")
    assert killed.message == "possibly sent, not sent again: the worker stopped"
    assert sending.message == ""
    logged = [record for record in caplog.records if record.name == "apps.reports.tasks"]
    assert [record.levelname for record in logged] == ["ERROR"]
    assert "possibly sent, not sent again" in logged[0].getMessage()
    caplog.clear()
    assert scheduled_reports_send(now) == 0
    assert not [record for record in caplog.records if record.name == "apps.reports.tasks"]


class CutOffInbox(Inbox):
    """A mail server that takes a message and hangs up before saying so."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await super().handle_DATA(server, session, envelope)
        server.transport.close()
        return "250 OK"


@pytest.mark.django_db
def test_a_send_cut_off_after_the_server_took_it_is_not_sent_again(history: History) -> None:
    inbox = CutOffInbox()
    with _smtp_server(inbox):
        report = ScheduledReport.objects.create(
            name="Daily", period=RelativePeriod.YESTERDAY, grouping="user", format="csv",
            recipients="finance@example.org",
        )  # fmt: skip
        now = timezone.localtime()
        assert scheduled_reports_send(now) == 0
        assert scheduled_reports_send(now) == 0
    assert len(inbox.messages) == 1
    run = report.runs.get()
    assert run.sent_at is None
    assert run.message == ("possibly sent, not sent again: the mail server closed the connection")


def test_a_background_export_is_written_in_the_language_it_was_asked_in(
    history: History, finance_client: Client, export_dir: Path
) -> None:
    """Its titles and sentences; the column and sheet names stay the English ones of CSV."""
    today = timezone.localdate().isoformat()
    response = finance_client.post(
        "/reports/exports/",
        {"start": today, "end": today, "grouping": "user", "kind": "usage", "format": "xlsx"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert response.status_code == 302
    translation.deactivate()  # the worker runs in no request's language
    export = ReportExport.objects.get()
    assert report_export_run(export.pk).startswith("wrote ")
    export.refresh_from_db()
    workbook = load_workbook(export_dir / export.file_name)
    rows = list(workbook["user"].iter_rows(values_only=True))
    assert rows[0][0] == f"Nutzung nach Benutzer, {today} bis {today}"
    assert str(rows[1][0]).startswith("Filter: keine; Währung ")
    assert rows[3][:2] == ("user", "jobs")
    statements = [row[0] for row in workbook["reconciliation"].iter_rows(values_only=True)]
    assert "Abgestimmt: die Berichtssumme entspricht den Buchungen." in statements


def test_why_an_export_failed_is_said_in_the_language_it_was_asked_in(
    history: History, finance_client: Client, export_dir: Path
) -> None:
    """A German reader was told in English why an export failed, and a write that failed
    showed the server's own message, with the file's path."""
    today = timezone.localdate().isoformat()
    asked = {"start": today, "end": today, "grouping": "user", "kind": "records"}
    for report_format in ("xlsx", "pdf"):
        started = finance_client.post(
            "/reports/exports/", {**asked, "format": report_format}, HTTP_ACCEPT_LANGUAGE="de"
        )
        assert started.status_code == 302
    translation.deactivate()  # the worker runs in no request's language
    unmakeable, unwritable = ReportExport.objects.order_by("pk")
    ReportExport.objects.filter(pk=unmakeable.pk).update(
        parameters={**unmakeable.parameters, "user": "ghost"}
    )
    assert report_export_run(unmakeable.pk) == "failed"
    status = _status(finance_client, unmakeable.pk, "de")
    assert (status["state_label"], status["message"]) == (
        "fehlgeschlagen", "kein Benutzer heißt 'ghost'.",
    )  # fmt: skip
    # A folder no file can be made in, even by root.
    with override_settings(REPORT_EXPORT_DIR="/proc"):
        assert report_export_run(unwritable.pk) == "failed"
    message = _status(finance_client, unwritable.pk, "de")["message"]
    assert message.startswith("der Export ist auf dem Server fehlgeschlagen")
    assert "/proc" not in message


def test_a_scheduled_report_is_mailed_in_its_creators_language(
    history: History, finance_client: Client, smtp_inbox: Inbox
) -> None:
    response = finance_client.post(
        "/reports/schedules/",
        {"name": "Täglich", "period": "yesterday", "grouping": "user", "format": "csv",
         "recipients": "finance@example.org"},
        HTTP_ACCEPT_LANGUAGE="de",
    )  # fmt: skip
    assert response.status_code == 302
    translation.deactivate()
    assert scheduled_reports_send(timezone.localtime()) == 1
    day = timezone.localdate() - timedelta(days=1)
    (message,) = smtp_inbox.messages
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert subject == f"Täglich: Nutzung {day} bis {day}"


@pytest.mark.django_db
def test_a_record_the_pipeline_missed_is_in_the_scheduled_report_of_its_period(
    history: History,
    print_job: Callable[..., Job],
    smtp_inbox: Inbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The report of a period is sent once: a record written by the hourly catch-up after it
    was sent would never be in it."""

    def broken(job: Job) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("apps.reports.services.usage_record_write", broken)
    print_job(history.carol, history.laser, price="0.20", pages=2)
    monkeypatch.undo()
    ScheduledReport.objects.create(
        name="Daily", period=RelativePeriod.YESTERDAY, grouping="user", format="csv",
        recipients="finance@example.org",
    )  # fmt: skip
    tomorrow = timezone.localtime() + timedelta(days=1)
    assert scheduled_reports_send(tomorrow) == 2  # yesterday's and today's
    today = smtp_inbox.messages[1]
    attachment = next(part for part in today.walk() if part.get_filename())
    text = attachment.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert text.splitlines()[-1] == "TOTAL,6,30,30,24,5.60,0.90,4.70"
    body = next(part for part in today.walk() if part.get_content_type() == "text/plain")
    assert "from every usage record written by then" in body.get_payload(decode=True).decode()  # type: ignore[union-attr]


@pytest.mark.django_db
def test_a_record_the_database_refuses_keeps_neither_the_others_nor_the_reports_back(
    history: History,
    print_job: Callable[..., Job],
    smtp_inbox: Inbox,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The catch-up before the scheduled reports meets a record the database refuses (a check
    it fails, not a twin another worker wrote): it logs why, writes the other jobs' records
    and the reports are sent; the refused one is tried again at the next run."""

    def broken(job: Job) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("apps.reports.services.usage_record_write", broken)
    refused = print_job(history.carol, history.laser, price="0.20", pages=2)
    missed = print_job(history.alice, history.laser, price="0.30", pages=3)
    monkeypatch.undo()

    def refunded(job_id: int) -> Decimal:
        # A negative refund: the database's usage_money_not_negative check refuses the record.
        return Decimal("-0.10") if job_id == refused.pk else job_refunded(job_id)

    monkeypatch.setattr("apps.reports.services.job_refunded", refunded)
    ScheduledReport.objects.create(
        name="Daily", period=RelativePeriod.YESTERDAY, grouping="user", format="csv",
        recipients="finance@example.org",
    )  # fmt: skip
    tomorrow = timezone.localtime() + timedelta(days=1)
    caplog.clear()
    assert scheduled_reports_send(tomorrow) == 2  # yesterday's and today's
    today = smtp_inbox.messages[1]
    attachment = next(part for part in today.walk() if part.get_filename())
    text = attachment.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert text.splitlines()[-1] == "TOTAL,6,31,31,25,5.70,0.90,4.80"
    (logged,) = [record for record in caplog.records if record.levelname == "ERROR"]
    assert logged.getMessage() == (
        f"job {refused.pk}: usage record not written; the next catch-up tries again"
    )
    assert logged.exc_info is not None
    assert "usage_money_not_negative" in str(logged.exc_info[1])
    assert UsageRecord.objects.filter(job_id=missed.pk).exists()
    assert not UsageRecord.objects.filter(job_id=refused.pk).exists()
    monkeypatch.undo()
    assert usage_records_catch_up() == 1
    assert UsageRecord.objects.get(job_id=refused.pk).cost == Decimal("0.20")


def test_a_possibly_sent_period_is_sent_again_from_the_admin_after_a_warning(
    transactional_db: None,
) -> None:
    report = ScheduledReport.objects.create(
        name="Daily", period=RelativePeriod.YESTERDAY, grouping="user", format="csv",
        recipients="finance@example.org",
    )  # fmt: skip
    cut_off = CutOffInbox()
    with _smtp_server(cut_off):
        assert scheduled_reports_send(timezone.localtime()) == 0
    run = report.runs.get()
    assert run.possibly_sent
    admin = Client()
    admin.force_login(user_create("root", "a long enough password", superuser=True))
    runs_page = "/admin/reports/scheduledreportrun/"
    chosen = {"action": "resend", "_selected_action": [run.pk]}
    inbox = WatchingInbox(connection)
    with _smtp_server(inbox):
        asked = admin.post(runs_page, chosen)
        assert asked.status_code == 200
        warning = html.unescape(asked.content.decode())
        assert "Sent again, they may reach them twice." in warning
        assert "to finance@example.org" in warning
        assert inbox.messages == []
        assert report.runs.get().possibly_sent
        done = admin.post(runs_page, {**chosen, "confirmed": "yes"}, follow=True)
        assert "was sent again to finance@example.org" in html.unescape(done.content.decode())
        # Claimed and committed before the mail server was spoken to, outside any transaction;
        # recorded as sent after.
        assert inbox.seen == [(False, True, False)]
        sent = report.runs.get()
        assert (sent.sent_at is not None, sent.message) == (True, "")
        # Sent: never again, whoever asks.
        again = admin.post(runs_page, {**chosen, "confirmed": "yes"}, follow=True)
        assert "was not sent again: it was sent" in html.unescape(again.content.decode())
    assert len(inbox.messages) == 1
    assert scheduled_reports_send(timezone.localtime()) == 0


def test_a_resend_from_the_admin_that_fails_says_why_in_words(transactional_db: None) -> None:
    report = ScheduledReport.objects.create(
        name="Daily", period=RelativePeriod.YESTERDAY, grouping="user", format="csv",
        recipients="finance@example.org",
    )  # fmt: skip
    with _smtp_server(CutOffInbox()):
        assert scheduled_reports_send(timezone.localtime()) == 0
    run = report.runs.get()
    admin = Client()
    admin.force_login(user_create("root", "a long enough password", superuser=True))
    chosen = {"action": "resend", "_selected_action": [run.pk], "confirmed": "yes"}
    port = _free_port()
    with override_settings(  # nobody listens there
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_TIMEOUT=2,
    ):
        done = admin.post("/admin/reports/scheduledreportrun/", chosen, follow=True)
    why = f"the mail server 127.0.0.1:{port} refused the connection"
    assert f"was not sent ({why}): the next scheduled run tries it again" in html.unescape(
        done.content.decode()
    )
    assert report.runs.get().message == f"not sent: {why}"


def _schedule_form(report: ScheduledReport, **changes: str) -> dict[str, str]:
    """The portal's edit form of a scheduled report as saved, with `changes`."""
    fields = {
        "name": report.name, "period": report.period, "grouping": report.grouping,
        "format": report.format, "recipients": report.recipients,
        **{name: report.filters.get(name, "") for name in ("user", "group", "account", "printer")},
    }  # fmt: skip
    return {**fields, **changes}


@pytest.mark.django_db
def test_a_report_whose_filter_names_a_renamed_printer_stops_until_it_is_edited(
    history: History,
    finance_client: Client,
    smtp_inbox: Inbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = timezone.localtime()
    yesterday = now.date() - timedelta(days=1)
    report = ScheduledReport.objects.create(
        name="Laser daily", period=RelativePeriod.YESTERDAY, grouping="user", format="csv",
        recipients="finance@example.org", filters={"printer": "laser"},
        active_since=now, created_by=history.finance,
    )  # fmt: skip
    ScheduledReport.objects.create(
        name="Everyone daily", period=RelativePeriod.YESTERDAY, grouping="user", format="csv",
        recipients="finance@example.org", active_since=now,
    )  # fmt: skip
    history.laser.name = "laser-2"
    history.laser.save()

    assert scheduled_reports_send(now) == 1
    assert _subjects(smtp_inbox) == [f"Everyone daily: usage {yesterday} to {yesterday}"]
    report.refresh_from_db()
    why = "its printer filter: no printer is named 'laser'."
    assert report.stopped_at is not None
    assert report.stopped_because == why
    (run,) = report.runs.all()
    assert (run.period_start, run.sent_at, run.message) == (yesterday, None, f"stopped: {why}")
    (logged,) = [record for record in caplog.records if record.levelname != "INFO"]
    assert logged.levelname == "ERROR"
    assert "'Laser daily' stopped" in logged.getMessage()
    assert why in logged.getMessage()

    # The next hours and days: not tried again, not logged again.
    caplog.clear()
    for later in (now + timedelta(hours=1), now + timedelta(days=1)):
        scheduled_reports_send(later)
    assert [record for record in caplog.records if record.levelname != "INFO"] == []
    assert list(report.runs.values_list("failed_at", flat=True)) == [run.failed_at]

    # Told where Finance looks, in the reader's language.
    page = html.unescape(finance_client.get("/reports/").content.decode())
    assert "1 scheduled report is stopped" in page
    page = html.unescape(finance_client.get("/reports/schedules/").content.decode())
    assert f"stopped since {report.stopped_at:%Y-%m-%d}" in page
    assert why in page
    german = finance_client.get("/reports/schedules/", HTTP_ACCEPT_LANGUAGE="de")
    assert "sein Drucker-Filter: kein Drucker heißt 'laser'." in html.unescape(
        german.content.decode()
    )

    # Edited to name the printer as it is called now: sent again, from the period it stopped at.
    edit = f"/reports/schedules/{report.pk}/"
    assert 'value="laser"' in finance_client.get(edit).content.decode()
    response = finance_client.post(edit, _schedule_form(report, printer="laser-3"))
    assert response.status_code == 400  # checked as when it is created
    assert "no printer is named" in html.unescape(response.content.decode())
    response = finance_client.post(edit, _schedule_form(report, printer="laser-2"))
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.stopped_at is None
    assert report.stopped_because == ""
    assert report.filters == {"printer": "laser-2"}
    smtp_inbox.messages.clear()
    assert scheduled_reports_send(now + timedelta(days=1)) == 2
    assert _subjects(smtp_inbox) == [
        f"Laser daily: usage {day} to {day}" for day in (yesterday, now.date())
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("recipients", "why"),
    [
        ("", "its recipients: Give at least one e-mail address."),
        (
            "finance@example.org\nthe boss",
            "its recipients: “the boss” is not an e-mail address: write one address a line.",
        ),
    ],
)
def test_a_report_saved_with_recipients_that_are_no_addresses_stops(
    history: History, smtp_inbox: Inbox, recipients: str, why: str
) -> None:
    """Saved before recipients were checked: no recipient at all was recorded as sent."""
    report = ScheduledReport.objects.create(
        name="Daily", period=RelativePeriod.YESTERDAY, grouping="user", format="csv",
        recipients=recipients,
    )  # fmt: skip
    assert scheduled_reports_send(timezone.localtime()) == 0
    assert smtp_inbox.messages == []
    report.refresh_from_db()
    assert report.stopped_because == why
    assert report.runs.get().sent_at is None


@pytest.mark.django_db
def test_a_report_whose_filters_are_not_understood_stops(history: History) -> None:
    report = ScheduledReport.objects.create(
        name="Daily", period=RelativePeriod.YESTERDAY, grouping="user", format="csv",
        recipients="finance@example.org", filters={"usr": "alice"},
    )  # fmt: skip
    assert scheduled_reports_send(timezone.localtime()) == 0
    report.refresh_from_db()
    assert report.stopped_because == (
        "its filters {'usr': 'alice'} are not understood: the keys are user, group, account, "
        "printer, each with a name."
    )


@pytest.mark.django_db
def test_a_report_edited_in_the_admin_is_sent_again(history: History, smtp_inbox: Inbox) -> None:
    root = user_create("root", "a long enough password", superuser=True)
    admin_client = Client()
    admin_client.force_login(root)
    now = timezone.localtime()
    report = ScheduledReport.objects.create(
        name="Alice daily", period=RelativePeriod.YESTERDAY, grouping="user", format="csv",
        recipients="finance@example.org", filters={"user": "alicia"}, active_since=now,
        language="en",
    )  # fmt: skip
    scheduled_reports_send(now)
    report.refresh_from_db()
    assert report.stopped_because == "its user filter: no user is named 'alicia'."
    page = admin_client.get("/admin/reports/scheduledreport/").content.decode()
    assert html.escape("no user is named 'alicia'.") in page
    response = admin_client.post(
        f"/admin/reports/scheduledreport/{report.pk}/change/",
        {
            "name": report.name, "period": report.period, "grouping": report.grouping,
            "format": report.format, "recipients": report.recipients,
            "filters": '{"user": "alice"}', "is_active": "on", "language": "en",
            "active_since_0": f"{now:%Y-%m-%d}", "active_since_1": f"{now:%H:%M:%S}",
            "created_by": root.pk,
        },
    )  # fmt: skip
    errors = re.findall(r"errorlist[^>]*>(.*?)</ul>", response.content.decode(), re.S)
    assert response.status_code == 302, errors
    report.refresh_from_db()
    assert report.stopped_at is None
    assert scheduled_reports_send(now) == 1
    assert _subjects(smtp_inbox) == [
        f"Alice daily: usage {now.date() - timedelta(days=1)} to {now.date() - timedelta(days=1)}"
    ]


@pytest.mark.django_db
def test_a_recipient_refused_for_now_is_tried_again_next_time(history: History) -> None:
    """A mail server that answers "try later" (4xx) may take it then: not stopped."""

    class BusyInbox(Inbox):
        async def handle_RCPT(
            self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
        ) -> str:
            return "450 4.2.1 mailbox busy, try later"

    report = ScheduledReport.objects.create(
        name="Daily", period=RelativePeriod.YESTERDAY, grouping="user", format="csv",
        recipients="finance@example.org",
    )  # fmt: skip
    with _smtp_server(BusyInbox()):
        assert scheduled_reports_send(timezone.localtime()) == 0
    report.refresh_from_db()
    assert report.stopped_at is None
    assert report.runs.get().message == (
        "not sent: the mail server refused every recipient: finance@example.org "
        "(450 4.2.1 mailbox busy, try later)"
    )
    inbox = Inbox()
    with _smtp_server(inbox):
        assert scheduled_reports_send(timezone.localtime()) == 1
    assert len(inbox.messages) == 1
