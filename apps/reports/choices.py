"""Groupings, formats and periods of reports."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Grouping(models.TextChoices):
    USER = "user", _("user")
    GROUP = "group", _("group (primary)")
    ACCOUNT = "account", _("account")
    PRINTER = "printer", _("printer")
    DAY = "day", _("day")
    WEEK = "week", _("week")
    MONTH = "month", _("month")


TIME_GROUPINGS = frozenset({Grouping.DAY, Grouping.WEEK, Grouping.MONTH})


class ReportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"
    PDF = "pdf", "PDF"


class ExportKind(models.TextChoices):
    USAGE = "usage", _("usage summary")
    RECORDS = "records", _("every usage record")


class ExportState(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class RelativePeriod(models.TextChoices):
    YESTERDAY = "yesterday", _("yesterday")
    LAST_WEEK = "last_week", _("last week")
    LAST_MONTH = "last_month", _("last month")
