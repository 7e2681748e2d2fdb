"""Writes of the reports app: usage records when jobs end."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.roles import ROLES
from apps.accounts.selectors import job_charge, job_refunded
from apps.jobs.build import parse_page_ranges
from apps.jobs.choices import TERMINAL_STATES, JobState
from apps.jobs.documents import DocumentError
from apps.jobs.models import Job
from apps.reports.models import UsageRecord, UsageRecordGroup

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


def _option(options: dict[str, object], name: str) -> str:
    value = options.get(name, "")
    if isinstance(value, list | tuple):
        return str(value[0]) if value else ""
    return str(value)


def _finishings(options: dict[str, object]) -> str:
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
        finishings=_finishings(options)[:300],
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
        # Written at the same moment by another worker ending the same job.
        return UsageRecord.objects.get(job_id=job.pk)
    logger.info("usage record for job %s: %s sheets, cost %s", job.pk, record.sheets, record.cost)
    return record


def usage_record_after_finish(job: Job) -> None:
    """The hook in the print pipeline: a failure here must not undo a job's ending, so it is
    logged and `usage_records_catch_up` writes the record later."""
    try:
        usage_record_write(job)
    except Exception:
        logger.exception("job %s: usage record not written; the hourly catch-up will", job.pk)


def usage_records_catch_up(days: int = 7) -> int:
    """Write the missing records of jobs that ended in the last `days` days; returns how many."""
    since = timezone.now() - timedelta(days=days)
    missing = (
        Job.objects.filter(state__in=TERMINAL_STATES, state_changed_at__gte=since)
        .exclude(pk__in=UsageRecord.objects.filter(job_id__isnull=False).values("job_id"))
        .select_related("owner", "printer", "account")
    )
    written = 0
    for job in missing.iterator():
        if usage_record_write(job) is not None:
            written += 1
    return written
