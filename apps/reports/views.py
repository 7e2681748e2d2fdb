"""The finance report pages: the report with charts, downloads, exports, scheduled reports."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from io import BytesIO
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.models import User
from apps.accounts.roles import VIEW_REPORTS, permission_name
from apps.reports import conf
from apps.reports.charts import bar_chart
from apps.reports.choices import ExportKind, ExportState, ReportFormat
from apps.reports.exports import (
    CONTENT_TYPES,
    file_name,
    records_csv_chunks,
    usage_csv_lines,
    write_export,
)
from apps.reports.forms import ReportForm, ScheduledReportForm
from apps.reports.models import ReportExport, ScheduledReport
from apps.reports.report import usage_report
from apps.reports.services import (
    ScheduledReportExists,
    scheduled_report_create,
    scheduled_report_update,
)
from apps.reports.tasks import report_export_run, scheduled_report_problem

View = TypeVar("View", bound=Callable[..., HttpResponseBase])
RECENT_EXPORTS = 10
EXPORT_DOWNLOAD_BLOCK_BYTES = 256 * 1024


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # finance_only let only logged-in users in
    return user


def finance_only(view: View) -> View:
    """Log-in required; then the view_reports permission (the Finance role), else 403."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.has_perm(permission_name(VIEW_REPORTS)):
            raise PermissionDenied("reports need the Finance role")
        return view(request, *args, **kwargs)

    return login_required(checked)  # type: ignore[return-value]


@require_GET
@finance_only
def index(request: HttpRequest) -> HttpResponse:
    form = ReportForm.from_query(request.GET)
    context: dict[str, Any] = {"form": form, "currency": settings.CURRENCY}
    if form.is_valid():
        report = usage_report(form.request)
        if report.movements.note:
            messages.info(request, report.movements.note)
        query = urlencode(form.request.parameters())
        context.update(
            report=report,
            query=query,
            charts=[
                bar_chart(
                    _("Cost by %(grouping)s") % {"grouping": report.over_time_grouping.label},
                    report.over_time,
                ),
                bar_chart(_("Top 10 users by cost"), report.top_users),
                bar_chart(_("Cost by printer"), report.by_printer),
            ],
            formats=ReportFormat.choices,
        )
    _stopped_schedules_told(request)
    exports = ReportExport.objects.filter(requested_by=_user(request))
    context["exports"] = exports[:RECENT_EXPORTS]
    return render(request, "reports/index.html", context, status=200 if form.is_valid() else 400)


@require_GET
@finance_only
def download(request: HttpRequest, kind: str, report_format: str) -> HttpResponseBase:
    """A report file at once: the usage summary in any format, or every record as streamed
    CSV. Records as XLSX or PDF take long: they go through an export task instead."""
    if kind not in ExportKind.values or report_format not in ReportFormat.values:
        raise Http404("no such report format")
    form = ReportForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            " ".join(str(e) for errors in form.errors.values() for e in errors),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    chosen_kind, chosen_format = ExportKind(kind), ReportFormat(report_format)
    name = file_name(chosen_kind, form.request, chosen_format)
    disposition = f'attachment; filename="{name}"'
    if chosen_kind == ExportKind.RECORDS:
        if chosen_format != ReportFormat.CSV:
            return HttpResponse(
                _("records as XLSX or PDF: start an export"),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        response: HttpResponseBase = StreamingHttpResponse(
            records_csv_chunks(form.request), content_type=CONTENT_TYPES[chosen_format]
        )
    elif chosen_format == ReportFormat.CSV:
        response = StreamingHttpResponse(
            usage_csv_lines(form.request), content_type=CONTENT_TYPES[chosen_format]
        )
    else:
        buffer = BytesIO()
        write_export(chosen_kind, chosen_format, form.request, buffer)
        response = HttpResponse(buffer.getvalue(), content_type=CONTENT_TYPES[chosen_format])
    response["Content-Disposition"] = disposition
    return response


@require_POST
@finance_only
def export_start(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.POST)
    kind, report_format = request.POST.get("kind", ""), request.POST.get("format", "")
    if (
        not form.is_valid()
        or kind not in ExportKind.values
        or report_format not in ReportFormat.values
    ):
        return HttpResponse("the export request is not valid", status=400)
    export = ReportExport.objects.create(
        requested_by=_user(request),
        kind=kind,
        format=report_format,
        parameters=form.request.parameters(),
        language=get_language(),
    )
    export_id = export.pk
    # Sent once the export is committed, if it is: in a caller's transaction (ATOMIC_REQUESTS,
    # transaction.atomic) a worker would otherwise look for it before it exists.
    transaction.on_commit(lambda: report_export_run.delay(export_id))
    return redirect("reports:export", export_id=export_id)


def _own_export(request: HttpRequest, export_id: int) -> ReportExport:
    return get_object_or_404(ReportExport, pk=export_id, requested_by=_user(request))


@require_GET
@finance_only
def export_detail(request: HttpRequest, export_id: int) -> HttpResponse:
    export = _own_export(request, export_id)
    return render(request, "reports/export.html", {"export": export})


@require_GET
@finance_only
def export_status(request: HttpRequest, export_id: int) -> JsonResponse:
    """What the progress bar polls."""
    export = _own_export(request, export_id)
    message = export.message
    if export.state == ExportState.DONE and export.expired:
        message = _("the file has expired: start the export again")
    return JsonResponse(
        {
            "state": export.state,
            "state_label": export.get_state_display(),
            "percent": export.percent,
            "rows_done": export.rows_done,
            "rows_total": export.rows_total,
            "message": message,
            "download_url": reverse("reports:export_file", args=[export.pk])
            if export.downloadable
            else None,
        }
    )


@require_GET
@finance_only
def export_file(request: HttpRequest, export_id: int) -> FileResponse:
    export = _own_export(request, export_id)
    path = conf.export_dir() / export.file_name
    if not export.downloadable or not export.file_name or not path.exists():
        raise Http404("the export is not ready or has expired")
    name = export.file_name.split("-", 1)[1]
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=name,
        content_type=CONTENT_TYPES[ReportFormat(export.format)],
    )
    # Each block is one hand-over from the portal thread to the event loop: Django's 4 KiB
    # made a 20 MB export 5,000 of them.
    response.block_size = EXPORT_DOWNLOAD_BLOCK_BYTES
    return response


def _stopped_schedules_told(request: HttpRequest) -> None:
    """Say, at the top of the page, that scheduled reports were stopped for their settings."""
    stopped = ScheduledReport.objects.filter(stopped_at__isnull=False).count()
    if stopped:
        messages.warning(
            request,
            ngettext(
                "%(count)s scheduled report is stopped: its settings no longer name what "
                "exists. Edit it to send it again.",
                "%(count)s scheduled reports are stopped: their settings no longer name what "
                "exists. Edit them to send them again.",
                stopped,
            )
            % {"count": stopped},
        )


def _why_stopped(scheduled: ScheduledReport) -> str:
    """Why a stopped report stopped: checked again, so it is in the reader's language, or as
    recorded when the reason is gone (a deleted user made again); "" for a report not stopped."""
    if scheduled.stopped_at is None:
        return ""
    return scheduled_report_problem(scheduled) or scheduled.stopped_because


@finance_only
def schedules(request: HttpRequest) -> HttpResponse:
    form = ScheduledReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        scheduled = form.save(commit=False)
        scheduled.created_by = _user(request)
        scheduled.language = get_language()
        try:
            scheduled_report_create(scheduled)
        except ScheduledReportExists as error:
            # Its twin was saved after the form looked (a Save clicked twice, in two threads).
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Scheduled report '%(name)s' saved.") % {"name": scheduled.name}
            )
            return redirect("reports:schedules")
    if request.method == "GET":
        _stopped_schedules_told(request)
    listed = [(scheduled, _why_stopped(scheduled)) for scheduled in ScheduledReport.objects.all()]
    return render(
        request,
        "reports/schedules.html",
        {"form": form, "schedules": listed},
        status=400 if request.method == "POST" else 200,
    )


@finance_only
def schedule_edit(request: HttpRequest, schedule_id: int) -> HttpResponse:
    """Change a scheduled report's settings; one stopped for them is sent again once saved."""
    scheduled = get_object_or_404(ScheduledReport, pk=schedule_id)
    form = ScheduledReportForm(request.POST or None, instance=scheduled)
    if request.method == "POST" and form.is_valid():
        try:
            scheduled_report_update(form.save(commit=False))
        except ScheduledReportExists as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Scheduled report '%(name)s' saved.") % {"name": scheduled.name}
            )
            return redirect("reports:schedules")
    return render(
        request,
        "reports/schedule_edit.html",
        {"form": form, "scheduled": scheduled, "problem": _why_stopped(scheduled)},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@finance_only
def schedule_toggle(request: HttpRequest, schedule_id: int) -> HttpResponse:
    """Pause (active=0) or resume (active=1) a scheduled report. The form says which, so a
    button clicked twice does it once: a toggle paused and at once resumed the report."""
    scheduled = get_object_or_404(ScheduledReport, pk=schedule_id)
    wanted = request.POST.get("active", "")
    if wanted not in ("0", "1"):
        return HttpResponse(
            "say active=1 to resume the report or active=0 to pause it",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    if scheduled.is_active != (wanted == "1"):
        scheduled.is_active = wanted == "1"
        if scheduled.is_active:
            # Resumed: the periods that ended while it was paused are not sent.
            scheduled.active_since = timezone.now()
        scheduled.save(update_fields=["is_active", "active_since"])
    return redirect("reports:schedules")
