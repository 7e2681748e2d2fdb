"""Every portal URL with every role: who may open it, who is refused, who cannot even see it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, reverse

from apps.accounts.choices import AllowancePeriod
from apps.accounts.models import Allowance, User
from apps.accounts.roles import STAFF
from apps.jobs.models import Job
from apps.portal import urls as portal_urls
from apps.printers.models import Printer, PrinterGroup
from tests.portal.conftest import People, logged_in, rule_file_of

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "staff", "other_staff", "printer_admin", "finance")
ALLOW, FORBID, HIDDEN, LOGIN = "allow", "forbid", "hidden", "login"

EVERY_STAFF = {"staff": ALLOW, "other_staff": ALLOW, "printer_admin": ALLOW, "finance": ALLOW}
OWN_JOB = {"staff": ALLOW, "other_staff": HIDDEN, "printer_admin": HIDDEN, "finance": HIDDEN}
PRINTER_ADMINS = {"staff": FORBID, "other_staff": FORBID, "printer_admin": ALLOW, "finance": FORBID}
MONEY_READERS = {"staff": FORBID, "other_staff": FORBID, "printer_admin": ALLOW, "finance": ALLOW}


@dataclass(frozen=True)
class Expectation:
    method: str
    rule: dict[str, str]


EXPECTED: dict[str, Expectation] = {
    "inbox": Expectation("get", EVERY_STAFF),
    "upload": Expectation("post", EVERY_STAFF),
    "release_all": Expectation("get", EVERY_STAFF),
    "job": Expectation("get", OWN_JOB),
    "job_quote": Expectation("post", OWN_JOB),
    "job_cancel": Expectation("post", OWN_JOB),
    "thumbnail": Expectation("get", OWN_JOB),
    "history": Expectation("get", EVERY_STAFF),
    "my_account": Expectation("get", EVERY_STAFF),
    "devices": Expectation("get", EVERY_STAFF),
    "printing_token_new": Expectation("post", EVERY_STAFF),
    "printing_token_revoke": Expectation("post", EVERY_STAFF),
    "default_printer": Expectation("post", EVERY_STAFF),
    "printers": Expectation("get", PRINTER_ADMINS),
    "printer_new": Expectation("get", PRINTER_ADMINS),
    "printer_import": Expectation("get", PRINTER_ADMINS),
    "printer": Expectation("get", PRINTER_ADMINS),
    "printer_disable": Expectation("post", PRINTER_ADMINS),
    "printer_check": Expectation("post", PRINTER_ADMINS),
    "printer_groups": Expectation("get", PRINTER_ADMINS),
    "printer_group": Expectation("get", PRINTER_ADMINS),
    "printer_group_delete": Expectation("post", PRINTER_ADMINS),
    "rules": Expectation("get", PRINTER_ADMINS),
    "rule_new": Expectation("post", PRINTER_ADMINS),
    "rule": Expectation("get", PRINTER_ADMINS),
    "rule_version": Expectation("get", PRINTER_ADMINS),
    "rule_activate": Expectation("post", PRINTER_ADMINS),
    "rule_diff": Expectation("get", PRINTER_ADMINS),
    "rule_explain": Expectation("get", PRINTER_ADMINS),
    "accounts": Expectation("get", MONEY_READERS),
    "account": Expectation("get", MONEY_READERS),
    "shared_account_new": Expectation("post", PRINTER_ADMINS),
    "account_deposit": Expectation("post", PRINTER_ADMINS),
    "account_adjust": Expectation("post", PRINTER_ADMINS),
    "account_limit": Expectation("post", PRINTER_ADMINS),
    "account_members": Expectation("post", PRINTER_ADMINS),
    "allowances": Expectation("get", MONEY_READERS),
    "allowance_new": Expectation("post", PRINTER_ADMINS),
    "allowance": Expectation("get", PRINTER_ADMINS),
    "allowance_end": Expectation("post", PRINTER_ADMINS),
    "users": Expectation("get", PRINTER_ADMINS),
    "user": Expectation("get", PRINTER_ADMINS),
}


def portal_url_names() -> list[str]:
    return [p.name for p in portal_urls.urlpatterns if isinstance(p, URLPattern) and p.name]


def test_every_portal_url_has_an_expectation() -> None:
    assert sorted(portal_url_names()) == sorted(EXPECTED)


def url_for(name: str, job: Job, printer: Printer, people: People) -> str:
    pattern = next(p for p in portal_urls.urlpatterns if p.name == name)
    assert isinstance(pattern, URLPattern)
    rule_file = rule_file_of(printer)
    values = {
        "job_id": job.pk,
        "page": 1,
        "printer_id": printer.pk,
        "rule_file_id": rule_file.pk,
        "version_id": rule_file.active_version_id,
        "account_id": people.staff.personal_account.pk,
        "user_id": people.staff.pk,
    }
    if "allowance_id" in pattern.pattern.converters:
        values["allowance_id"] = Allowance.objects.get_or_create(
            group=Group.objects.get(name=STAFF.group_name),
            amount=Decimal("1.00"),
            period=AllowancePeriod.WEEKLY,
        )[0].pk
    if "group_id" in pattern.pattern.converters:
        group, _ = PrinterGroup.objects.get_or_create(name="floor-2")
        group.printers.add(printer)
        values["group_id"] = group.pk
    kwargs = {key: values[key] for key in pattern.pattern.converters}
    return reverse(f"portal:{name}", kwargs=kwargs)


def client_for(role: str, people: People) -> Client:
    if role == "anonymous":
        return Client()
    user: User = getattr(people, role)
    return logged_in(user)


def outcome(status: int, location: str) -> str:
    if status == 302 and location.startswith("/login/"):
        return LOGIN
    if status == 403:
        return FORBID
    if status == 404:
        return HIDDEN
    # 400: the form's page again, with what was wrong (an empty POST sends no values).
    assert status in (200, 302, 400), status
    return ALLOW


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_url_role_matrix(
    name: str, people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    expectation = EXPECTED[name]
    # The owner goes last: a POST by the owner may change the job (cancel it).
    for role in ("anonymous", "other_staff", "finance", "printer_admin", "staff"):
        job = held(people.staff, title="confidential-memo")
        url = url_for(name, job, printer, people)
        client = client_for(role, people)
        response = getattr(client, expectation.method)(url)
        wanted = LOGIN if role == "anonymous" else expectation.rule[role]
        got = outcome(response.status_code, response.get("Location", ""))
        assert got == wanted, f"{role} {expectation.method.upper()} {url}: {got}, not {wanted}"
        if got in (FORBID, HIDDEN):
            body = response.content.decode()
            assert "Traceback" not in body
            assert job.title not in body or got == FORBID


def test_finance_reads_money_but_changes_nothing(people: People, printer: Printer) -> None:
    client = logged_in(people.finance)
    account = people.staff.personal_account
    page = client.get(f"/manage/accounts/{account.pk}/").content.decode()
    assert "20.00 EUR" in page
    assert ">Deposit</button>" not in page
    response = client.post(
        f"/manage/accounts/{account.pk}/deposit/", {"deposit-amount": "5", "deposit-reason": "x"}
    )
    assert response.status_code == 403
    account.refresh_from_db()
    assert str(account.balance) == "20.00"


def test_navigation_shows_what_the_role_may_open(people: People) -> None:
    staff_nav = logged_in(people.staff).get("/inbox/").content.decode()
    assert "/manage/printers/" not in staff_nav
    assert "/manage/accounts/" not in staff_nav
    admin_nav = logged_in(people.printer_admin).get("/inbox/").content.decode()
    assert "/manage/printers/" in admin_nav
    assert "/manage/rules/" in admin_nav
    finance_nav = logged_in(people.finance).get("/inbox/").content.decode()
    assert "/manage/accounts/" in finance_nav
    assert "/manage/rules/" not in finance_nav


def test_unknown_pages_and_errors_show_our_pages_not_tracebacks(people: People) -> None:
    client = logged_in(people.staff)
    missing = client.get("/jobs/999999/")
    assert missing.status_code == 404
    assert "There is nothing here, or it is not yours to see." in missing.content.decode()
    forbidden = client.get("/manage/printers/")
    assert "Your role does not allow this page." in forbidden.content.decode()


@pytest.mark.parametrize("path", ["/logout/", "/devices/token/", "/inbox/upload/"])
def test_an_address_only_a_form_opens_says_so_when_opened_on_its_own(
    people: People, path: str
) -> None:
    # From a bookmark, the browser's history or a reload: the page was blank.
    client = logged_in(people.staff)
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 405
    assert response["Allow"] == ("POST, OPTIONS" if path == "/logout/" else "POST")
    body = response.content.decode()
    assert "<h1>Diese Seite öffnet nur ein Formular</h1>" in body
    assert 'href="/">Startseite</a>' in body
    # What forms send is answered as before.
    assert client.post("/logout/").status_code == 302


def test_a_server_error_shows_our_page_without_a_traceback(
    people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(user: User) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("apps.portal.selectors.held_jobs_of", broken)
    client = logged_in(people.staff)
    client.raise_request_exception = False
    response = client.get("/inbox/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "secret internals" not in body
    assert "Traceback" not in body
