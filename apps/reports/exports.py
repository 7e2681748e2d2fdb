"""Report files: CSV streamed row by row, XLSX in openpyxl's write-only mode, PDF with
reportlab. Memory stays flat whatever the number of rows: rows come from a server-side cursor
(PostgreSQL's COPY for the CSV of records) and go straight to the output."""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import registerFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from apps.accounts.money import decimals, exact_money
from apps.reports.choices import ExportKind, ReportFormat
from apps.reports.figures import USAGE_COLUMNS, UsageRow
from apps.reports.pdfstream import FONT_FILES, StreamingPdf
from apps.reports.reconciliation import all_ledger_movements
from apps.reports.report import UsageReport, usage_report
from apps.reports.selectors import (
    FORMULA_STARTS,
    RECORD_COLUMNS,
    ReportRequest,
    record_values,
    usage_records,
)

Progress = Callable[[int], None]
CHUNK_ROWS = 5000
TABLE_CHUNK_ROWS = 400
PDF_RECORD_ROWS_PER_PAGE = 38
CONTENT_TYPES = {
    ReportFormat.CSV: "text/csv; charset=utf-8",
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.PDF: "application/pdf",
}


def _no_progress(_rows: int) -> None:
    return None


def file_name(kind: ExportKind, request: ReportRequest, report_format: ReportFormat) -> str:
    what = f"usage-by-{request.grouping}" if kind == ExportKind.USAGE else "usage-records"
    return f"{what}_{request.start}_{request.end}.{report_format}"


def usage_header(report: UsageReport) -> list[str]:
    return [str(report.request.grouping), *USAGE_COLUMNS]


def usage_cells(row: UsageRow) -> list[Any]:
    return [
        row.label, row.jobs, row.pages, row.sides, row.sheets, row.charged, row.refunded, row.cost
    ]  # fmt: skip


def _local_text(value: datetime) -> str:
    return timezone.localtime(value).isoformat(sep=" ", timespec="seconds")


def _shown_money(value: Any) -> Any:
    """Amounts with the currency's places (SQLite hands back more), never rounded."""
    return exact_money(value) if isinstance(value, Decimal) else value


def _record_cells(values: tuple[Any, ...]) -> list[Any]:
    cells = [_shown_money(value) for value in values]
    cells[1] = _local_text(cells[1])
    return cells


def _csv_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula, quoted (see FORMULA_STARTS)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write returns what it was given, for csv.writer."""

    def write(self, value: str) -> str:
        return value


# ------------------------------------------------------------------------- CSV


#: CSV files hold no prose and are read by machines: their row labels (TOTAL, "(no group)",
#: "(id 7)") are the same whoever asked, like their column names.
CSV_LANGUAGE = "en"


def usage_csv_lines(request: ReportRequest) -> Iterator[str]:
    """The usage report as CSV lines: a header, one line per group, the TOTAL line."""
    with translation.override(CSV_LANGUAGE):
        report = usage_report(request)
    writer = csv.writer(_Echo())
    yield writer.writerow(usage_header(report))
    for row in [*report.rows, report.total]:
        yield writer.writerow([_csv_cell(cell) for cell in usage_cells(row)])


def records_csv_chunks(
    request: ReportRequest, progress: Progress = _no_progress
) -> Iterator[bytes]:
    """Every usage record as CSV, a header first. On PostgreSQL the database writes the rows
    with COPY ... TO STDOUT and they are passed on as they come; elsewhere row by row."""
    yield (",".join(RECORD_COLUMNS) + "\r\n").encode()
    values = record_values(request, quote_formulas=True)
    if connection.vendor != "postgresql":
        writer = csv.writer(_Echo())
        for done, row in enumerate(values.iterator(chunk_size=CHUNK_ROWS), start=1):
            yield writer.writerow(_record_cells(row)).encode()
            if done % CHUNK_ROWS == 0:
                progress(done)
        return
    sql, params = values.query.sql_with_params()
    zone = timezone.get_current_timezone_name()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [zone])
        raw = cursor.cursor
        with raw.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            written = 0
            for data in copy:
                chunk = bytes(data)
                written += chunk.count(b"\n")
                progress(written)
                yield chunk


def write_csv(lines: Iterable[str | bytes], out: IO[bytes]) -> None:
    for line in lines:
        out.write(line.encode() if isinstance(line, str) else line)


# ------------------------------------------------------------------------- XLSX


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    return _shown_money(value)


#: Characters XML 1.0, and so an XLSX file, cannot hold: control characters other than tab
#: and line breaks (a printer's message copied into a refund reason may carry an escape),
#: surrogates, and the two non-characters U+FFFE and U+FFFF.
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT_CHARACTER = "\ufffd"


def money_number_format() -> str:
    """The currency's places, so a spreadsheet shows 1.20, not 1.2."""
    places = decimals()
    return f"#,##0.{'0' * places}" if places else "#,##0"


def _xlsx_row(sheet: WriteOnlyWorksheet, values: Iterable[Any], *, money: bool = True) -> list[Any]:
    """Cells for a row, text kept as text: openpyxl writes a string that starts with "=" as
    a formula, and a name or reason someone typed must never run when the file is opened.
    Characters XML forbids become U+FFFD (openpyxl refuses the whole file for one). Decimals
    are money (unless `money` is off) and are shown with the currency's places."""
    cells: list[Any] = []
    for value in values:
        if isinstance(value, Decimal) and money:
            cell = WriteOnlyCell(sheet, _xlsx_value(value))
            cell.number_format = money_number_format()
            cells.append(cell)
            continue
        if not isinstance(value, str):
            cells.append(_xlsx_value(value))
            continue
        text = XML_FORBIDDEN.sub(REPLACEMENT_CHARACTER, value)
        if text.startswith("="):
            cell = WriteOnlyCell(sheet, text)
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(text)
    return cells


def usage_xlsx(report: UsageReport, out: IO[bytes]) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(report.request.grouping))
    rows: list[list[Any]] = [
        [report.title],
        [
            _("Filters: %(filters)s; currency %(currency)s")
            % {"filters": report.request.filter_text, "currency": settings.CURRENCY}
        ],
        [],
        usage_header(report),
        *(usage_cells(row) for row in [*report.rows, report.total]),
    ]
    for row in rows:
        sheet.append(_xlsx_row(sheet, row))
    reconciled = workbook.create_sheet("reconciliation")
    for line in report.reconciliation.statements:
        reconciled.append(_xlsx_row(reconciled, [line]))
    environment = workbook.create_sheet("environment")
    for name, value in report.environment.lines:
        environment.append(_xlsx_row(environment, [name, Decimal(value)], money=False))
    movements = workbook.create_sheet("refunds and adjustments")
    movements.append(["date", "kind", "account", "amount", "by", "reason", "job"])
    for movement in all_ledger_movements(report.request):
        movements.append(
            _xlsx_row(
                movements,
                [
                    movement.created, movement.kind, movement.account, movement.amount,
                    movement.by, movement.reason, movement.job_id,
                ],
            )
        )  # fmt: skip
    workbook.save(out)


def records_xlsx(request: ReportRequest, out: IO[bytes], progress: Progress = _no_progress) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("usage records")
    sheet.append(list(RECORD_COLUMNS))
    for done, row in enumerate(record_values(request).iterator(chunk_size=CHUNK_ROWS), start=1):
        sheet.append(_xlsx_row(sheet, row))
        if done % CHUNK_ROWS == 0:
            progress(done)
    workbook.save(out)


# ------------------------------------------------------------------------- PDF

STYLES = getSampleStyleSheet()


@functools.cache
def _fonts() -> tuple[str, str]:
    """The regular and bold fonts of the report. reportlab's built-in Helvetica has Western
    European letters only (a user named Дмитрий printed as black boxes, "CO₂" as "CO■"): the
    fonts the records listing uses are embedded instead, Helvetica only where they are missing."""
    regular, bold = FONT_FILES[False], FONT_FILES[True]
    if not (regular.exists() and bold.exists()):
        return "Helvetica", "Helvetica-Bold"
    registerFont(TTFont("ReportSans", regular))
    registerFont(TTFont("ReportSans-Bold", bold))
    return "ReportSans", "ReportSans-Bold"


@functools.cache
def _style(name: str) -> ParagraphStyle:
    sample = STYLES[name]
    regular, bold = _fonts()
    font = bold if sample.fontName.endswith("Bold") else regular
    return ParagraphStyle(f"report-{name}", parent=sample, fontName=font)


def _table_style() -> TableStyle:
    regular, bold = _fonts()
    return TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), regular, 8),
            ("FONT", (0, 0), (-1, 0), bold, 8),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde4ee")),
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ]
    )


def _paragraph(text: str, style: str) -> Paragraph:
    """A paragraph of plain text. reportlab reads a paragraph's text as markup, so names and
    reasons are escaped: a group named "Lab </b>" broke the PDF and "R&D" came out "R&D;"."""
    return Paragraph(escape(text), _style(style))


def _tables(header: list[str], rows: list[list[Any]]) -> list[Flowable]:
    """Tables of at most TABLE_CHUNK_ROWS rows each, so long reports lay out in linear time."""
    tables: list[Flowable] = []
    for start in range(0, max(len(rows), 1), TABLE_CHUNK_ROWS):
        part = rows[start : start + TABLE_CHUNK_ROWS]
        table = Table([header, *[[str(cell) for cell in row] for row in part]], repeatRows=1)
        table.setStyle(_table_style())
        tables.append(table)
    return tables


def _bar_chart(
    title: str, rows: list[UsageRow], *, horizontal: bool, width: float = 170 * mm
) -> Drawing:
    height = 70 * mm
    drawing = Drawing(width, height)
    chart = HorizontalBarChart() if horizontal else VerticalBarChart()
    chart.x, chart.y = int(45 * mm if horizontal else 15 * mm), int(12 * mm)
    chart.width = int(width - chart.x - 5 * mm)
    chart.height = int(height - 25 * mm)
    # Charts draw with floats; the money figures themselves stay Decimal everywhere else.
    chart.data = [[float(row.cost) for row in rows] or [0.0]]
    chart.categoryAxis.categoryNames = [row.label[:28] for row in rows] or [_("(none)")]
    regular, bold = _fonts()
    chart.categoryAxis.labels.fontName = regular
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontName = regular
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#3b6ea5")
    if not horizontal:
        chart.categoryAxis.labels.angle = 45 if len(rows) > 8 else 0
        chart.categoryAxis.labels.boxAnchor = "ne" if len(rows) > 8 else "n"
    drawing.add(chart)
    drawing.add(String(0, height - 8 * mm, title, fontName=bold, fontSize=10))
    return drawing


def usage_pdf(report: UsageReport, out: IO[bytes]) -> None:
    """A title page with the totals and the reconciliation, charts, then the tables."""
    request = report.request
    currency = settings.CURRENCY
    story: list[Flowable] = [
        Spacer(1, 40 * mm),
        _paragraph(report.title, "Title"),
        _paragraph(_("Filters: %(filters)s") % {"filters": request.filter_text}, "Normal"),
        _paragraph(_("Generated %(when)s") % {"when": _local_text(report.generated_at)}, "Normal"),
        Spacer(1, 10 * mm),
        _paragraph(
            _("Total: %(jobs)s, %(pages)s, %(sheets)s, cost %(cost)s %(currency)s")
            % {
                "jobs": ngettext("%(count)s job", "%(count)s jobs", report.total.jobs)
                % {"count": report.total.jobs},
                "pages": ngettext("%(count)s page", "%(count)s pages", report.total.pages)
                % {"count": report.total.pages},
                "sheets": ngettext("%(count)s sheet", "%(count)s sheets", report.total.sheets)
                % {"count": report.total.sheets},
                "cost": report.total.cost,
                "currency": currency,
            },
            "Heading2",
        ),
        _paragraph(_("Reconciliation with the ledger"), "Heading3"),
        *[_paragraph(line, "Normal") for line in report.reconciliation.statements],
        PageBreak(),
        _bar_chart(
            _("Cost over time (%(currency)s, by %(grouping)s)")
            % {"currency": currency, "grouping": report.over_time_grouping.label},
            report.over_time,
            horizontal=False,
        ),
        Spacer(1, 4 * mm),
        _bar_chart(
            _("Top 10 users by cost (%(currency)s)") % {"currency": currency},
            report.top_users,
            horizontal=True,
        ),
        Spacer(1, 4 * mm),
        _bar_chart(
            _("Cost by printer (%(currency)s)") % {"currency": currency},
            report.by_printer,
            horizontal=True,
        ),
        PageBreak(),
        _paragraph(_("Usage by %(grouping)s") % {"grouping": request.grouping.label}, "Heading2"),
        *_tables(usage_header(report), [usage_cells(row) for row in [*report.rows, report.total]]),
        _paragraph(_("Environment"), "Heading2"),
        *_tables(["figure", "value"], [list(line) for line in report.environment.lines]),
        _paragraph(_("Refunds and adjustments"), "Heading2"),
        *([_paragraph(report.movements.note, "Normal")] if report.movements.note else []),
        *_tables(
            ["date", "kind", "account", "amount", "by", "reason"],
            [
                [_local_text(m.created), m.kind, m.account, m.amount, m.by, m.reason[:60]]
                for m in report.movements
            ],
        ),
    ]
    document = SimpleDocTemplate(
        out, pagesize=A4, title=report.title, author="Print management", leftMargin=15 * mm
    )
    document.build(story)


def records_pdf(request: ReportRequest, out: IO[bytes], progress: Progress = _no_progress) -> None:
    """Every record on landscape pages, written page by page (see pdfstream): a title page,
    then a table of the main columns."""
    width, height = landscape(A4)
    title = _("Usage records %(start)s to %(end)s") % {"start": request.start, "end": request.end}
    pdf = StreamingPdf(out, width, height, title)
    pdf.text(20 * mm, height - 50 * mm, title, bold=True, size=20)
    total = usage_records(request).count()
    filters = _("Filters: %(filters)s") % {"filters": request.filter_text}
    pdf.text(20 * mm, height - 62 * mm, filters, size=11)
    count = ngettext(
        "%(total)s record; currency %(currency)s", "%(total)s records; currency %(currency)s", total
    ) % {
        "total": total,
        "currency": settings.CURRENCY,
    }
    pdf.text(20 * mm, height - 70 * mm, count, size=11)
    pdf.end_page()
    shown = ("job_id", "ended_at", "user", "account", "printer", "state", "pages", "sheets",
             "duplex", "color", "charged", "refunded", "cost")  # fmt: skip
    positions = [RECORD_COLUMNS.index(name) for name in shown]
    x_at = [8, 21, 60, 92, 146, 178, 198, 212, 226, 240, 252, 267, 282]
    # Each cell is cut to its column's width: a cut after 34 characters left room to spare
    # and made the accounts of demo-user-00001 and demo-user-00002 look alike.
    widths = [(end - start - 1) * mm for start, end in zip(x_at, [*x_at[1:], 295], strict=True)]
    page_rows = 0
    for done, row in enumerate(record_values(request).iterator(chunk_size=CHUNK_ROWS), start=1):
        if page_rows == 0:
            for name, x in zip(shown, x_at, strict=True):
                pdf.text(x * mm, height - 12 * mm, name, bold=True)
        cells = _record_cells(row)
        y = height - (18 + page_rows * 4.8) * mm
        for position, x, room in zip(positions, x_at, widths, strict=True):
            cell = cells[position]
            pdf.text(x * mm, y, "" if cell is None else pdf.fitted(str(cell), room))
        page_rows += 1
        if page_rows == PDF_RECORD_ROWS_PER_PAGE:
            pdf.end_page()
            page_rows = 0
        if done % CHUNK_ROWS == 0:
            progress(done)
    pdf.close()


# ------------------------------------------------------------------------- any


def write_export(
    kind: ExportKind,
    report_format: ReportFormat,
    request: ReportRequest,
    out: IO[bytes],
    progress: Progress = _no_progress,
) -> None:
    """Write one report file; `progress` is told how many records are written so far."""
    if kind == ExportKind.RECORDS:
        if report_format == ReportFormat.CSV:
            write_csv(records_csv_chunks(request, progress), out)
        elif report_format == ReportFormat.XLSX:
            records_xlsx(request, out, progress)
        else:
            records_pdf(request, out, progress)
        return
    if report_format == ReportFormat.CSV:
        write_csv(usage_csv_lines(request), out)
    elif report_format == ReportFormat.XLSX:
        usage_xlsx(usage_report(request), out)
    else:
        usage_pdf(usage_report(request), out)
