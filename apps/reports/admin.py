"""Admin: usage records and exports are read-only; scheduled reports are edited here too."""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin
from apps.reports.models import ReportExport, ScheduledReport, ScheduledReportRun, UsageRecord


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    list_display = ("job_id", "ended_at", "username", "account_name", "printer_name", "sheets",
                    "cost", "state", "is_demo")  # fmt: skip
    list_filter = ("state", "is_demo", "color", "duplex")
    search_fields = ("username", "account_name", "printer_name", "=job_id")
    date_hierarchy = "ended_at"


@admin.register(ReportExport)
class ReportExportAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "requested_by", "kind", "format", "state", "expires_at")


@admin.register(ScheduledReport)
class ScheduledReportAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "period", "grouping", "format", "is_active")


@admin.register(ScheduledReportRun)
class ScheduledReportRunAdmin(ReadOnlyAdmin):
    list_display = ("report", "period_start", "period_end", "sending_at", "sent_at", "failed_at",
                    "message")  # fmt: skip
