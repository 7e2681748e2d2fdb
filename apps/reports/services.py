"""Writes of the reports app: usage records when jobs end, export files, scheduled reports."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.accounts.roles import ROLES
from apps.accounts.selectors import job_charge, job_refunded
from apps.jobs.build import parse_page_ranges
from apps.jobs.choices import TERMINAL_STATES, JobState
from apps.jobs.documents import DocumentError
from apps.jobs.models import Job
from apps.jobs.not_done import read, without
from apps.reports import conf
from apps.reports.choices import ExportKind, ExportState, ReportFormat
from apps.reports.exports import file_name, write_export
from apps.reports.models import ReportExport, ScheduledReport, UsageRecord, UsageRecordGroup
from apps.reports.selectors import ReportError, report_request, usage_records

logger = logging.getLogger(__name__)

COLOR_MODES = frozenset({"color", "process-color"})
# Values of finishing options that mean "no finishing".
NO_FINISHING = frozenset({"", "none", "3", "no-cover", "off"})
ROLE_GROUPS = frozenset(role.group_name for role in ROLES)


def primary_group(group_names: list[str]) -> str:
    """The group a job counts for in the by-group report: the first department group by name,
    else the first role group, else "" (no group). Every job has exactly one, so the group
    report adds up to the same total as every other grouping."""
    departments = sorted(name for name in group_names if name not in ROLE_GROUPS)
    roles = sorted(name for name in group_names if name in ROLE_GROUPS)
    return (departments or roles or [""])[0]


def _option(options: Mapping[str, object], name: str) -> str:
    value = options.get(name, "")
    if isinstance(value, list | tuple):
        return str(value[0]) if value else ""
    return str(value)


def _finishings(options: Mapping[str, object]) -> str:
    chosen = []
    for name in sorted(options):
        if "finishings" not in name and "cover-front-type" not in name:
            continue
        value = _option(options, name)
        if value.lower() not in NO_FINISHING:
            short = name.removeprefix("org.savapage-").removeprefix("finishings-")
            chosen.append(f"{short}={value}")
    return ", ".join(chosen)


def _document_pages(job: Job) -> int:
    try:
        return len(parse_page_ranges(job.page_ranges, job.page_count))
    except DocumentError:
        return job.page_count


def usage_record_write(job: Job) -> UsageRecord | None:
    """Write the usage record of a job that ended, once; returns it, or None for a job that
    neither reached a printer nor was charged (held jobs that expired or were canceled, jobs
    that failed before sending and cost nothing). A second call returns the first record."""
    if job.state not in TERMINAL_STATES:
        raise ValueError(f"job {job.pk} is {job.state}: only ended jobs have usage records")
    existing = UsageRecord.objects.filter(job_id=job.pk).first()
    if existing is not None:
        return existing
    charge = job_charge(job.pk)
    if job.printer_job_id is None and charge is None:
        return None
    if job.printer is None:
        return None
    charged = -charge.amount if charge is not None else Decimal(0)
    refunded = job_refunded(job.pk)
    options = dict(job.options)
    copies = max(job.copies, 1)
    document_pages = _document_pages(job)
    duplex = _option(options, "sides").startswith("two-sided")
    sides_ordered = job.expected_impressions or document_pages * copies
    sides_per_copy = -(-sides_ordered // copies)
    sheets_ordered = (-(-sides_per_copy // 2) if duplex else sides_per_copy) * copies
    pages_ordered = document_pages * copies
    if job.state == JobState.COMPLETED:
        done, whole = 1, 1
    else:
        done, whole = min(job.impressions_completed or 0, sides_ordered), max(sides_ordered, 1)
    user = job.owner
    group_names = sorted(user.groups.values_list("name", flat=True))
    account = charge.account if charge is not None else job.account
    record = UsageRecord(
        job_id=job.pk,
        user=user,
        username=user.get_username(),
        primary_group=primary_group(group_names),
        account=account,
        account_name=account.label if account is not None else "",
        printer=job.printer,
        printer_name=job.printer.name,
        document_pages=document_pages,
        copies=copies,
        pages=pages_ordered * done // whole,
        sides=sides_ordered * done // whole,
        sheets=sheets_ordered * done // whole,
        duplex=duplex,
        color=_option(options, "print-color-mode") in COLOR_MODES,
        media=_option(options, "media")[:100],
        # What was done: a staple the printer ignored is not in it.
        finishings=_finishings(without(options, read(job.not_done)))[:300],
        charged=charged,
        refunded=refunded,
        cost=charged - refunded,
        state=job.state,
        submitted_at=job.created_at,
        ended_at=job.state_changed_at,
    )
    try:
        with transaction.atomic():
            record.save()
            UsageRecordGroup.objects.bulk_create(
                UsageRecordGroup(record=record, name=name) for name in group_names
            )
    except IntegrityError:
        # Written at the same moment by another worker ending the same job, when there is one;
        # otherwise the database refused the record itself (a check it fails): that is raised.
        written = UsageRecord.objects.filter(job_id=job.pk).first()
        if written is None:
            raise
        return written
    logger.info("usage record for job %s: %s sheets, cost %s", job.pk, record.sheets, record.cost)
    return record


def usage_record_after_finish(job: Job) -> None:
    """The hook in the print pipeline, inside the transaction that ends the job: a failure
    here must not undo the ending, so it is rolled back to its own savepoint, logged, and
    `usage_records_catch_up` writes the record later."""
    try:
        with transaction.atomic():
            usage_record_write(job)
    except Exception:
        logger.exception("job %s: usage record not written; the hourly catch-up will", job.pk)


def usage_records_catch_up(days: int = 7) -> int:
    """Write the missing records of jobs that ended in the last `days` days; returns how many.
    A record that cannot be written is logged with why and tried again at the next run; the
    other jobs' records are written all the same (and scheduled reports, which call this
    first, are sent)."""
    since = timezone.now() - timedelta(days=days)
    missing = (
        Job.objects.filter(state__in=TERMINAL_STATES, state_changed_at__gte=since)
        .exclude(pk__in=UsageRecord.objects.filter(job_id__isnull=False).values("job_id"))
        .select_related("owner", "printer", "account")
    )
    written = 0
    for job in missing.iterator():
        try:
            # Its own savepoint: on PostgreSQL a refused statement would spoil the rest.
            with transaction.atomic():
                record = usage_record_write(job)
        except SoftTimeLimitExceeded:
            raise  # out of time: the task's caller decides
        except Exception:
            logger.exception(
                "job %s: usage record not written; the next catch-up tries again", job.pk
            )
            continue
        if record is not None:
            written += 1
    return written


# ------------------------------------------------------------------------- exports

#: How long an export run may take: its task's hard time limit, after which Celery's prefork
#: pool has killed it. An export claimed longer ago has no run writing it any more.
EXPORT_RUN_SECONDS = 3600
#: Runs an export may start. Each one past the first means the one before was killed (its
#: worker ran out of memory or time, or was stopped), so the export is given up after these.
EXPORT_MAX_ATTEMPTS = 3
#: A running export whose claim is this old is given up by the cleanup: a run the broker
#: hands out again after its visibility timeout (an hour) takes it over before that.
EXPORT_ABANDONED_AFTER = timedelta(seconds=2 * EXPORT_RUN_SECONDS)
PROGRESS_EVERY_ROWS = 20_000
#: A queued export that no worker started within this is sent again by the hourly cleanup. A
#: message may wait that long behind a worker busy with another export (up to its time limit)
#: and the short tasks queued with it; and it is longer than Redis's visibility timeout (an
#: hour), after which Redis hands out a message a dead worker held, so only the embedded
#: broker, which loses it, needs the new one.
EXPORT_QUEUED_RESEND_AFTER = timedelta(seconds=EXPORT_RUN_SECONDS, minutes=15)
#: Times a queued export is sent again; still not started after the last, it is given up.
EXPORT_MAX_REQUEUES = 2


class _TakenOver(Exception):
    """Another run claimed the export while this one was writing it."""


def _export_files_remove(export_id: int) -> None:
    """Remove the export's file and what runs of it left half-written."""
    for path in conf.export_dir().glob(f"{export_id}-*"):
        path.unlink(missing_ok=True)


def _export_claim(
    export_id: int, run: str, *, task_id: str, redelivered: bool
) -> ReportExport | None:
    """Claim an export for this run; None when it is not this run's to write.

    A queued export is claimed. A running one is taken over, and written again from the
    start, when this run's message is the one the claim was made with, handed out again (the
    broker does so when a worker dies holding it: tasks are acknowledged late), or when its
    claim is older than a run may take. Another message handed out again (the original one of
    an export the cleanup queued again, given back by a worker that never started it) leaves
    it alone. A run it is taken from that still lives (a message is also handed out again
    after the broker connection was lost) notices at its next progress report or at its end,
    and removes its own file: one run finishes the export."""
    now = timezone.now()
    taken_over = Q(claimed_at__lt=now - timedelta(seconds=EXPORT_RUN_SECONDS))
    if redelivered:
        taken_over |= Q(claimed_task=task_id)
    claimed = ReportExport.objects.filter(
        Q(state=ExportState.QUEUED) | Q(taken_over, state=ExportState.RUNNING), pk=export_id
    ).update(
        state=ExportState.RUNNING,
        claimed_by=run,
        claimed_task=task_id,
        claimed_at=now,
        attempts=F("attempts") + 1,
        rows_done=0,
        rows_total=0,
    )
    return ReportExport.objects.get(pk=export_id) if claimed else None


def _claimed(export_id: int, run: str) -> QuerySet[ReportExport]:
    return ReportExport.objects.filter(pk=export_id, state=ExportState.RUNNING, claimed_by=run)


def _export_fail(export_id: int, run: str, message: str) -> None:
    """Record why the export failed; the row (and nothing else) stays until the cleanup."""
    _claimed(export_id, run).update(
        state=ExportState.FAILED,
        message=message[:500],
        expires_at=timezone.now() + timedelta(hours=conf.export_retention_hours()),
    )


def export_write(export_id: int, *, task_id: str = "", redelivered: bool = False) -> str:
    """Write an export's file, telling its progress on the way; returns what happened, for
    the log. `task_id` and `redelivered` tell which message asked, and whether it was handed
    out before. The file is written under a name of this run's and renamed when done, so a
    file under the export's name is always complete; it is kept until
    REPORT_EXPORT_RETENTION_HOURS after it is done."""
    run = uuid.uuid4().hex
    export = _export_claim(export_id, run, task_id=task_id, redelivered=redelivered)
    if export is None:
        return "not this run's: the export is done, failed, gone or written by another run"
    # The file and why it failed are for the person who asked, in their language.
    with translation.override(export.language or None):
        return _export_write_claimed(export, run)


def _export_write_claimed(export: ReportExport, run: str) -> str:
    export_id = export.pk
    _export_files_remove(export_id)  # an earlier run's half-written file
    if export.attempts > EXPORT_MAX_ATTEMPTS:
        _export_fail(
            export_id,
            run,
            _(
                "the export was started %(times)d times and stopped each time before it was "
                "done (its worker was killed, perhaps for lack of memory or time): ask for a "
                "shorter period or fewer records"
            )
            % {"times": EXPORT_MAX_ATTEMPTS},
        )
        return "failed: too many attempts"
    try:
        request = report_request(**export.parameters)
    except ReportError as error:
        _export_fail(export_id, run, str(error))
        return "failed"
    kind, report_format = ExportKind(export.kind), ReportFormat(export.format)
    rows_total = usage_records(request).count() if kind == ExportKind.RECORDS else 0
    name = f"{export.pk}-{file_name(kind, request, report_format)}"
    if not _claimed(export_id, run).update(rows_total=rows_total, file_name=name):
        return "taken over by another run"
    folder = conf.export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{name}.{run}.part"
    reported = [0]

    def progress(rows: int) -> None:
        if rows - reported[0] >= PROGRESS_EVERY_ROWS:
            reported[0] = rows
            if not _claimed(export_id, run).update(rows_done=rows):
                raise _TakenOver

    try:
        with open(partial, "xb") as out:
            write_export(kind, report_format, request, out, progress)
    except _TakenOver:
        partial.unlink(missing_ok=True)
        return "taken over by another run"
    except Exception:
        logger.exception("export %s failed", export_id)
        partial.unlink(missing_ok=True)
        # What went wrong is the server's business (a path, a driver's message, in English):
        # it is in the log; the requester is told what to do.
        _export_fail(
            export_id,
            run,
            _(
                "the export failed on the server (the error is in its log): start it again, "
                "or ask an administrator if it fails again"
            ),
        )
        return "failed"
    return _export_finish(export_id, run, partial, folder / name, rows_total)


def _export_finish(export_id: int, run: str, partial: Path, path: Path, rows: int) -> str:
    # Under the row's lock: a run taking the export over waits until it is done, then finds
    # nothing to take.
    with transaction.atomic():
        if _claimed(export_id, run).select_for_update().first() is None:
            partial.unlink(missing_ok=True)
            return "taken over by another run"
        os.replace(partial, path)
        _claimed(export_id, run).update(
            state=ExportState.DONE,
            rows_done=rows,
            expires_at=timezone.now() + timedelta(hours=conf.export_retention_hours()),
        )
    return f"wrote {path.name}"


def exports_requeue_lost(now: datetime | None = None) -> list[int]:
    """The queued exports that no worker started within EXPORT_QUEUED_RESEND_AFTER: their
    message may be lost, so each is marked queued again now and its id returned, for the
    caller to send its task once more. The runs claim the export from QUEUED, so of the new
    message and a late original one only the first runs it. An export queued again
    EXPORT_MAX_REQUEUES times and still not started is given up, telling what to do."""
    now = now or timezone.now()
    requeued = []
    waiting = ReportExport.objects.filter(
        state=ExportState.QUEUED, queued_at__lt=now - EXPORT_QUEUED_RESEND_AFTER
    )
    for export in waiting:
        # Conditional on what was read: a run claiming it meanwhile, or another sweep
        # queueing it again, leaves this one nothing to do.
        unchanged = ReportExport.objects.filter(
            pk=export.pk, state=ExportState.QUEUED, queued_at=export.queued_at
        )
        if export.requeues >= EXPORT_MAX_REQUEUES:
            with translation.override(export.language or None):
                hours = (now - export.created_at) // timedelta(hours=1)
                # Queued more than EXPORT_MAX_REQUEUES times: the hours are what is counted.
                why = ngettext(
                    "no worker started the export, though it was queued %(times)d times over "
                    "%(hours)d hour: ask an administrator whether the Celery workers are "
                    "running, then start it again",
                    "no worker started the export, though it was queued %(times)d times over "
                    "%(hours)d hours: ask an administrator whether the Celery workers are "
                    "running, then start it again",
                    hours,
                ) % {"times": export.requeues + 1, "hours": hours}
            if unchanged.update(
                state=ExportState.FAILED,
                message=why,
                expires_at=now + timedelta(hours=conf.export_retention_hours()),
            ):
                logger.error("export %s given up: no worker started it", export.pk)
        elif unchanged.update(queued_at=now, requeues=F("requeues") + 1):
            logger.warning(
                "export %s queued since %s and not started: queued again", export.pk,
                export.queued_at,
            )  # fmt: skip
            requeued.append(export.pk)
    return requeued


def exports_clean(now: datetime | None = None) -> int:
    """Give up running exports whose run is gone (removing what it wrote), then delete the
    exports whose time is up, done or failed, with their files; returns how many were deleted."""
    now = now or timezone.now()
    abandoned = ReportExport.objects.filter(
        state=ExportState.RUNNING, claimed_at__lt=now - EXPORT_ABANDONED_AFTER
    )
    for export in abandoned:
        with translation.override(export.language or None):
            why = _(
                "the export stopped before it was done (its worker was stopped): start it again"
            )
        gave_up = ReportExport.objects.filter(
            pk=export.pk, state=ExportState.RUNNING, claimed_by=export.claimed_by
        ).update(
            state=ExportState.FAILED,
            message=why,
            expires_at=now + timedelta(hours=conf.export_retention_hours()),
        )
        if gave_up:
            _export_files_remove(export.pk)
    deleted = 0
    for export in ReportExport.objects.filter(expires_at__lt=now):
        _export_files_remove(export.pk)
        export.delete()
        deleted += 1
    return deleted


class ScheduledReportExists(Exception):
    """A scheduled report the same in every way exists already; the message says which."""


def scheduled_report_twin_message(name: str) -> str:
    message = _(
        "The scheduled report '%(name)s' exists already, the same in every way: nothing was saved."
    )
    return message % {"name": name}


def scheduled_report_create(report: ScheduledReport) -> ScheduledReport:
    """Save a new scheduled report; raises ScheduledReportExists when its twin was saved first,
    however close together the two came (the database's unique twin key decides)."""
    return _scheduled_report_save(report)


def scheduled_report_update(report: ScheduledReport) -> ScheduledReport:
    """Save an edited scheduled report, its settings checked by the form it was edited in: one
    the scheduler stopped for its settings is sent again from the next hourly run, starting
    with the period it stopped at. Raises ScheduledReportExists as scheduled_report_create."""
    report.stopped_at = None
    report.stopped_because = ""
    return _scheduled_report_save(report)


def _scheduled_report_save(report: ScheduledReport) -> ScheduledReport:
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        twin = ScheduledReport.objects.filter(twin_key=report.twin_key).first()
        if twin is None:
            raise
        raise ScheduledReportExists(scheduled_report_twin_message(twin.name)) from None
    return report
