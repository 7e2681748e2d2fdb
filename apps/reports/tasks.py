"""Celery tasks: long exports with progress, their cleanup, scheduled e-mails, catch-up."""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from datetime import date, datetime, timedelta
from io import BytesIO

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.reports import conf
from apps.reports.choices import ExportKind, RelativePeriod, ReportFormat
from apps.reports.exports import CONTENT_TYPES, file_name, write_export
from apps.reports.forms import FILTERS, recipients_checked
from apps.reports.models import POSSIBLY_SENT, ScheduledReport, ScheduledReportRun
from apps.reports.selectors import ReportError, ReportRequest, report_request
from apps.reports.services import (
    EXPORT_RUN_SECONDS,
    export_write,
    exports_clean,
    exports_requeue_lost,
    usage_records_catch_up,
)

logger = logging.getLogger(__name__)

# The scheduled-report task is killed after this long: a claim older than that is a dead run's.
SCHEDULED_SEND_SECONDS = 600


@shared_task(
    bind=True,
    name="apps.reports.tasks.report_export_run",
    # A million records as XLSX or PDF take minutes: more than the default task time limit.
    soft_time_limit=EXPORT_RUN_SECONDS - 300,
    time_limit=EXPORT_RUN_SECONDS,
)
def report_export_run(self: Task, export_id: int) -> str:  # type: ignore[type-arg]
    """Write an export file (see export_write); this message handed out again takes it over."""
    delivery = self.request.delivery_info or {}
    return export_write(
        export_id, task_id=self.request.id or "", redelivered=bool(delivery.get("redelivered"))
    )


@shared_task(name="apps.reports.tasks.report_exports_clean")
def report_exports_clean() -> int:
    """Send again the tasks of exports queued long ago and never started; give up exports
    whose run is gone; delete those whose time is up; returns how many were deleted."""
    for export_id in exports_requeue_lost():
        report_export_run.delay(export_id)
    return exports_clean()


def period_start(period: RelativePeriod, day: date) -> date:
    """The first day of the period that `day` is in."""
    if period == RelativePeriod.YESTERDAY:
        return day
    if period == RelativePeriod.LAST_WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_end(period: RelativePeriod, first: date) -> date:
    """The last day of the period that starts on `first`."""
    if period == RelativePeriod.YESTERDAY:
        return first
    if period == RelativePeriod.LAST_WEEK:
        return first + timedelta(days=6)
    next_month = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return next_month - timedelta(days=1)


def last_period(period: RelativePeriod, today: date) -> tuple[date, date]:
    """The last whole period before `today`: (first day, last day)."""
    first = period_start(period, period_start(period, today) - timedelta(days=1))
    return first, period_end(period, first)


def periods_due(report: ScheduledReport, today: date) -> list[tuple[date, date]]:
    """The periods of a scheduled report to send, oldest first: every one that ended before
    `today` and since the report became active (the one that had just ended then included),
    and has not been sent. Those before the last one sent are not looked at again, except
    those whose send failed."""
    period = RelativePeriod(report.period)
    start, _ = last_period(period, timezone.localdate(report.active_since))
    latest, _ = last_period(period, today)
    runs = ScheduledReportRun.objects.filter(report=report, period_start__gte=start)
    # Claimed: being sent, or possibly sent by a run that stopped; either way not sent again.
    handled = Q(sent_at__isnull=False) | Q(sending_at__isnull=False)
    marks = runs.aggregate(
        last_sent=Max("period_start", filter=handled),
        first_unsent=Min("period_start", filter=~handled),
    )
    if marks["last_sent"] is not None:
        # Aligned, should the report's period have been changed since.
        start = period_start(
            period, min(marks["last_sent"], marks["first_unsent"] or marks["last_sent"])
        )
    sent = set(runs.filter(handled, period_start__gte=start).values_list("period_start", flat=True))
    due = []
    first = start
    while first <= latest:
        last = period_end(period, first)
        if first not in sent:
            due.append((first, last))
        first = last + timedelta(days=1)
    return due


class SendOutcomeUnknown(Exception):
    """The mail server may have taken a scheduled report: it is not sent again."""


def mail_failure_in_words(error: BaseException) -> str:
    """Why a scheduled report's mail was not sent, as the administrator reading it can act on
    it: the mail server's own answer or the network's trouble, no exception names or reprs
    (the log keeps those)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return f"the mail server refused every recipient: {_refused_recipients(error)}"
    if isinstance(error, smtplib.SMTPSenderRefused):
        answer = _smtp_answer(error.smtp_code, error.smtp_error)
        return f"the mail server refused the sender {error.sender}: {answer}"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        answer = _smtp_answer(error.smtp_code, error.smtp_error)
        return f"the mail server refused the log-in (EMAIL_HOST_USER and PASSWORD): {answer}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"the mail server answered {_smtp_answer(error.smtp_code, error.smtp_error)}"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "the mail server closed the connection"
    if isinstance(error, SoftTimeLimitExceeded):
        return "sending took longer than a scheduled run may take"
    server = f"the mail server {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"{server}'s certificate is not trusted: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        reason = error.reason.replace("_", " ").lower() if error.reason else "unknown reason"
        return f"the TLS handshake with {server} failed: {reason}"
    if isinstance(error, ConnectionRefusedError):
        return f"{server} refused the connection"
    if isinstance(error, socket.gaierror):
        return f"the mail server's host name {settings.EMAIL_HOST} cannot be looked up"
    if isinstance(error, TimeoutError):
        return f"{server} did not answer within {settings.EMAIL_TIMEOUT} s"
    if isinstance(error, OSError) and error.strerror:
        return f"{server} cannot be reached: {error.strerror.lower()}"
    return "an unexpected error (the administrator can find it in the log)"


def _refused_recipients(refused: smtplib.SMTPRecipientsRefused) -> str:
    return "; ".join(
        f"{address} ({_smtp_answer(code, text)})"
        for address, (code, text) in refused.recipients.items()
    )


def _smtp_answer(code: int, text: bytes | str) -> str:
    words = text.decode(errors="replace") if isinstance(text, bytes) else text
    return f"{code} {words}".strip()


def scheduled_report_claim(report: ScheduledReport, start: date, end: date) -> bool:
    """Claim one period of a scheduled report for sending, in a short transaction of its own:
    False when it was sent, is being sent, or may have been sent already. A conditional
    UPDATE, so two workers cannot both claim it on SQLite either, which ignores row locks."""
    with transaction.atomic():
        run, _ = ScheduledReportRun.objects.get_or_create(
            report=report, period_start=start, defaults={"period_end": end}
        )
        claimed = ScheduledReportRun.objects.filter(
            pk=run.pk, sent_at__isnull=True, sending_at__isnull=True
        ).update(
            sending_at=timezone.now(), recipients=report.recipients, failed_at=None, message=""
        )
    return claimed == 1


def _scheduled_report_release(report: ScheduledReport, start: date) -> None:
    """Give up a claim whose message certainly did not reach the mail server."""
    ScheduledReportRun.objects.filter(
        report=report, period_start=start, sent_at__isnull=True
    ).update(sending_at=None)


def _scheduled_report_message(
    report: ScheduledReport,
    request: ReportRequest,
    start: date,
    end: date,
    connection: BaseEmailBackend,
) -> EmailMessage:
    report_format = ReportFormat(report.format)
    buffer = BytesIO()
    write_export(ExportKind.USAGE, report_format, request, buffer)
    names = {"name": report.name, "start": start, "end": end, "format": report_format.label}
    attached = _(
        "The scheduled report '%(name)s' for %(start)s to %(end)s is attached (%(format)s)."
    )
    # When the period was closed, so a reader knows what a record written later is missing.
    closed = _(
        "It was made at %(made)s from every usage record written by then, after any the "
        "print pipeline had missed were written."
    ) % {"made": timezone.localtime().isoformat(sep=" ", timespec="seconds")}
    message = EmailMessage(
        subject=_("%(name)s: usage %(start)s to %(end)s") % names,
        body=f"{attached % names}\n{closed}\n",
        from_email=conf.email_from(),
        to=report.recipient_list,
        connection=connection,
    )
    message.attach(
        file_name(ExportKind.USAGE, request, report_format),
        buffer.getvalue(),
        CONTENT_TYPES[report_format],
    )
    return message


def scheduled_report_send(report: ScheduledReport, start: date, end: date) -> bool:
    """Send one scheduled report for one period, at most once: False when it was sent already
    (or is being sent by another worker). No transaction is open while the file is made or
    the mail server is spoken to: the claim, the send and its outcome are three steps.

    A failure before the server took the message (the file cannot be made, the server cannot
    be reached or refuses it) releases the claim, and the period is tried again next time. A
    failure while the server may have taken it raises SendOutcomeUnknown and keeps the claim:
    possibly sent, not sent again."""
    if not scheduled_report_claim(report, start, end):
        return False
    connection = get_connection(fail_silently=False)
    try:
        # Checked in the site's language, not the report's: why a report cannot be made is
        # recorded for operators, who search for it in English.
        request = report_request(start, end, report.grouping, **report.filters)
        with translation.override(report.language or None):
            message = _scheduled_report_message(report, request, start, end, connection)
        connection.open()
    except BaseException:
        _scheduled_report_release(report, start)
        raise
    try:
        message.send()
    except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
        # The server answered no: it did not take the message.
        _scheduled_report_release(report, start)
        raise
    except BaseException as error:
        logger.exception("scheduled report %s: the send broke off", report.pk)
        why = mail_failure_in_words(error)
        _possibly_sent(report, start, end, why)
        if isinstance(error, SoftTimeLimitExceeded):
            raise
        raise SendOutcomeUnknown(why) from error
    finally:
        connection.close()
    ScheduledReportRun.objects.filter(report=report, period_start=start).update(
        sent_at=timezone.now(), failed_at=None, message=""
    )
    logger.info("scheduled report %s sent for %s to %s", report.pk, start, end)
    return True


class ResendRefused(Exception):
    """A period that is not "possibly sent" cannot be sent again by hand; the message says why."""


def scheduled_report_resend(run_id: int) -> bool:
    """Send again, as an administrator asked knowing its recipients may get it twice, a period
    whose send was interrupted after the server may have taken it ("possibly sent"): its claim
    is given up, and the period sent as the scheduler sends it (claim, send outside any
    transaction, record). False when a scheduler run claimed it first (it sends it then).

    Raises ResendRefused for a period that was sent, is being sent, or is waiting for its
    next try anyway; a failed send is recorded as the scheduler records one and raised."""
    released = ScheduledReportRun.objects.filter(
        pk=run_id,
        sent_at__isnull=True,
        sending_at__isnull=False,
        message__startswith=POSSIBLY_SENT,
    ).update(sending_at=None)
    run = ScheduledReportRun.objects.select_related("report").get(pk=run_id)
    if not released:
        if run.sent_at is not None:
            raise ResendRefused(_("it was sent"))
        if run.sending_at is not None:
            raise ResendRefused(_("it is being sent right now"))
        raise ResendRefused(_("it was not sent: the scheduler tries it again by itself"))
    logger.warning(
        "scheduled report %s for %s to %s sent again by hand (it was possibly sent)",
        run.report_id, run.period_start, run.period_end,
    )  # fmt: skip
    try:
        return scheduled_report_send(run.report, run.period_start, run.period_end)
    except SendOutcomeUnknown:
        raise
    except Exception as error:
        scheduled_report_failed(run.report, run.period_start, run.period_end, error)
        raise


def scheduled_report_sends_unconfirmed(now: datetime) -> int:
    """Record, and log as errors, the sends whose worker stopped (killed, out of time, the
    machine down) between claiming a period and recording its outcome: the mail server may
    have taken the message, so it is not sent again. Returns how many were found."""
    dead_before = now - timedelta(seconds=SCHEDULED_SEND_SECONDS)
    unconfirmed = ScheduledReportRun.objects.filter(
        sent_at__isnull=True, sending_at__lt=dead_before, message=""
    )
    found = 0
    for run in unconfirmed:
        found += _possibly_sent(run.report, run.period_start, run.period_end, "the worker stopped")
    return found


def _possibly_sent(report: ScheduledReport, start: date, end: date, why: str) -> int:
    logger.error(
        "scheduled report %s for %s to %s possibly sent, not sent again: %s; ask its "
        "recipients whether it arrived",
        report.pk, start, end, why,
    )  # fmt: skip
    return ScheduledReportRun.objects.filter(
        report=report, period_start=start, sent_at__isnull=True
    ).update(failed_at=timezone.now(), message=f"{POSSIBLY_SENT}: {why}"[:500])


FILTER_NAMES = {
    "user": gettext_lazy("user"),
    "group": gettext_lazy("group"),
    "account": gettext_lazy("account"),
    "printer": gettext_lazy("printer"),
}


def scheduled_report_problem(report: ScheduledReport) -> str:
    """Why the report as saved cannot be sent for any period, naming the setting and what is
    wrong with it; "" when nothing is. The forms check the same when it is saved, but a report
    saved before they did, or whose filter names a user, group, account or printer deleted or
    renamed since, fails every period until someone edits it."""
    filters = report.filters
    if not isinstance(filters, dict) or any(
        name not in FILTERS or not isinstance(value, str) for name, value in filters.items()
    ):
        return _(
            "its filters %(filters)s are not understood: the keys are %(keys)s, each with a name."
        ) % {"filters": filters, "keys": ", ".join(FILTERS)}
    today = timezone.localdate()
    try:
        report_request(today, today, report.grouping)
    except ReportError as error:
        return str(error)
    for name, value in filters.items():
        try:
            report_request(today, today, report.grouping, **{name: value})
        except ReportError as error:
            return _("its %(filter)s filter: %(error)s") % {
                "filter": FILTER_NAMES[name],
                "error": error,
            }
    try:
        recipients_checked(report.recipients)
    except ValidationError as error:
        return _("its recipients: %(error)s") % {"error": " ".join(error.messages)}
    return ""


#: SMTP reply codes from here on are permanent refusals (RFC 5321 4.2.1); below, try later.
SMTP_PERMANENT = 500


def recipients_refused_text(refused: smtplib.SMTPRecipientsRefused) -> str:
    """What the mail server answered for each recipient it refused, for a person."""
    return _("its recipients: the mail server refuses them: %(answers)s") % {
        "answers": _refused_recipients(refused)
    }


def scheduled_report_stop(report: ScheduledReport, start: date, end: date, problem: str) -> bool:
    """Stop a report that cannot be sent as saved, recording why with the report and with the
    period it was due for, and logging it once as an error: it is not tried again until it is
    edited. False when it was stopped already (by another run)."""
    now = timezone.now()
    with transaction.atomic():
        stopped = ScheduledReport.objects.filter(pk=report.pk, stopped_at__isnull=True).update(
            stopped_at=now, stopped_because=problem[:500]
        )
        if stopped:
            run, _ = ScheduledReportRun.objects.get_or_create(
                report=report, period_start=start, defaults={"period_end": end}
            )
            ScheduledReportRun.objects.filter(pk=run.pk, sent_at__isnull=True).update(
                failed_at=now, message=f"stopped: {problem}"[:500]
            )
    if stopped:
        logger.error(
            "scheduled report %s '%s' stopped, not sent for %s to %s nor later until it is "
            "edited: %s",
            report.pk, report.name, start, end, problem,
        )  # fmt: skip
    return stopped == 1


@shared_task(
    name="apps.reports.tasks.scheduled_reports_send",
    soft_time_limit=SCHEDULED_SEND_SECONDS - 60,
    time_limit=SCHEDULED_SEND_SECONDS,
)
def scheduled_reports_send(now: datetime | None = None) -> int:
    """Send every active scheduled report for each period due (see periods_due); run hourly."""
    now = now or timezone.now()
    scheduled_report_sends_unconfirmed(now)
    # First the records the pipeline missed (its own hourly run may come after this one): a
    # job that ended in a period must be in the report sent for it, which is never sent again.
    usage_records_catch_up()
    today = timezone.localdate(now)
    sent = 0
    for report in ScheduledReport.objects.filter(is_active=True, stopped_at__isnull=True):
        due = periods_due(report, today)
        # Checked in the site's language, as the failures of a period are recorded.
        problem = scheduled_report_problem(report) if due else ""
        if problem:
            scheduled_report_stop(report, *due[0], problem)
            continue
        for start, end in due:
            try:
                sent += scheduled_report_send(report, start, end)
            except SoftTimeLimitExceeded:
                # Out of time (many periods to catch up): the next run goes on from here.
                raise
            except SendOutcomeUnknown:
                break  # recorded and logged; the later periods wait, as after a failure
            except smtplib.SMTPRecipientsRefused as refused:
                refusals = refused.recipients.values()
                if all(code >= SMTP_PERMANENT for code, _message in refusals):
                    # Every mailbox is gone or unknown: it would be refused every hour.
                    scheduled_report_stop(report, start, end, recipients_refused_text(refused))
                else:
                    scheduled_report_failed(report, start, end, refused)
                break
            except Exception as error:
                # One report that cannot be made or sent (a mail server that cannot be reached,
                # a filter's user deleted this moment) must not keep the others from being
                # sent. Its later periods wait for this one: they go out in order.
                scheduled_report_failed(report, start, end, error)
                break
    return sent


def scheduled_report_failed(
    report: ScheduledReport, start: date, end: date, error: Exception
) -> None:
    """Log why a scheduled report was not sent for a period and record it with the period,
    which is tried again at the next run."""
    if isinstance(error, ReportError):
        logger.warning("scheduled report %s cannot be made: %s", report.pk, error)
        message = f"the report cannot be made: {error}"
    else:
        logger.exception("scheduled report %s for %s to %s not sent", report.pk, start, end)
        message = f"not sent: {mail_failure_in_words(error)}"
    run, _ = ScheduledReportRun.objects.get_or_create(
        report=report, period_start=start, defaults={"period_end": end}
    )
    ScheduledReportRun.objects.filter(pk=run.pk, sent_at__isnull=True).update(
        failed_at=timezone.now(), message=message[:500]
    )


@shared_task(name="apps.reports.tasks.usage_records_catch_up")
def usage_records_catch_up_task() -> int:
    """Write usage records the pipeline hook could not write (it logs why)."""
    return usage_records_catch_up()
