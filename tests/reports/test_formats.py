"""XLSX opened with openpyxl, PDF read with pypdf and drawn to PNG with pypdfium2."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test.utils import override_settings
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from apps.accounts.movements import account_deposit, account_refund
from apps.accounts.roles import STAFF
from apps.accounts.services import personal_account_ensure, user_create
from apps.jobs.models import Job
from apps.reports.choices import ExportKind, ReportFormat
from apps.reports.exports import money_number_format, write_export
from apps.reports.pdfstream import StreamingPdf
from apps.reports.selectors import report_request
from tests.reports.conftest import History

pytestmark = pytest.mark.django_db


def _export(kind: ExportKind, report_format: ReportFormat, grouping: str = "user") -> bytes:
    today = timezone.localdate()
    out = io.BytesIO()
    write_export(kind, report_format, report_request(today, today, grouping), out)
    return out.getvalue()


def test_usage_xlsx_has_the_figures_and_the_reconciliation(history: History) -> None:
    workbook = load_workbook(io.BytesIO(_export(ExportKind.USAGE, ReportFormat.XLSX, "printer")))
    rows = list(workbook["printer"].iter_rows(values_only=True))
    header = rows.index(
        ("printer", "jobs", "pages", "sides", "sheets", "charged", "refunded", "cost")
    )
    body = rows[header + 1 :]
    assert [row[0] for row in body] == ["colour", "laser", "TOTAL"]
    assert Decimal(str(body[-1][7])) == Decimal("4.50")
    statements = [row[0] for row in workbook["reconciliation"].iter_rows(values_only=True)]
    assert any("Reconciled" in str(line) for line in statements)
    movements = list(workbook["refunds and adjustments"].iter_rows(values_only=True))
    assert any(row[1] == "adjustment" and row[4] == "admin" for row in movements[1:])


def test_xlsx_money_cells_show_the_currencys_places(history: History) -> None:
    """Numbers a spreadsheet can add up, shown as 1.20, not 1.2."""
    usage = load_workbook(io.BytesIO(_export(ExportKind.USAGE, ReportFormat.XLSX, "printer")))
    rows = list(usage["printer"].iter_rows())
    total = next(row for row in rows if row[0].value == "TOTAL")
    movements = list(usage["refunds and adjustments"].iter_rows())[1:]
    records = load_workbook(io.BytesIO(_export(ExportKind.RECORDS, ReportFormat.XLSX)))
    record = list(records["usage records"].iter_rows())[1]
    money = [*total[5:8], *(row[3] for row in movements), *record[16:19]]
    assert movements
    assert {cell.number_format for cell in money} == {"#,##0.00"}
    assert all(isinstance(cell.value, (int, float)) for cell in money)
    assert total[1].number_format == "General"  # jobs are no money
    with override_settings(CURRENCY_DECIMALS=0):
        assert money_number_format() == "#,##0"


def test_records_xlsx_has_one_row_per_record(history: History) -> None:
    workbook = load_workbook(io.BytesIO(_export(ExportKind.RECORDS, ReportFormat.XLSX)))
    rows = list(workbook["usage records"].iter_rows(values_only=True))
    assert rows[0][:3] == ("job_id", "ended_at", "user")
    assert len(rows) == 6
    assert sum(Decimal(str(row[18])) for row in rows[1:]) == Decimal("4.50")


def _pdf_pages_drawn(data: bytes, folder: Path) -> list[Path]:
    """Each page as a PNG; a page must not be blank."""
    document = pypdfium2.PdfDocument(data)
    paths = []
    for index in range(len(document)):
        image = document[index].render(scale=1).to_pil()
        path = folder / f"page-{index + 1}.png"
        image.save(path)
        extrema = image.convert("L").getextrema()
        assert extrema[0] < 128, f"page {index + 1} is blank"
        paths.append(path)
    return paths


def test_usage_pdf_has_a_title_page_charts_and_tables(history: History, tmp_path: Path) -> None:
    data = _export(ExportKind.USAGE, ReportFormat.PDF, "account")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 3
    title_page = reader.pages[0].extract_text()
    assert "Usage by account" in title_page
    assert f"cost 4.50 {settings.CURRENCY}" in title_page
    assert "Reconciled" in title_page
    charts = reader.pages[1].extract_text()
    assert "Top 10 users by cost" in charts
    assert "Cost by printer" in charts
    text = "".join(page.extract_text() for page in reader.pages[2:])
    assert "shared account Project X" in text
    assert "paper jam fee" in text
    assert len(_pdf_pages_drawn(data, tmp_path)) == len(reader.pages)


def test_records_pdf_lists_the_records(history: History, tmp_path: Path) -> None:
    data = _export(ExportKind.RECORDS, ReportFormat.PDF)
    reader = PdfReader(io.BytesIO(data))
    assert "5 records" in reader.pages[0].extract_text()
    listing = reader.pages[1].extract_text()
    for job in history.jobs.values():
        assert str(job.pk) in listing
    _pdf_pages_drawn(data, tmp_path)


def test_an_empty_period_still_makes_every_format() -> None:
    long_ago = report_request("2001-01-01", "2001-01-02", "day")
    for kind in ExportKind:
        for report_format in ReportFormat:
            out = io.BytesIO()
            write_export(kind, report_format, long_ago, out)
            assert out.getvalue(), (kind, report_format)


def test_the_streaming_pdf_prints_text_as_it_is(tmp_path: Path) -> None:
    out = io.BytesIO()
    pdf = StreamingPdf(out, 300, 200, "a (title) with \\ and ü, Łódź")
    pdf.text(10, 150, r"brackets (like this) and a back\slash", bold=True, size=10)
    pdf.text(10, 130, "Grüße, CO₂, Дмитрий, Łódź, Αθηνά")
    # More characters than one font subset holds (256), and codes that are line ends.
    pdf.text(10, 110, "".join(chr(code) for code in range(0x400, 0x4FF)))
    pdf.close()
    reader = PdfReader(io.BytesIO(out.getvalue()))
    text = reader.pages[0].extract_text()
    assert r"brackets (like this) and a back\slash" in text
    assert "Grüße, CO₂, Дмитрий, Łódź, Αθηνά" in text
    assert "".join(chr(code) for code in range(0x400, 0x4FF)) in text
    assert reader.metadata is not None
    assert reader.metadata.title == "a (title) with \\ and ü, Łódź"
    _pdf_pages_drawn(out.getvalue(), tmp_path)


def test_pdf_reports_print_names_in_any_alphabet(
    history: History, print_job: Callable[..., Job]
) -> None:
    """Helvetica has Western European letters only: these names printed as black boxes in
    the report and as question marks in the listing, so two people looked alike."""
    names = ("Дмитрий", "Ευάγγελος", "Łukasz")
    for name in names:
        person = user_create(name, "a long enough password", role=STAFF)
        account_deposit(personal_account_ensure(person).pk, Decimal("10"), actor=history.admin)
        print_job(person, history.laser, price="0.10")
    texts = {kind: _pdf_text(_export(kind, ReportFormat.PDF)) for kind in ExportKind}
    for kind, text in texts.items():
        for name in names:
            assert name in text, (kind, name)
    assert "CO₂ (kg)" in texts[ExportKind.USAGE]


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def formula_names(history: History, print_job: Callable[..., Job]) -> dict[str, str]:
    """A job whose user, group and media are text a spreadsheet would run."""
    names = {
        "user": "+home-2@3",
        "group": '=HYPERLINK("http://attacker.example/","click")',
        "media": "+media",
    }
    person = user_create(names["user"], "a long enough password", role=STAFF)
    person.groups.add(Group.objects.create(name=names["group"]))
    account_deposit(personal_account_ensure(person).pk, Decimal("10"), actor=history.admin)
    print_job(person, history.laser, price="0.10", options={"media": names["media"]})
    return names


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


def test_csv_files_quote_text_a_spreadsheet_would_run(formula_names: dict[str, str]) -> None:
    by_group = _csv_rows(_export(ExportKind.USAGE, ReportFormat.CSV, "group"))
    assert ["'" + formula_names["group"]] == [
        row[0] for row in by_group if formula_names["group"] in row[0]
    ]
    records = _csv_rows(_export(ExportKind.RECORDS, ReportFormat.CSV))
    header, body = records[0], records[1:]
    (record,) = [row for row in body if row[header.index("user")].endswith("+home-2@3")]
    for column, name in formula_names.items():
        assert record[header.index(column)] == "'" + name, column
    # Only text is quoted: amounts and the other users' names are as they were.
    alice = next(row for row in body if row[header.index("user")] == "alice")
    assert alice[header.index("charged")] == "0.40"


def test_xlsx_files_keep_formula_like_text_as_text(formula_names: dict[str, str]) -> None:
    usage = load_workbook(io.BytesIO(_export(ExportKind.USAGE, ReportFormat.XLSX, "group")))
    cells = [row[0] for row in usage["group"].iter_rows() if row[0].value == formula_names["group"]]
    assert [cell.data_type for cell in cells] == ["s"]
    records = load_workbook(io.BytesIO(_export(ExportKind.RECORDS, ReportFormat.XLSX)))
    rows = list(records["usage records"].iter_rows())
    header = [cell.value for cell in rows[0]]
    (record,) = [row for row in rows[1:] if row[header.index("user")].value == "+home-2@3"]
    for column, name in formula_names.items():
        assert (record[header.index(column)].value, record[header.index(column)].data_type) == (
            name,
            "s",
        ), column


@pytest.mark.parametrize("group", ["Lab </b>", "R&D", "R&D <Lab>"])
def test_usage_pdf_prints_names_as_they_are(history: History, group: str) -> None:
    history.alice.groups.add(Group.objects.create(name=group))
    today = timezone.localdate()
    out = io.BytesIO()
    write_export(ExportKind.USAGE, ReportFormat.PDF, report_request(today, today, group=group), out)
    title_page = PdfReader(io.BytesIO(out.getvalue())).pages[0].extract_text()
    assert f"Filters: group {group}\n" in title_page


def test_xlsx_files_replace_characters_xml_cannot_hold(
    history: History, print_job: Callable[..., Job]
) -> None:
    account_refund(
        history.jobs["alice-simplex"].pk,
        Decimal("0.10"),
        reason="printer said \x1b[1mjam\x1b[0m\x01",
        user=history.admin,
        key="desk-1",
    )
    print_job(history.carol, history.laser, price="0.10", options={"media": "a4\x07\ufffe"})
    usage = load_workbook(io.BytesIO(_export(ExportKind.USAGE, ReportFormat.XLSX)))
    reasons = [row[5] for row in usage["refunds and adjustments"].iter_rows(values_only=True)]
    assert "printer said \ufffd[1mjam\ufffd[0m\ufffd" in reasons
    records = load_workbook(io.BytesIO(_export(ExportKind.RECORDS, ReportFormat.XLSX)))
    rows = list(records["usage records"].iter_rows(values_only=True))
    media = rows[0].index("media")
    assert "a4\ufffd\ufffd" in [row[media] for row in rows[1:]]


def test_the_record_listing_cuts_cells_to_their_column_not_after_34_characters(
    history: History, print_job: Callable[..., Job]
) -> None:
    """ "personal account of department-user-01" and "…-02" were both cut to the same 34
    characters, though the column had room for them: two accounts looked alike."""
    names = ("department-user-01", "department-user-02", "a" * 60)
    for name in names:
        person = user_create(name, "a long enough password", role=STAFF)
        account_deposit(personal_account_ensure(person).pk, Decimal("10"), actor=history.admin)
        print_job(person, history.laser, price="0.10")
    listing = _pdf_text(_export(ExportKind.RECORDS, ReportFormat.PDF))
    assert "personal account of department-user-01" in listing
    assert "personal account of department-user-02" in listing
    # What does not fit is cut, and says so.
    assert "a" * 60 not in listing
    assert "personal account of aaaa" in listing
    assert "…" in listing
