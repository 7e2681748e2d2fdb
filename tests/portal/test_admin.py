"""Printer admins' pages through the test client: printers, rule files, accounts and users."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pytest

from apps.accounts.choices import AccountKind, EntryKind
from apps.accounts.models import Account, LedgerEntry, User
from apps.accounts.movements import account_deposit
from apps.accounts.services import shared_account_create
from apps.jobs.models import Job
from apps.jobs.release import job_quote
from apps.portal.rule_listing import listing
from apps.portal.views import accounts as account_views
from apps.printers.models import Printer
from apps.rules.models import RuleFile, RuleFileVersion
from apps.rules.services import rule_file_activate, rule_file_save
from printmgmt.ppde import Diagnostic, Severity
from tests.peers import IppEvePrinter
from tests.portal.accessibility import error_at, page_problems, parse
from tests.portal.conftest import PORTAL_RULES, People, logged_in, rule_file_of

pytestmark = pytest.mark.django_db

BROKEN_LINE = "*SPConstraint: broken org.savapage-finishings-staple/!3\n"


# ---------------------------------------------------------------- printers


def test_printer_list_shows_state_and_a_live_fragment(people: People, printer: Printer) -> None:
    client = logged_in(people.printer_admin)
    page = client.get("/manage/printers/").content.decode()
    assert "finisher" in page
    assert "Idle" in page
    assert "office-finisher" in page
    assert 'data-refresh="/manage/printers/?fragment=rows"' in page
    rows = client.get("/manage/printers/?fragment=rows").content.decode()
    assert "<html" not in rows
    assert "finisher" in rows


@pytest.mark.peers
def test_probe_shows_what_a_printer_can_do_then_add_it(
    people: People, ippeveprinter: IppEvePrinter
) -> None:
    client = logged_in(people.printer_admin)
    data = {"name": "lobby", "uri": ippeveprinter.uri, "location": "Lobby", "rule_file": ""}
    probed = client.post("/manage/printers/add/", {**data, "action": "probe"}).content.decode()
    assert "finishings-supported" in probed
    assert "Example Finisher 9000" in probed
    assert not Printer.objects.filter(name="lobby").exists()
    added = client.post("/manage/printers/add/", {**data, "action": "add"}, follow=True)
    assert "Printer lobby added." in added.content.decode()
    assert Printer.objects.get(name="lobby").location == "Lobby"


def test_adding_a_printer_that_does_not_answer_says_so(people: People) -> None:
    client = logged_in(people.printer_admin)
    data = {"name": "ghost", "uri": "ipp://127.0.0.1:9/ipp/print", "action": "add"}
    page = client.post("/manage/printers/add/", data).content
    assert "127.0.0.1:9" in error_at(page, "uri")
    bad = client.post("/manage/printers/add/", {**data, "uri": "http://x/"}).content
    assert "is not a printer URI" in error_at(bad, "uri")
    assert not Printer.objects.filter(name="ghost").exists()


def test_a_refused_printer_name_is_told_at_the_name(people: People, printer: Printer) -> None:
    client = logged_in(people.printer_admin)
    data = {"name": printer.name, "uri": "ipp://127.0.0.1:9/ipp/other", "action": "add"}
    taken = client.post("/manage/printers/add/", data).content
    assert error_at(taken, "name") == "a printer called 'finisher' exists already"
    assert error_at(taken, "uri") == ""
    unusable = client.post("/manage/printers/add/", {**data, "name": "-lobby"}).content
    assert "is not a usable printer name" in error_at(unusable, "name")


def test_a_refused_certificate_of_a_new_printer_is_told_at_its_field(people: People) -> None:
    """It was the page's message, as a refusal about no field is."""
    data = {"name": "lobby", "uri": "ipp://127.0.0.1:9/ipp/print", "trusted_certificate": "junk"}
    page = logged_in(people.printer_admin).post("/manage/printers/add/", data).content
    assert 'role="alert"' not in page.decode()
    assert "is not a PEM certificate" in error_at(page, "trusted_certificate")
    assert (error_at(page, "name"), error_at(page, "uri")) == ("", "")


def test_cups_import_from_an_unreachable_server_says_so(people: People) -> None:
    page = logged_in(people.printer_admin).post(
        "/manage/printers/import/", {"server_uri": "ipp://127.0.0.1:9/"}
    )
    assert "127.0.0.1:9" in error_at(page.content, "server_uri")


def test_edit_location_groups_price_table_rule_file_and_disable(
    people: People, printer: Printer
) -> None:
    client = logged_in(people.printer_admin)
    page = client.get(f"/manage/printers/{printer.pk}/").content.decode()
    assert "iso_a4_210x297mm" in page
    assert "finishings-supported" in page
    staff_group = people.staff.groups.get()
    data = {
        "location": "Room 14",
        "used_by": "groups",
        "allowed_groups": [staff_group.pk],
        "rule_file": "",
        "enabled": "on",
        "prices-TOTAL_FORMS": "2",
        "prices-INITIAL_FORMS": "0",
        "prices-0-media_size": "iso_a4_210x297mm",
        "prices-0-one_sided": "0.12",
        "prices-0-two_sided": "0.09",
        "prices-1-media_size": "iso_a3_297x420mm",
        "prices-1-color": "on",
        "prices-1-one_sided": "0.90",
        "prices-1-two_sided": "0.80",
    }
    response = client.post(f"/manage/printers/{printer.pk}/", data, follow=True)
    assert "Printer finisher saved." in response.content.decode()
    printer.refresh_from_db()
    assert printer.location == "Room 14"
    assert printer.rule_file is None
    assert list(printer.allowed_groups.all()) == [staff_group]
    assert sorted((p.media, p.color, p.one_sided) for p in printer.side_prices.all()) == [
        ("iso_a3_297x420mm", True, Decimal("0.9000")),
        ("iso_a4_210x297mm", False, Decimal("0.1200")),
    ]
    negative = {**data, "prices-0-one_sided": "-1"}
    assert client.post(f"/manage/printers/{printer.pk}/", negative).status_code == 200
    printer.refresh_from_db()
    assert printer.side_prices.get(media="iso_a4_210x297mm").one_sided == Decimal("0.12")
    client.post(f"/manage/printers/{printer.pk}/disable/")
    printer.refresh_from_db()
    assert printer.enabled is False


def test_check_now_marks_an_unreachable_printer(people: People, printer: Printer) -> None:
    response = logged_in(people.printer_admin).post(
        f"/manage/printers/{printer.pk}/check/", follow=True
    )
    assert "Printer finisher is unreachable." in response.content.decode()


# ---------------------------------------------------------------- rule files


def test_validate_marks_each_error_at_its_line_and_column_and_the_active_version_keeps_serving(
    people: People, printer: Printer
) -> None:
    client = logged_in(people.printer_admin)
    rule_file = rule_file_of(printer)
    url = f"/manage/rules/{rule_file.pk}/"
    editor = client.get(url).content.decode()
    assert '<label for="id_text">Rules</label>' in editor
    assert ">Validate</button>" in editor
    broken = PORTAL_RULES + BROKEN_LINE
    line = broken.count("\n")
    checked = client.post(url, {"text": broken, "action": "check"}).content.decode()
    assert re.search(rf"line {line}, column \d+: error", checked)
    assert f'id="L{line}" value="{line}" class="error"' in checked
    assert 'id="L1"' not in checked  # only the lines around the error are listed
    saved = client.post(
        url, {"text": broken, "action": "save", "comment": "oops", "newest_seen": "1"}, follow=True
    )
    assert "Saved as version 2 (1 error)" in saved.content.decode()
    draft = RuleFileVersion.objects.get(rule_file=rule_file, number=2)
    refused = client.post(
        f"/manage/rules/versions/{draft.pk}/activate/", {"active_seen": "1"}, follow=True
    )
    assert "cannot be activated; the active version keeps serving" in refused.content.decode()
    rule_file.refresh_from_db()
    assert rule_file.active_version is not None
    assert rule_file.active_version.number == 1


def test_save_activate_diff_rollback_and_history(people: People, printer: Printer) -> None:
    client = logged_in(people.printer_admin)
    rule_file = rule_file_of(printer)
    cheaper = PORTAL_RULES.replace("0.05 staple", "0.02 staple")
    client.post(
        f"/manage/rules/{rule_file.pk}/", {"text": cheaper, "action": "save", "newest_seen": "1"}
    )
    newer = RuleFileVersion.objects.get(rule_file=rule_file, number=2)
    assert newer.author == people.printer_admin
    client.post(f"/manage/rules/versions/{newer.pk}/activate/", {"active_seen": "1"})
    rule_file.refresh_from_db()
    assert rule_file.active_version_id == newer.pk
    diff = client.get(f"/manage/rules/versions/{newer.pk}/diff/").content.decode()
    assert '<span class="remove">-*SPJob/Copy/Cost: 0.05 staple' in diff
    assert '<span class="add">+*SPJob/Copy/Cost: 0.02 staple' in diff
    history = client.get(f"/manage/rules/{rule_file.pk}/").content.decode()
    assert "pat" in history
    assert "Roll back to" in history
    assert "(active)" in history
    first = RuleFileVersion.objects.get(rule_file=rule_file, number=1)
    client.post(f"/manage/rules/versions/{first.pk}/activate/", {"active_seen": "2"})
    rule_file.refresh_from_db()
    assert rule_file.active_version_id == first.pk


def test_explain_a_sample_job_against_a_version(people: People, printer: Printer) -> None:
    client = logged_in(people.printer_admin)
    rule_file = rule_file_of(printer)
    url = f"/manage/rules/versions/{rule_file.active_version_id}/explain/"
    options = "sides=two-sided-long-edge\norg.savapage-finishings-staple=20"
    data = {"printer": printer.pk, "pages": 4, "copies": 1, "options": options}
    page = client.post(url, data).content.decode()
    assert "The rules allow this job." in page
    assert "staple" in page
    assert "0.37" in page
    assert "finishings" in page
    assert "4 sides, 2 sheets per copy" in page
    one_page = client.post(url, {**data, "pages": 1, "options": "sides=one-sided"}).content
    assert "1 side, 1 sheet per copy" in one_page.decode()
    forbidden = {**data, "options": options + "\nmedia=iso_a5_148x210mm"}
    assert "no-staple-a5" in client.post(url, forbidden).content.decode()
    malformed = client.post(url, {**data, "options": "just words"}).content.decode()
    assert "is not attribute=value" in malformed


def test_explain_prices_a_booklet_imposed_here_as_a_release_does(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    # A booklet imposed here prints two-sided whatever the job says: Explain refused it
    # (a booklet cannot be one-sided, the printer's default) while the release printed it.
    version = rule_file_save("office-finisher", PORTAL_RULES + "*SPLocalBooklet: True\n")
    rule_file_activate(version.pk)
    printer = Printer.objects.select_related("rule_file").get(pk=printer.pk)
    options = {"org.savapage-finishings-booklet": "toleft-totop", "number-up": "2"}
    quote = job_quote(held(people.staff, pages=6), printer, options)
    assert quote.problems == []
    page = logged_in(people.printer_admin).post(
        f"/manage/rules/versions/{version.pk}/explain/",
        {
            "printer": printer.pk,
            "pages": 6,
            "copies": 1,
            "options": "\n".join(f"{name}={value}" for name, value in options.items()),
        },
    )
    explained = page.content.decode()
    assert "The rules allow this job." in explained
    assert f"<strong>{quote.total}</strong>" in explained


def test_new_rule_file_and_a_clashing_name(people: People, printer: Printer) -> None:
    client = logged_in(people.printer_admin)
    response = client.post("/manage/rules/new/", {"name": "copy-shop"}, follow=True)
    assert response.status_code == 200
    assert RuleFile.objects.filter(name="copy-shop").exists()
    # Each refusal is read with the Name field, which keeps what was typed.
    again = client.post("/manage/rules/new/", {"name": "copy-shop"}, follow=True)
    assert error_at(again.content, "name") == "A rule file named copy-shop exists already."
    assert 'value="copy-shop"' in again.content.decode()
    unnamed = client.post("/manage/rules/new/", {"name": "  "}, follow=True)
    assert error_at(unnamed.content, "name") == "Give the new rule file a name."
    too_long = client.post("/manage/rules/new/", {"name": "x" * 121}, follow=True)
    assert error_at(too_long.content, "name") == (
        "Ensure this value has at most 120 characters (it has 121)."
    )
    assert not RuleFile.objects.filter(name__startswith="xxx").exists()


# ---------------------------------------------------------------- accounts and users


def test_deposit_adjust_with_reason_and_credit_limit(people: People) -> None:
    client = logged_in(people.printer_admin)
    account = people.staff.personal_account
    url = f"/manage/accounts/{account.pk}"
    client.post(f"{url}/deposit/", {"deposit-amount": "5.50", "deposit-reason": "cash"})
    no_reason = client.post(f"{url}/adjust/", {"adjust-amount": "-1"}, follow=True)
    assert error_at(no_reason.content, "adjust-reason") == "This field is required."
    client.post(f"{url}/adjust/", {"adjust-amount": "-1.00", "adjust-reason": "misprint"})
    bad = client.post(f"{url}/deposit/", {"deposit-amount": "1.234"}, follow=True)
    assert "has 3 decimals" in error_at(bad.content, "deposit-amount")
    client.post(f"{url}/limit/", {"limit-amount": "10"})
    account.refresh_from_db()
    assert account.balance == Decimal("24.50")
    assert account.credit_limit == Decimal("10.00")
    kinds = list(LedgerEntry.objects.filter(account=account).values_list("kind", flat=True))
    assert {EntryKind.DEPOSIT, EntryKind.ADJUSTMENT, EntryKind.LIMIT} <= set(kinds)
    page = client.get(f"{url}/").content.decode()
    assert "misprint" in page
    assert "24.50 EUR" in page


def test_a_german_page_takes_and_shows_amounts_with_a_decimal_comma(people: People) -> None:
    client = logged_in(people.printer_admin)
    client.cookies["django_language"] = "de"
    account = people.staff.personal_account
    url = f"/manage/accounts/{account.pk}"
    client.post(f"{url}/deposit/", {"deposit-amount": "1000,50", "deposit-reason": "bar"})
    refused = client.post(f"{url}/deposit/", {"deposit-amount": "2.50"}, follow=True)
    assert "ist kein Betrag: schreiben Sie Ziffern wie 12,50" in refused.content.decode()
    client.post(f"{url}/limit/", {"limit-amount": "7,5"})
    account.refresh_from_db()
    assert (account.balance, account.credit_limit) == (Decimal("1020.50"), Decimal("7.50"))
    page = client.get(f"{url}/").content.decode()
    assert "1.020,50 EUR" in page
    # The limit form shows the limit as the page would take it back.
    assert 'value="7,50"' in page


def test_an_adjustment_below_the_credit_limit_is_refused_with_amounts_as_the_reader_writes_them(
    people: People,
) -> None:
    """The German page said "1029.70 ist mehr als die verfügbaren 20.00 …": amounts as Python
    writes them, not as the reader does."""
    client = logged_in(people.printer_admin)
    client.cookies["django_language"] = "de"
    account = people.staff.personal_account
    refused = client.post(
        f"/manage/accounts/{account.pk}/adjust/",
        {"adjust-amount": "-1029,70", "adjust-reason": "Fehldruck"},
        follow=True,
    )
    assert error_at(refused.content, "adjust-amount").endswith(
        ": 1.029,70 EUR ist mehr als die verfügbaren 20,00 EUR (Kontostand plus Kreditrahmen);"
        " es fehlen 1.009,70 EUR."
    )
    account.refresh_from_db()
    assert account.balance == Decimal("20.00")


def test_a_deposit_or_adjustment_submitted_twice_moves_money_once(people: People) -> None:
    client = logged_in(people.printer_admin)
    account = people.staff.personal_account
    url = f"/manage/accounts/{account.pk}"
    page = client.get(f"{url}/").content.decode()
    shown = re.findall(r'name="(deposit|adjust)-submission" value="([0-9a-f]{32})"', page)
    keys = dict(shown)
    assert set(keys) == {"deposit", "adjust"}
    deposit = {
        "deposit-amount": "5",
        "deposit-reason": "cash",
        "deposit-submission": keys["deposit"],
    }
    adjust = {"adjust-amount": "-1", "adjust-reason": "jam", "adjust-submission": keys["adjust"]}
    for _ in range(2):  # a double click
        client.post(f"{url}/deposit/", deposit)
        client.post(f"{url}/adjust/", adjust)
    account.refresh_from_db()
    assert account.balance == Decimal("24.00")  # 20 + 5 - 1
    # The same form sent with another amount (changed after going back) says so.
    changed = client.post(f"{url}/deposit/", {**deposit, "deposit-amount": "7"}, follow=True)
    assert "this form was sent already: it recorded 5.00 on personal account of" in (
        changed.content.decode()
    )
    account.refresh_from_db()
    assert account.balance == Decimal("24.00")
    # The next time the page is shown, its forms carry new keys: another deposit counts.
    again = dict(
        re.findall(
            r'name="(deposit)-submission" value="([0-9a-f]{32})"',
            client.get(f"{url}/").content.decode(),
        )
    )
    assert again["deposit"] != keys["deposit"]
    client.post(f"{url}/deposit/", {**deposit, "deposit-submission": again["deposit"]})
    account.refresh_from_db()
    assert account.balance == Decimal("29.00")


def test_a_deposit_beyond_what_a_balance_holds_is_refused_with_a_message(
    people: People,
) -> None:
    client = logged_in(people.printer_admin)
    account = people.staff.personal_account
    url = f"/manage/accounts/{account.pk}"
    deposit = {"deposit-amount": "9999999999999.99", "deposit-reason": "cash"}
    refused = client.post(f"{url}/deposit/", deposit, follow=True)
    assert refused.status_code == 200
    shown = error_at(refused.content, "deposit-amount")
    assert "beyond the ±9999999999999.99 an account can hold" in shown
    account.refresh_from_db()
    assert account.balance == Decimal("20.00")
    assert client.get("/manage/accounts/").status_code == 200


# A change refused by its form or by the money service: (path under the shared account, what is
# sent, the field that shows why, what that says, a field whose entered value stays).
REFUSED_CHANGES = {
    "deposit of nothing": (
        "deposit/",
        {"deposit-amount": "0", "deposit-reason": "cash at the desk"},
        "deposit-amount",
        "more than zero",
        ("deposit-reason", "cash at the desk"),
    ),
    "adjustment past the credit limit": (
        "adjust/",
        {"adjust-amount": "-1029.70", "adjust-reason": "misprint"},
        "adjust-amount",
        "1,029.70 EUR is more than the 0.00 EUR available",
        ("adjust-amount", "-1029.70"),
    ),
    "adjustment without a reason": (
        "adjust/",
        {"adjust-amount": "-3.25"},
        "adjust-reason",
        "This field is required.",
        ("adjust-amount", "-3.25"),
    ),
    "credit limit not an amount": (
        "limit/",
        {"limit-amount": "lots", "limit-reason": "term"},
        "limit-amount",
        "is not an amount",
        ("limit-amount", "lots"),
    ),
    "member unknown": (
        "members/",
        {"members-usernames": "sam, nobody-here"},
        "members-usernames",
        "no user named nobody-here",
        ("members-usernames", "sam, nobody-here"),
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED_CHANGES))
def test_a_refused_account_change_leads_back_to_the_page_that_shows_why_once(
    people: People, case: str
) -> None:
    """The refusal was the answer to the POST (400): reloading it sent the change again."""
    path, sent, field, why, (kept, value) = REFUSED_CHANGES[case]
    shared = shared_account_create("Physics", actor=None)
    url = f"/manage/accounts/{shared.pk}/"
    client = logged_in(people.printer_admin)
    refused = client.post(f"{url}{path}", sent)
    assert (refused.status_code, refused["Location"]) == (302, url)
    page = client.get(url)
    assert page.status_code == 200
    assert why in error_at(page.content, field)
    assert f'name="{kept}" value="{value}"' in page.content.decode()
    assert [element.get("name") for element in parse(page.content).xpath("//*[@autofocus]")] == [
        field
    ]
    assert page_problems(page.content) == []
    # Shown once: the page opened again has empty forms.
    again = client.get(url).content.decode()
    assert 'aria-invalid="true"' not in again
    assert value not in again
    shared.refresh_from_db()
    assert (shared.balance, shared.credit_limit) == (Decimal("0.00"), Decimal("0.00"))
    assert not shared.member_users.exists()


def test_a_refused_shared_account_leads_back_to_the_list_that_shows_why(
    people: People,
) -> None:
    shared_account_create("Physics", actor=None)
    client = logged_in(people.printer_admin)
    sent = {"name": "Physics", "description": "the second one", "credit_limit": "0"}
    refused = client.post("/manage/accounts/shared/new/", sent)
    assert (refused.status_code, refused["Location"]) == (302, "/manage/accounts/")
    page = client.get("/manage/accounts/").content
    assert "exists already" in error_at(page, "name")
    assert "\nthe second one</textarea>" in page.decode()
    assert "the second one" not in client.get("/manage/accounts/").content.decode()
    assert Account.objects.filter(kind=AccountKind.SHARED).count() == 1


def test_the_account_list_says_when_it_shows_only_some(
    people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list cut at ACCOUNTS_SHOWN without a word let finance take it for every account
    (shared accounts, listed last, were the ones missing)."""
    monkeypatch.setattr(account_views, "ACCOUNTS_SHOWN", 3)
    shared_account_create("Physics", actor=None)
    client = logged_in(people.finance)
    page = client.get("/manage/accounts/").content.decode()
    assert "Showing the first 3 of 5 accounts: find an account by name to see the others." in page
    assert "Physics" not in page
    found = client.get("/manage/accounts/?q=phys").content.decode()
    assert "Physics" in found
    assert "Showing the first" not in found


def test_every_transaction_of_an_account_can_be_read_a_page_at_a_time(people: People) -> None:
    """The account page showed the latest 100 rows and nothing more, without saying so."""
    account = Account.objects.get(owner=people.staff)
    for number in range(1, 151):
        account_deposit(account.pk, Decimal("1.00"), actor=None, reason=f"deposit number {number}")
    client = logged_in(people.finance)
    first = client.get(f"/manage/accounts/{account.pk}/").content.decode()
    assert "Transactions 1–100 of 151, newest first." in first
    assert "deposit number 150<" in first
    assert "deposit number 50<" not in first
    assert f'<a href="/manage/accounts/{account.pk}/?page=2" rel="next">Older' in first
    second = client.get(f"/manage/accounts/{account.pk}/?page=2").content.decode()
    assert "Transactions 101–151 of 151, newest first." in second
    assert "deposit number 1<" in second
    assert "deposit number 51<" not in second
    assert f'<a href="/manage/accounts/{account.pk}/?page=1" rel="prev">Newer' in second
    # A page that is not there shows the nearest one.
    assert client.get(f"/manage/accounts/{account.pk}/?page=x").status_code == 200


def test_shared_account_with_members(people: People) -> None:
    client = logged_in(people.printer_admin)
    response = client.post(
        "/manage/accounts/shared/new/", {"name": "Physics", "credit_limit": "50"}, follow=True
    )
    assert "Shared account Physics opened." in response.content.decode()
    shared = Account.objects.get(kind=AccountKind.SHARED, name="Physics")
    client.post(f"/manage/accounts/{shared.pk}/members/", {"members-usernames": "sam"})
    assert list(shared.member_users.all()) == [people.staff]
    unknown = client.post(
        f"/manage/accounts/{shared.pk}/members/", {"members-usernames": "nobody"}, follow=True
    )
    assert "no user named nobody" in unknown.content.decode()
    listing = client.get("/manage/accounts/?q=phys").content.decode()
    assert "Physics" in listing
    assert "sam" not in listing


def test_remove_members_in_the_portal_with_who_did_it_on_the_account_page(
    people: People,
) -> None:
    client = logged_in(people.printer_admin)
    client.post("/manage/accounts/shared/new/", {"name": "Physics", "credit_limit": "0"})
    shared = Account.objects.get(kind=AccountKind.SHARED, name="Physics")
    url = f"/manage/accounts/{shared.pk}"
    client.post(f"{url}/members/", {"members-usernames": "sam, olga"})
    page = client.get(f"{url}/").content.decode()
    assert 'name="action" value="remove"' in page
    assert f'name="remove-users" value="{people.staff.pk}"' in page
    removed = client.post(
        f"{url}/members/", {"action": "remove", "remove-users": [people.staff.pk]}, follow=True
    )
    assert "Saved." in removed.content.decode()
    assert list(shared.member_users.all()) == [people.other_staff]
    stale = client.post(
        f"{url}/members/", {"action": "remove", "remove-users": [people.staff.pk]}, follow=True
    )
    assert "Select a valid choice." in stale.content.decode()
    nothing = client.post(f"{url}/members/", {"action": "remove"}, follow=True)
    assert "name at least one user or group." in nothing.content.decode()
    rows = re.findall(
        r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>",
        (client.get(f"{url}/").content.decode()),
    )
    assert rows[:2] == [
        ("members change", "pat", "members removed: sam"),
        ("members change", "pat", "members added: olga, sam"),
    ]
    assert list(shared.member_users.all()) == [people.other_staff]


def test_create_a_user_in_a_role(people: People) -> None:
    client = logged_in(people.printer_admin)
    weak = client.post(
        "/manage/users/", {"username": "nia", "password": "123", "role": "Staff"}, follow=True
    )
    assert "too short" in weak.content.decode()
    client.post(
        "/manage/users/", {"username": "nia", "password": "a long enough password", "role": "Staff"}
    )
    nia = User.objects.get(username="nia")
    assert nia.role_names == ["Staff"]
    page = client.get("/manage/users/").content.decode()
    assert "nia" in page
    assert "Printer admin" in page


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("bad name!", "This value may contain only letters, numbers, and @/./+/-/_ characters."),
        ("a/b", "This value may contain only letters, numbers, and @/./+/-/_ characters."),
        ("@Staff", "may not start with &#x27;@&#x27; or contain &#x27;:&#x27;"),
        ("shared:x", "may not start with &#x27;@&#x27; or contain &#x27;:&#x27;"),
    ],
)
def test_a_username_the_command_line_or_django_cannot_use_is_refused(
    people: People, username: str, message: str
) -> None:
    response = logged_in(people.printer_admin).post(
        "/manage/users/",
        {"username": username, "password": "a long enough password", "role": "Staff"},
        follow=True,
    )
    assert response.redirect_chain == [("/manage/users/", 302)]
    assert message in response.content.decode()
    assert not User.objects.filter(username=username).exists()


def test_listing_shows_context_around_diagnostics_with_gaps() -> None:
    text = "\n".join(f"line {number}" for number in range(1, 21))
    bad = Diagnostic("f.ppde", 10, 3, "ne", Severity.ERROR, "broken")
    shown = listing(text, (bad,), context=2)
    assert [line.number for line in shown] == [8, 9, 10, 11, 12]
    assert shown[0].gap_before
    assert not shown[1].gap_before
    assert shown[2].severity == "error"
    assert shown[2].marks[0].caret == "  ^"
    assert len(listing(text, ())) == 20
