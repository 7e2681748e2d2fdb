"""Report figures: aggregated by the database, equal totals whatever the grouping, and money
that reconciles with the ledger (charges minus refunds)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test.utils import override_settings
from django.utils import timezone, translation
from openpyxl import load_workbook
from pypdf import PdfReader

from apps.accounts.models import User
from apps.accounts.movements import account_adjust, account_deposit, account_refund
from apps.accounts.roles import STAFF
from apps.accounts.services import personal_account_ensure, user_create
from apps.jobs.models import Job
from apps.printers.choices import PrinterKind
from apps.printers.models import Printer
from apps.reports.choices import ExportKind, Grouping, ReportFormat
from apps.reports.exports import write_export
from apps.reports.figures import environment, top_rows, usage_rows, usage_total
from apps.reports.reconciliation import ledger_movements, reconciliation
from apps.reports.report import usage_report
from apps.reports.selectors import ReportError, report_request
from tests.reports.conftest import History

pytestmark = pytest.mark.django_db


def _today() -> str:
    return timezone.localdate().isoformat()


def test_totals_agree_across_every_grouping(history: History) -> None:
    totals = set()
    for grouping in Grouping:
        request = report_request(_today(), _today(), grouping)
        rows = usage_rows(request)
        total = usage_total(request)
        assert sum(row.cost for row in rows) == total.cost, grouping
        assert sum(row.jobs for row in rows) == total.jobs, grouping
        assert sum(row.sheets for row in rows) == total.sheets, grouping
        totals.add(
            (total.jobs, total.pages, total.sheets, total.charged, total.refunded, total.cost)
        )
    assert totals == {(5, 28, 22, Decimal("5.40"), Decimal("0.90"), Decimal("4.50"))}


def test_parts_add_up_to_the_total_when_amounts_have_more_places_than_the_currency(
    history: History, print_job: Callable[..., Job]
) -> None:
    """Jobs charged 0.125 while the site had three places, reported after it went to two:
    each row was rounded apart (0.12 three times, 0.36) under a rounded total of 0.38."""
    with override_settings(CURRENCY_DECIMALS=3):
        for person in (history.alice, history.bob, history.carol):
            print_job(person, history.laser, price="0.125", pages=1)
    expected = Decimal("4.875")
    for grouping in Grouping:
        request = report_request(_today(), _today(), grouping)
        report = usage_report(request)
        assert report.total.cost == expected, grouping
        assert sum(row.cost for row in report.rows) == expected, grouping
        assert report.reconciliation.matches
        out = io.BytesIO()
        write_export(ExportKind.USAGE, ReportFormat.CSV, request, out)
        *rows, total = list(csv.reader(io.StringIO(out.getvalue().decode())))[1:]
        assert sum(Decimal(row[-1]) for row in rows) == Decimal(total[-1]) == expected, grouping
    out = io.BytesIO()
    write_export(ExportKind.RECORDS, ReportFormat.CSV, report_request(_today(), _today()), out)
    header, *records = list(csv.reader(io.StringIO(out.getvalue().decode())))
    costs = [Decimal(record[header.index("cost")]) for record in records]
    assert sum(costs) == expected
    # Amounts that have the currency's places are written with them, as before.
    shown = {record[header.index("cost")] for record in records}
    assert {"0.40", "0.1250"} <= shown


def test_group_report_counts_each_job_once_in_its_primary_group(history: History) -> None:
    rows = {row.label: row for row in usage_rows(report_request(_today(), _today(), "group"))}
    assert set(rows) == {"Design", "Sales", "Staff"}
    assert rows["Design"].jobs == 2
    assert rows["Design"].cost == Decimal("1.60")
    assert rows["Sales"].jobs == 2
    assert rows["Sales"].cost == Decimal("0.40")
    # The group filter takes every member: Alice is in Sales too.
    sales = usage_total(report_request(_today(), _today(), "user", group="Sales"))
    assert sales.jobs == 4


def test_filters_by_user_account_and_printer(history: History) -> None:
    day = _today()
    assert usage_total(report_request(day, day, user="bob")).cost == Decimal("0.40")
    project = usage_total(report_request(day, day, account="shared:Project X"))
    assert (project.jobs, project.cost) == (1, Decimal("1.20"))
    colour = usage_total(report_request(day, day, printer="colour"))
    assert (colour.jobs, colour.cost) == (2, Decimal("2.90"))


def test_report_total_reconciles_with_the_ledger(history: History) -> None:
    check = reconciliation(report_request(_today(), _today()))
    assert check.matches
    assert check.report_total == check.ledger_total == Decimal("4.50")
    # Every charge and refund of the period is one of these jobs' (released and ended today).
    assert check.period_charges == Decimal("5.40")
    assert check.period_refunds == Decimal("0.90")
    assert "Reconciled" in " ".join(check.statements)


def test_a_late_refund_is_shown_as_the_difference(history: History, late_refund: Decimal) -> None:
    check = reconciliation(report_request(_today(), _today()))
    assert not check.matches
    assert check.ledger_total == Decimal("4.40")
    assert check.late_refunds == late_refund
    assert "refunded after the jobs ended" in " ".join(check.statements)


def test_refunds_and_adjustments_say_who_made_them(history: History, late_refund: Decimal) -> None:
    movements = ledger_movements(report_request(_today(), _today()))
    seen = {(m.kind, m.amount, m.by) for m in movements}
    assert ("adjustment", Decimal("-2.00"), "admin") in seen
    assert ("refund", Decimal("0.10"), "admin") in seen
    assert ("refund", Decimal("0.30"), "system") in seen
    bob_only = ledger_movements(report_request(_today(), _today(), user="bob"))
    assert {m.account for m in bob_only} == {"personal account of bob"}


def _movements(**filters: str) -> set[tuple[str, int | str, Decimal]]:
    """Refunds by their job, adjustments by their reason."""
    movements = ledger_movements(report_request(_today(), _today(), **filters))
    assert movements.total == len(movements.shown)
    return {(m.kind, m.job_id or m.reason, m.amount) for m in movements}


def test_refunds_and_adjustments_follow_every_filter(
    history: History, late_refund: Decimal
) -> None:
    """A refund belongs to its job, wherever it was charged; an adjustment to its account."""
    account_refund(
        history.jobs["alice-duplex"].pk, Decimal("0.20"), reason="wrong paper",
        user=history.admin, key="desk-2",
    )  # fmt: skip
    alice_account = personal_account_ensure(history.alice)
    account_adjust(alice_account.pk, Decimal("1.00"), actor=history.admin, reason="goodwill")
    jobs = {name: job.pk for name, job in history.jobs.items()}
    refunds = {
        "smudged": ("refund", jobs["alice-simplex"], Decimal("0.10")),
        "paper": ("refund", jobs["alice-duplex"], Decimal("0.20")),
        "failed": ("refund", jobs["bob-failed"], Decimal("0.30")),
        "canceled": ("refund", jobs["bob-canceled"], Decimal("0.60")),
    }
    jam = ("adjustment", "paper jam fee", Decimal("-2.00"))
    goodwill = ("adjustment", "goodwill", Decimal("1.00"))
    assert _movements(printer="colour") == {refunds["canceled"]}
    assert _movements(printer="laser") == {refunds["smudged"], refunds["paper"], refunds["failed"]}
    # Alice's refund of a job charged to the shared account is hers too.
    assert _movements(user="alice") == {refunds["smudged"], refunds["paper"], goodwill}
    assert _movements(group="Design") == {refunds["smudged"], refunds["paper"], goodwill}
    assert _movements(group="Sales") == {*refunds.values(), jam, goodwill}
    assert _movements(account="shared:Project X") == {refunds["paper"]}
    assert _movements(user="bob", printer="laser") == {refunds["failed"]}
    assert _movements() == {*refunds.values(), jam, goodwill}


def test_when_not_all_movements_are_shown_the_report_says_so(
    history: History, late_refund: Decimal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("apps.reports.reconciliation.LEDGER_MOVEMENT_LIMIT", 2)
    request = report_request(_today(), _today())
    movements = ledger_movements(request)
    assert (len(movements.shown), movements.total) == (2, 4)
    note = "Showing the first 2 of 4 refunds and adjustments; the XLSX file lists them all."
    assert movements.note == note
    pdf = io.BytesIO()
    write_export(ExportKind.USAGE, ReportFormat.PDF, request, pdf)
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert note in text.replace("\n", " ")
    xlsx = io.BytesIO()
    write_export(ExportKind.USAGE, ReportFormat.XLSX, request, xlsx)
    sheet = load_workbook(xlsx)["refunds and adjustments"]
    assert len(list(sheet.iter_rows(values_only=True))) == 1 + 4
    assert ledger_movements(report_request(_today(), _today(), printer="colour")).note == ""


def test_environment_uses_the_factors(settings) -> None:  # type: ignore[no-untyped-def]
    settings.REPORT_SHEETS_PER_TREE = "1000"
    settings.REPORT_CO2_GRAMS_PER_SHEET = "5"
    figures = environment(2000)
    assert figures.trees == Decimal("2.000")
    assert figures.co2_kg == Decimal("10.000")
    assert figures.paper_kg == Decimal("10.000")


def test_a_period_without_data_is_an_empty_report(history: History) -> None:
    long_ago = (timezone.localdate() - timedelta(days=400)).isoformat()
    report = usage_report(report_request(long_ago, long_ago, "printer"))
    assert report.rows == []
    assert report.total.jobs == 0
    assert report.total.cost == Decimal("0.00")
    assert report.reconciliation.matches


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"start": "2026-02-01", "end": "2026-01-01"}, "ends (2026-01-01) before it starts"),
        ({"start": "2026-13-01", "end": "2026-01-01"}, "is not a date"),
        ({"user": "nobody"}, "no user is named 'nobody'"),
        ({"group": "Nowhere"}, "no group is named 'Nowhere'"),
        ({"printer": "ghost"}, "no printer is named 'ghost'"),
        ({"account": "shared:none"}, "no shared account named 'none'"),
        ({"grouping": "colour"}, "unknown grouping 'colour'"),
        ({"start": "0001-01-01"}, "starts on 0001-01-01, before 1900-01-01"),
        ({"end": "9999-12-31"}, "ends on 9999-12-31, after 9998-12-31"),
    ],
)
def test_bad_requests_are_refused_with_a_message(
    history: History, arguments: dict[str, str], message: str
) -> None:
    call = {"start": "2026-01-01", "end": "2026-01-31", "grouping": "user", **arguments}
    with pytest.raises(ReportError, match=message.replace("(", r"\(").replace(")", r"\)")):
        report_request(call.pop("start"), call.pop("end"), call.pop("grouping"), **call)


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12", "Europe/Berlin"])
def test_the_first_and_last_days_a_report_covers_work_in_every_time_zone(
    history: History, zone: str
) -> None:
    with override_settings(TIME_ZONE=zone):
        for day in ("1900-01-01", "9998-12-31"):
            report = usage_report(report_request(day, day, "day"))
            assert report.total.jobs == 0
            assert report.movements.total == 0


def test_renamed_users_accounts_and_printers_are_told_apart(
    history: History, print_job: Callable[..., Job]
) -> None:
    """Bob leaves and is renamed, a new Bob arrives; the laser is renamed and a new one is
    called laser; the colour printer is renamed and prints on: one row each, not by name."""
    User.objects.filter(pk=history.bob.pk).update(username="bob.left")
    Printer.objects.filter(pk=history.laser.pk).update(name="laser-old")
    Printer.objects.filter(pk=history.colour.pk).update(name="colour-2")
    new_bob = user_create("bob", "a long enough password", role=STAFF)
    account_deposit(personal_account_ensure(new_bob).pk, Decimal("10"), actor=history.admin)
    new_laser = Printer.objects.create(
        name="laser", uri="ipp://127.0.0.1:9/ipp/new", kind=PrinterKind.DRIVERLESS
    )
    print_job(new_bob, new_laser, price="0.50")
    print_job(history.carol, Printer.objects.get(pk=history.colour.pk), price="0.70")
    day = _today()

    def costs(grouping: str) -> dict[str, Decimal]:
        rows = usage_rows(report_request(day, day, grouping))
        assert len({row.label for row in rows}) == len(rows), rows
        return {row.label: row.cost for row in rows}

    by_user = costs("user")
    assert (by_user["bob (now bob.left)"], by_user["bob"]) == (Decimal("0.40"), Decimal("0.50"))
    by_account = costs("account")
    assert by_account["personal account of bob (now personal account of bob.left)"] == Decimal(
        "0.40"
    )
    assert by_account["personal account of bob"] == Decimal("0.50")
    by_printer = costs("printer")
    assert by_printer == {
        "colour-2": Decimal("3.60"),  # 2.90 as "colour", 0.70 as "colour-2"
        "laser": Decimal("0.50"),
        "laser (now laser-old)": Decimal("1.60"),
    }
    top = {row.label for row in top_rows(report_request(day, day), Grouping.USER)}
    assert {"bob", "bob (now bob.left)"} <= top


def test_the_total_line_and_labels_are_in_the_readers_language_except_in_csv(
    history: History, print_job: Callable[..., Job]
) -> None:
    """A German reader's spreadsheet, PDF and page said TOTAL, "(group)" and "(id 7)"; a CSV
    file, read by machines, keeps the English labels as it keeps the English column names."""
    gesamt = user_create("GESAMT", "a long enough password", role=STAFF)
    account_deposit(personal_account_ensure(gesamt).pk, Decimal("10"), actor=history.admin)
    gesamt.groups.clear()  # printed as a member of no group
    print_job(gesamt, history.laser, price="1.00")
    request = report_request(_today(), _today(), "user")
    files = {}
    with translation.override("de"):
        for report_format in ReportFormat:
            out = io.BytesIO()
            write_export(ExportKind.USAGE, report_format, request, out)
            files[report_format] = out.getvalue()
        page = usage_report(report_request(_today(), _today(), "group"))
    rows = list(load_workbook(io.BytesIO(files[ReportFormat.XLSX]))["user"].values)
    labels = [row[0] for row in rows[4:]]
    assert labels[-1] == "GESAMT"
    assert f"GESAMT (ID {gesamt.pk})" in labels  # the user told apart from the total
    pdf = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(files[ReportFormat.PDF])).pages
    )
    assert f"GESAMT (ID {gesamt.pk})" in pdf
    assert "TOTAL" not in pdf
    assert page.total.label == "GESAMT"
    assert "(keine Gruppe)" in [row.label for row in page.rows]
    *csv_rows, total = list(csv.reader(io.StringIO(files[ReportFormat.CSV].decode())))[1:]
    assert total[0] == "TOTAL"
    assert "GESAMT" in [row[0] for row in csv_rows]  # no total of its own language to pass for


def test_a_user_printer_or_group_named_total_does_not_pass_for_the_total_line(
    history: History, print_job: Callable[..., Job]
) -> None:
    """A file read by its labels took a user named TOTAL for the total of the report."""
    total_user = user_create("TOTAL", "a long enough password", role=STAFF)
    total_user.groups.add(Group.objects.create(name="TOTAL"))
    account_deposit(personal_account_ensure(total_user).pk, Decimal("10"), actor=history.admin)
    total_printer = Printer.objects.create(
        name="TOTAL", uri="ipp://127.0.0.1:9/ipp/total", kind=PrinterKind.DRIVERLESS
    )
    print_job(total_user, total_printer, price="9.99")
    expected = {
        "user": f"TOTAL (id {total_user.pk})",
        "printer": f"TOTAL (id {total_printer.pk})",
        "group": "TOTAL (group)",
    }
    for grouping, label in expected.items():
        out = io.BytesIO()
        write_export(
            ExportKind.USAGE, ReportFormat.CSV, report_request(_today(), _today(), grouping), out
        )
        *rows, total = list(csv.reader(io.StringIO(out.getvalue().decode())))[1:]
        assert [row[0] for row in rows if row[0].startswith("TOTAL")] == [label], grouping
        assert (total[0], total[-1]) == ("TOTAL", "14.49"), grouping
