"""The report pages: only for the Finance role, the same figures as the files."""

from __future__ import annotations

import csv
import html
import io

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone, translation

from apps.accounts.services import user_create
from apps.reports.forms import ScheduledReportForm, recipients_checked
from apps.reports.models import ScheduledReport
from apps.reports.services import ScheduledReportExists, scheduled_report_create
from tests.reports.conftest import History

pytestmark = pytest.mark.django_db


def _query(**extra: str) -> dict[str, str]:
    today = timezone.localdate().isoformat()
    return {"start": today, "end": today, "grouping": "user", **extra}


def test_anonymous_users_are_sent_to_log_in(history: History) -> None:
    response = Client().get("/reports/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.parametrize(
    "path",
    ["/reports/", "/reports/download/usage.csv", "/reports/schedules/", "/reports/exports/1/"],
)
def test_users_without_the_finance_role_get_403(history: History, path: str) -> None:
    client = Client()
    client.force_login(history.staff_only)
    assert client.get(path, _query()).status_code == 403


def test_the_report_page_shows_figures_charts_and_reconciliation(
    finance_client: Client,
) -> None:
    response = finance_client.get("/reports/", _query(grouping="printer"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Usage by printer" in page
    assert '<th scope="row">colour</th>' in page
    assert "4.50" in page
    assert "Reconciled: the report total equals the ledger." in page
    assert page.count("<svg") == 3
    assert "paper jam fee" in page
    assert "/reports/download/usage.xlsx?" in page


def test_the_report_page_is_all_in_the_readers_language(finance_client: Client) -> None:
    """The German page said "Usage by Gruppe (primär)", its charts, reconciliation and
    environment in English."""
    response = finance_client.get("/reports/", _query(grouping="group"), HTTP_ACCEPT_LANGUAGE="de")
    page = html.unescape(response.content.decode())
    today = timezone.localdate()
    assert f"<h2>Nutzung nach Gruppe (primär), {today} bis {today}</h2>" in page
    assert '<th scope="col">Gruppe (primär)</th>' in page
    assert '<th scope="col">Benutzer</th>' in page
    assert "Kosten nach Tag" in page
    assert "Top 10 der Benutzer nach Kosten" in page
    assert "Abgestimmt: die Berichtssumme entspricht den Buchungen." in page
    assert "Gebuchte Belastungen minus Erstattungen der 5 Aufträge" in page
    assert '<th scope="row">Blätter</th>' in page
    for english in ("Usage by", "Cost by", "Top 10 users", "Ledger charges", "Reconciled",
                    "ledger", "Sheets", "Trees", ">group</th>", ">user</th>"):  # fmt: skip
        assert english not in page, english


def test_the_page_says_when_not_all_refunds_and_adjustments_are_shown(
    finance_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("apps.reports.reconciliation.LEDGER_MOVEMENT_LIMIT", 2)
    page = finance_client.get("/reports/", _query()).content.decode()
    assert "Showing the first 2 of 3 refunds and adjustments" in page
    assert page.count("paper jam fee") == 0  # the third, by date
    monkeypatch.setattr("apps.reports.reconciliation.LEDGER_MOVEMENT_LIMIT", 3)
    assert "Showing the first" not in finance_client.get("/reports/", _query()).content.decode()


def test_the_page_opens_on_this_month(finance_client: Client) -> None:
    response = finance_client.get("/reports/")
    assert response.status_code == 200
    assert f'value="{timezone.localdate().replace(day=1).isoformat()}"' in response.content.decode()


def test_bad_input_is_a_message_not_a_traceback(finance_client: Client) -> None:
    response = finance_client.get("/reports/", _query(start="2026-03-01", end="2026-02-01"))
    assert response.status_code == 400
    assert "before it starts" in response.content.decode()
    response = finance_client.get("/reports/", _query(printer="ghost"))
    assert "no printer is named" in response.content.decode()
    response = finance_client.get("/reports/download/usage.csv", _query(user="nobody"))
    assert response.status_code == 400
    assert "no user is named" in response.content.decode()


@pytest.mark.parametrize(
    "path", ["/reports/", "/reports/download/usage.pdf", "/reports/download/records.csv"]
)
def test_a_period_at_the_end_of_the_calendar_is_a_message(
    finance_client: Client, path: str
) -> None:
    response = finance_client.get(path, _query(start="2026-11-01", end="9999-12-31"))
    assert response.status_code == 400
    assert "ends on 9999-12-31, after 9998-12-31" in response.content.decode()


def test_csv_download_streams_the_same_figures(finance_client: Client) -> None:
    response = finance_client.get("/reports/download/usage.csv", _query(grouping="group"))
    assert response.status_code == 200
    assert response.streaming
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[-1] == {
        "group": "TOTAL", "jobs": "5", "pages": "28", "sides": "28", "sheets": "22",
        "charged": "5.40", "refunded": "0.90", "cost": "4.50",
    }  # fmt: skip


def test_records_csv_download_streams(finance_client: Client) -> None:
    response = finance_client.get("/reports/download/records.csv", _query())
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert len(list(csv.DictReader(io.StringIO(text)))) == 5


@pytest.mark.parametrize(
    ("path", "content_type", "magic"),
    [
        ("/reports/download/usage.xlsx", "spreadsheetml", b"PK"),
        ("/reports/download/usage.pdf", "application/pdf", b"%PDF"),
    ],
)
def test_xlsx_and_pdf_downloads(
    finance_client: Client, path: str, content_type: str, magic: bytes
) -> None:
    response = finance_client.get(path, _query())
    assert response.status_code == 200
    assert content_type in response["Content-Type"]
    assert response.content.startswith(magic)


def test_finance_sets_up_a_scheduled_report(finance_client: Client) -> None:
    response = finance_client.post(
        "/reports/schedules/",
        {"name": "Monthly", "period": "last_month", "grouping": "account", "format": "pdf",
         "recipients": "a@example.org\nnot an address"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "is not an e-mail address" in response.content.decode()
    response = finance_client.post(
        "/reports/schedules/",
        {"name": "Monthly", "period": "last_month", "grouping": "account", "format": "pdf",
         "recipients": "a@example.org\nb@example.org"},
    )  # fmt: skip
    assert response.status_code == 302
    page = finance_client.get("/reports/schedules/").content.decode()
    assert "a@example.org, b@example.org" in page


def test_the_recipients_are_refused_in_the_readers_language_in_the_portal_and_admin(
    finance_client: Client, history: History
) -> None:
    """The portal refused a bad address in English to a German reader; the admin took any
    text as recipients."""
    form = {"name": "Monthly", "period": "last_month", "grouping": "account", "format": "pdf",
            "recipients": "a@example.org\nkeine Adresse"}  # fmt: skip
    portal = finance_client.post("/reports/schedules/", form, HTTP_ACCEPT_LANGUAGE="de")
    assert portal.status_code == 400
    assert "„keine Adresse“ ist keine E-Mail-Adresse" in html.unescape(portal.content.decode())
    with translation.override("de"), pytest.raises(ValidationError) as empty:
        recipients_checked("\n \n")
    assert empty.value.messages == ["Geben Sie mindestens eine E-Mail-Adresse an."]
    admin = Client()
    admin.force_login(user_create("root", "a long enough password", superuser=True))
    added = admin.post(
        "/admin/reports/scheduledreport/add/", {**form, "filters": "{}"}, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert added.status_code == 200  # the form again, with the refusal
    assert "„keine Adresse“ ist keine E-Mail-Adresse" in html.unescape(added.content.decode())
    assert not ScheduledReport.objects.exists()


def test_save_clicked_twice_makes_one_scheduled_report(finance_client: Client) -> None:
    """Two identical reports e-mailed every period twice."""
    form = {"name": "Monthly", "period": "last_month", "grouping": "account", "format": "pdf",
            "recipients": "a@example.org", "account": "shared:Project X"}  # fmt: skip
    assert finance_client.post("/reports/schedules/", form).status_code == 302
    again = finance_client.post("/reports/schedules/", form)
    assert again.status_code == 400
    assert (
        "The scheduled report &#x27;Monthly&#x27; exists already, the same in every way: "
        "nothing was saved."
    ) in again.content.decode()
    assert ScheduledReport.objects.count() == 1
    # One that differs in anything is another report.
    other = finance_client.post("/reports/schedules/", {**form, "account": ""})
    assert other.status_code == 302
    assert ScheduledReport.objects.count() == 2


def test_the_admin_refuses_a_scheduled_reports_twin_in_the_readers_language(
    history: History,
) -> None:
    """The admin saved a second, identical scheduled report into the database's unique twin
    key: a server error."""
    root = user_create("root", "a long enough password", superuser=True)
    admin = Client()
    admin.force_login(root)
    form = {"name": "Monthly", "period": "last_month", "grouping": "account", "format": "pdf",
            "recipients": "a@example.org", "filters": '{"account": "shared:Project X"}',
            "is_active": "on", "language": "de", "active_since_0": "2026-11-01",
            "active_since_1": "00:00:00", "created_by": root.pk}  # fmt: skip
    added = admin.post("/admin/reports/scheduledreport/add/", form)
    assert added.status_code == 302
    first = ScheduledReport.objects.get()
    again = admin.post("/admin/reports/scheduledreport/add/", form, HTTP_ACCEPT_LANGUAGE="de")
    assert again.status_code == 200  # the form again, with the refusal
    assert (
        "Den geplanten Bericht „Monthly“ gibt es schon, in allem gleich: es wurde nichts "
        "gespeichert."
    ) in html.unescape(again.content.decode())
    # Another made the twin of the first by a change is refused too; the first saved unchanged
    # is not its own twin.
    other = admin.post("/admin/reports/scheduledreport/add/", {**form, "format": "csv"})
    assert other.status_code == 302
    second = ScheduledReport.objects.get(format="csv")
    changed = admin.post(f"/admin/reports/scheduledreport/{second.pk}/change/", form)
    assert changed.status_code == 200
    assert "exists already, the same in every way" in html.unescape(changed.content.decode())
    unchanged = admin.post(f"/admin/reports/scheduledreport/{first.pk}/change/", form)
    assert unchanged.status_code == 302
    assert ScheduledReport.objects.count() == 2


def test_the_admin_refuses_filters_naming_nobody_as_the_portal_does(history: History) -> None:
    """The admin saved filters naming nobody (or no filter at all), and the report failed
    every period."""
    root = user_create("root", "a long enough password", superuser=True)
    admin = Client()
    admin.force_login(root)
    form = {"name": "Monthly", "period": "last_month", "grouping": "account", "format": "pdf",
            "recipients": "a@example.org", "is_active": "on", "language": "de",
            "active_since_0": "2026-11-01", "active_since_1": "00:00:00",
            "created_by": root.pk}  # fmt: skip
    url = "/admin/reports/scheduledreport/add/"
    nobody = admin.post(url, {**form, "filters": '{"user": "nobody"}'}, HTTP_ACCEPT_LANGUAGE="de")
    assert nobody.status_code == 200  # the form again, with the refusal
    assert "kein Benutzer heißt 'nobody'" in html.unescape(nobody.content.decode())
    no_filter = admin.post(
        url, {**form, "filters": '{"printers": "finisher"}'}, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert no_filter.status_code == 200
    assert (
        'Filter werden als {"user": "Name"} geschrieben, mit den Schlüsseln user, group, '
        "account, printer, jeder ein Name."
    ) in html.unescape(no_filter.content.decode())
    assert not ScheduledReport.objects.exists()
    named = admin.post(url, {**form, "filters": '{"account": " shared:Project X ", "user": ""}'})
    assert named.status_code == 302
    assert ScheduledReport.objects.get().filters == {"account": "shared:Project X"}


def test_an_unknown_account_filter_is_refused_in_the_readers_language(
    finance_client: Client,
) -> None:
    """The account filter's refusals came from the accounts' name lookup in English, on the
    German report page and scheduled report form."""
    page = finance_client.get("/reports/", _query(account="shared:none"), HTTP_ACCEPT_LANGUAGE="de")
    assert "kein gemeinsames Konto heißt &#x27;none&#x27;." in page.content.decode()
    page = finance_client.get("/reports/", _query(account="nobody"), HTTP_ACCEPT_LANGUAGE="de")
    assert (
        "kein Konto heißt 'nobody': es ist weder ein Benutzername mit persönlichem Konto noch "
        "ein gemeinsames Konto."
    ) in html.unescape(page.content.decode())
    scheduled = finance_client.post(
        "/reports/schedules/",
        {"name": "Monthly", "period": "last_month", "grouping": "account", "format": "pdf",
         "recipients": "a@example.org", "account": "user:nobody"},
        HTTP_ACCEPT_LANGUAGE="de",
    )  # fmt: skip
    assert scheduled.status_code == 400
    assert "kein Benutzer namens &#x27;nobody&#x27; hat ein Konto." in scheduled.content.decode()


def test_a_scheduled_report_keeps_its_checked_filters(finance_client: Client) -> None:
    base = {"name": "Sales", "period": "last_week", "grouping": "user", "format": "csv",
            "recipients": "a@example.org"}  # fmt: skip
    response = finance_client.post("/reports/schedules/", {**base, "printer": "ghost"})
    assert response.status_code == 400
    assert "no printer is named" in response.content.decode()
    response = finance_client.post("/reports/schedules/", {**base, "group": "Sales"})
    assert response.status_code == 302
    assert ScheduledReport.objects.get().filters == {"group": "Sales"}
    assert "group Sales" in finance_client.get("/reports/schedules/").content.decode()


def test_the_admin_shows_usage_records_read_only(history: History) -> None:
    client = Client()
    client.force_login(user_create("root", "a long enough password", superuser=True))
    page = client.get("/admin/reports/usagerecord/")
    assert page.status_code == 200
    assert "laser" in page.content.decode()
    assert client.get("/admin/reports/usagerecord/add/").status_code == 403


def test_of_two_twins_saved_at_the_same_moment_one_is_made(finance_client: Client) -> None:
    """The form looked before the other was saved: the database still refuses the second."""
    data = {"name": "Monthly", "period": "last_month", "grouping": "account", "format": "pdf",
            "recipients": "a@example.org", "account": "shared:Project X"}  # fmt: skip
    form = ScheduledReportForm(data)
    assert form.is_valid()
    ScheduledReport.objects.create(
        name="Monthly", period="last_month", grouping="account", format="pdf",
        recipients="a@example.org", filters={"account": "shared:Project X"},
    )  # fmt: skip
    with pytest.raises(ScheduledReportExists) as refusal:
        scheduled_report_create(form.save(commit=False))
    assert str(refusal.value) == (
        "The scheduled report 'Monthly' exists already, the same in every way: nothing was saved."
    )
    assert ScheduledReport.objects.count() == 1
