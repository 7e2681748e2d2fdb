"""Admin: usage records and exports are read-only; scheduled reports are edited here too, and
a period possibly sent can be sent again."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.admin import ReadOnlyAdmin
from apps.reports.forms import ScheduledReportAdminForm
from apps.reports.models import ReportExport, ScheduledReport, ScheduledReportRun, UsageRecord
from apps.reports.selectors import ReportError
from apps.reports.services import scheduled_report_create, scheduled_report_update
from apps.reports.tasks import (
    ResendRefused,
    SendOutcomeUnknown,
    mail_failure_in_words,
    scheduled_report_resend,
)


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
    form = ScheduledReportAdminForm
    list_display = ("name", "period", "grouping", "format", "is_active", "stopped_because")
    readonly_fields = ("stopped_at", "stopped_because")

    def save_model(
        self, request: HttpRequest, obj: ScheduledReport, form: Any, change: bool
    ) -> None:
        # Saved as the portal saves it: an edit sends a report stopped for its settings again.
        if change:
            scheduled_report_update(obj)
        else:
            scheduled_report_create(obj)


@admin.register(ScheduledReportRun)
class ScheduledReportRunAdmin(ReadOnlyAdmin):
    list_display = ("report", "period_start", "period_end", "sending_at", "sent_at", "failed_at",
                    "message")  # fmt: skip
    actions = ("resend",)

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("reports.change_scheduledreport")

    @admin.action(
        description=gettext_lazy("Send again (possibly sent periods)"), permissions=["resend"]
    )
    def resend(
        self, request: HttpRequest, queryset: QuerySet[ScheduledReportRun]
    ) -> TemplateResponse | None:
        """After a confirmation that says the recipients may get it twice, send each possibly
        sent period again through the scheduler's own service."""
        runs = list(queryset.select_related("report").order_by("report__name", "period_start"))
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(
                request,
                "admin/reports/scheduledreportrun/resend_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Send these periods again?"),
                    "opts": self.model._meta,
                    "runs": runs,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        for run in runs:
            self._resend_one(request, run)
        return None

    def _resend_one(self, request: HttpRequest, run: ScheduledReportRun) -> None:
        names = {"report": run.report.name, "start": run.period_start, "end": run.period_end}
        try:
            sent = scheduled_report_resend(run.pk)
        except ResendRefused as refused:
            self.message_user(
                request,
                _("%(report)s, %(start)s to %(end)s, was not sent again: %(why)s")
                % {**names, "why": refused},
                messages.WARNING,
            )
        except SendOutcomeUnknown as error:
            self.message_user(
                request,
                _(
                    "%(report)s, %(start)s to %(end)s: the connection broke after the mail "
                    "server may have taken it (%(error)s): possibly sent again"
                )
                % {**names, "error": error},
                messages.ERROR,
            )
        except Exception as error:  # recorded with the period by the service; shown here
            self.message_user(
                request,
                _(
                    "%(report)s, %(start)s to %(end)s, was not sent (%(error)s): the next "
                    "scheduled run tries it again"
                )
                % {
                    **names,
                    "error": error
                    if isinstance(error, ReportError)
                    else mail_failure_in_words(error),
                },
                messages.ERROR,
            )
        else:
            if sent:
                message = _("%(report)s, %(start)s to %(end)s, was sent again to %(to)s")
            else:
                message = _("%(report)s, %(start)s to %(end)s, is being sent by the scheduler")
            to = ", ".join(run.report.recipient_list)
            self.message_user(request, message % {**names, "to": to})
