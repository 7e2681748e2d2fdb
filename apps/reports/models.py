"""Usage records (one immutable row per printed job), exports and scheduled reports."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import MoneyField
from apps.accounts.money import STORED_DECIMALS
from apps.jobs.choices import JobState
from apps.reports.choices import (
    ExportKind,
    ExportState,
    Grouping,
    RelativePeriod,
    ReportFormat,
)

NAME_LENGTH = 150


class ImmutableError(Exception):
    """Code tried to change or delete a usage record."""


class UsageRecordQuerySet(models.QuerySet["UsageRecord"]):
    def update(self, **kwargs: Any) -> int:
        raise ImmutableError("usage records are never changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableError("usage records are never deleted")


def stored_units(column: str) -> Round:
    """The amount in `column` as a whole number of the smallest stored unit (0.0001), for
    checks the database evaluates: exact on PostgreSQL's numeric, and on SQLite, which keeps a
    decimal as a double and subtracts doubles (0.15 - 0.10 is 0.04999...), exact for every
    amount below 10^11, where a double still holds its 4 places (each is rounded to its whole
    units before any arithmetic, and doubles add whole numbers exactly up to 2^53)."""
    return Round(F(column) * 10**STORED_DECIMALS)


class UsageRecord(models.Model):
    """What one job that reached a printer or was charged used and cost, written once when the
    job ended. Names are copied at that moment, so renaming a user, account or printer later
    does not rewrite history; the foreign keys are kept for links and filters.

    `pages`, `sides` and `sheets` count what printed: all of it for a completed job, the
    share the printer counted for a job that ended otherwise (nothing when it counted nothing).
    Money: `charged` is the job's ledger charge, `refunded` the ledger refunds when it ended,
    `cost` = charged − refunded. A database trigger refuses UPDATE, and DELETE of all but demo
    rows; the users, accounts and printers named are protected from deletion.
    """

    job_id = models.BigIntegerField(
        _("print job"), null=True, blank=True, unique=True, help_text=_("Empty for demo data.")
    )
    is_demo = models.BooleanField(_("demo data"), default=False, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        on_delete=models.PROTECT,
        related_name="usage_records",
    )
    username = models.CharField(_("user name"), max_length=NAME_LENGTH)
    primary_group = models.CharField(
        _("primary group"),
        max_length=NAME_LENGTH,
        blank=True,
        help_text=_("The user's first group by name, department groups before role groups."),
    )
    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        null=True,
        on_delete=models.PROTECT,
        related_name="usage_records",
    )
    account_name = models.CharField(_("account name"), max_length=NAME_LENGTH, blank=True)
    printer = models.ForeignKey(
        "printers.Printer",
        verbose_name=_("printer"),
        null=True,
        on_delete=models.PROTECT,
        related_name="usage_records",
    )
    printer_name = models.CharField(_("printer name"), max_length=NAME_LENGTH)
    document_pages = models.PositiveIntegerField(_("document pages (one copy)"))
    copies = models.PositiveIntegerField(_("copies"))
    pages = models.PositiveIntegerField(_("pages printed"))
    sides = models.PositiveIntegerField(_("sides printed"))
    sheets = models.PositiveIntegerField(_("sheets printed"))
    duplex = models.BooleanField(_("two-sided"))
    color = models.BooleanField(_("colour"))
    media = models.CharField(_("media"), max_length=100, blank=True)
    finishings = models.CharField(_("finishings"), max_length=300, blank=True)
    charged = MoneyField(_("charged"))
    refunded = MoneyField(_("refunded"))
    cost = MoneyField(_("cost"), help_text=_("charged − refunded"))
    state = models.CharField(_("final state"), max_length=12, choices=JobState.choices)
    submitted_at = models.DateTimeField(_("submitted"))
    ended_at = models.DateTimeField(_("ended"), db_index=True)
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    objects = UsageRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("usage record")
        ordering = ("ended_at", "id")
        constraints = (
            # cost = charged - refunded, compared in whole stored units (see stored_units).
            models.CheckConstraint(
                condition=Exact(
                    stored_units("cost"), stored_units("charged") - stored_units("refunded")
                ),
                name="usage_cost_is_net",
            ),
            models.CheckConstraint(
                condition=Q(charged__gte=0, refunded__gte=0), name="usage_money_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(is_demo=True) | Q(job_id__isnull=False),
                name="usage_real_record_names_a_job",
            ),
        )

    def __str__(self) -> str:
        return f"job {self.job_id}: {self.username} on {self.printer_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableError("usage records are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableError("usage records are never deleted")


class UsageRecordGroup(models.Model):
    """One of the groups the user was in when the job ended."""

    record = models.ForeignKey(
        UsageRecord, verbose_name=_("usage record"), on_delete=models.CASCADE, related_name="groups"
    )
    name = models.CharField(_("group"), max_length=NAME_LENGTH)

    class Meta:
        verbose_name = _("usage record group")
        constraints = (models.UniqueConstraint(fields=("record", "name"), name="usage_group_once"),)
        indexes = [models.Index(fields=("name",), name="usage_group_name")]

    def __str__(self) -> str:
        return self.name


class ReportExport(models.Model):
    """A report file made by a Celery task, downloadable until `expires_at`."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.CASCADE,
        related_name="report_exports",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ExportKind.choices)
    format = models.CharField(_("format"), max_length=4, choices=ReportFormat.choices)
    parameters = models.JSONField(_("parameters"), default=dict)
    # The requester's language, which the file's titles and sentences are written in.
    language = models.CharField(_("language"), max_length=10, blank=True)
    state = models.CharField(
        _("state"), max_length=8, choices=ExportState.choices, default=ExportState.QUEUED
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # When its task was last sent, and how often the cleanup sent it again: the embedded
    # broker loses the messages a worker killed with SIGKILL had taken and not started.
    queued_at = models.DateTimeField(_("queued"), default=timezone.now)
    requeues = models.PositiveSmallIntegerField(_("queued again"), default=0)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True, db_index=True)
    # The run writing the file (random, one per run: a message handed out twice has one task
    # id) and when it started; only that run may report progress or finish the export.
    claimed_by = models.CharField(_("claimed by"), max_length=32, blank=True)
    # The task id of the message the run came with: when that message is handed out again
    # (its worker died), the new run takes the export over; another message does not.
    claimed_task = models.CharField(_("claimed by task"), max_length=255, blank=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name = _("report export")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.kind} {self.format} ({self.state})"

    @property
    def percent(self) -> int:
        if self.state == ExportState.DONE:
            return 100
        return min(99, self.rows_done * 100 // self.rows_total) if self.rows_total else 0

    @property
    def expired(self) -> bool:
        """Past `expires_at`: no longer downloadable, though the cleanup task may not have
        deleted it yet."""
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def downloadable(self) -> bool:
        return self.state == ExportState.DONE and not self.expired


class ScheduledReport(models.Model):
    """A usage report e-mailed to recipients once for every period that ended."""

    name = models.CharField(_("name"), max_length=150)
    period = models.CharField(_("period"), max_length=12, choices=RelativePeriod.choices)
    grouping = models.CharField(_("grouping"), max_length=8, choices=Grouping.choices)
    format = models.CharField(_("format"), max_length=4, choices=ReportFormat.choices)
    recipients = models.TextField(_("recipients"), help_text=_("E-mail addresses, one a line."))
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Its creator's language, which the e-mail and the file's titles and sentences are in.
    language = models.CharField(_("language"), max_length=10, blank=True)
    # Periods that ended before the report was created or last resumed are not sent (the one
    # that had just ended then is).
    active_since = models.DateTimeField(_("active since"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A digest of everything that makes the report what it is: unique, so two saved at the same
    # moment (a Save clicked twice) cannot both be made, whatever the form checked. Null, not
    # empty, for twins saved before the key existed: NULLs are not equal to each other.
    twin_key = models.CharField(  # noqa: DJ001
        max_length=64, unique=True, null=True, editable=False
    )
    # Set by the scheduler when the report as saved cannot be sent for any period (a filter
    # naming someone or something that no longer exists, a recipient that is not an address):
    # it is not tried again, hour after hour, until someone edits it, which clears them.
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True, editable=False)
    stopped_because = models.CharField(
        _("stopped because"), max_length=500, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("scheduled report")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.twin_key = scheduled_report_twin_key(
            self.name, self.period, self.grouping, self.format, self.recipients, self.filters
        )
        super().save(*args, **kwargs)

    @property
    def recipient_list(self) -> list[str]:
        return [line.strip() for line in self.recipients.splitlines() if line.strip()]


def scheduled_report_twin_key(
    name: str, period: str, grouping: str, report_format: str, recipients: str, filters: Any
) -> str:
    """The same for two scheduled reports the same in every way."""
    fields = [name, period, grouping, report_format, recipients, filters]
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


#: How a run whose outcome is unknown is marked (its message starts so).
POSSIBLY_SENT = "possibly sent, not sent again"


class ScheduledReportRun(models.Model):
    """That a scheduled report was sent for one period (the unique key makes it once), or why
    it could not be when it was last tried. `sending_at` is the claim of the run sending it:
    set without `sent_at`, the send is under way or its outcome unknown (then `message` says
    "possibly sent"), and the period is not sent again."""

    report = models.ForeignKey(
        ScheduledReport, verbose_name=_("report"), on_delete=models.CASCADE, related_name="runs"
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    sending_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    recipients = models.TextField(_("sent to"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("scheduled report run")
        constraints = (
            models.UniqueConstraint(fields=("report", "period_start"), name="report_run_once"),
        )

    def __str__(self) -> str:
        return f"{self.report} {self.period_start}"

    @property
    def possibly_sent(self) -> bool:
        """The send was interrupted after the mail server may have taken the message."""
        return (
            self.sent_at is None
            and self.sending_at is not None
            and self.message.startswith(POSSIBLY_SENT)
        )
