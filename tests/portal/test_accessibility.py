"""Every page a staff user, a printer admin or finance opens, as the server renders it, in both
languages and with its forms' errors shown, passes the checks of tests/portal/accessibility.py
(labels, errors tied to fields, lang, headings, alt texts, header scopes, names, tabindex)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.choices import AllowancePeriod
from apps.accounts.models import Allowance, User
from apps.accounts.services import shared_account_create
from apps.jobs.choices import JobState
from apps.jobs.models import Job
from apps.jobs.services import job_transition
from apps.printers.models import Printer
from apps.reports.choices import ExportState
from apps.reports.models import ReportExport, ScheduledReport
from tests.portal.accessibility import (
    error_at,
    heading_problems,
    label_of,
    language_problems,
    page_problems,
    parse,
    text_of,
)
from tests.portal.conftest import PASSWORD, People, logged_in, rule_file_of
from tests.portal.test_access import url_for

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Visit:
    """One page as one role sees it: a GET, or a POST whose answer (or the page it leads
    to) shows what was wrong."""

    role: str
    url: str
    post: dict[str, str] | None = None
    data: dict[str, str] = field(default_factory=dict)


# What each page needs: a portal URL name (see tests/portal/test_access.py) and its role.
PORTAL_PAGES = {
    "inbox": "staff",
    "release_all": "staff",
    "job": "staff",
    "history": "staff",
    "my_account": "staff",
    "devices": "staff",
    "printers": "printer_admin",
    "printer_new": "printer_admin",
    "printer_import": "printer_admin",
    "printer": "printer_admin",
    "printer_groups": "printer_admin",
    "printer_group": "printer_admin",
    "rules": "printer_admin",
    "rule": "printer_admin",
    "rule_version": "printer_admin",
    "rule_diff": "printer_admin",
    "rule_explain": "printer_admin",
    "accounts": "printer_admin",
    "account": "printer_admin",
    "allowances": "printer_admin",
    "allowance": "printer_admin",
    "users": "printer_admin",
    "user": "printer_admin",
}

# Pages with what was wrong in the last form: name -> (role, URL name, what is sent, the field
# that must show the error and take the focus). A "document" sent is a file of those bytes.
# Port 9 (discard) answers nobody.
UNREACHABLE = "ipp://127.0.0.1:9/ipp/print"

WITH_ERRORS: dict[str, tuple[str, str, dict[str, str], str]] = {
    "release: copies 0": ("staff", "job", {"action": "release", "copies": "0"}, "copies"),
    "release all: no printer": (
        "staff",
        "release_all",
        {"printer": "", "account": ""},
        "printer",
    ),
    "default printer: none": ("staff", "default_printer", {"printer": "999999"}, "printer"),
    "upload: no file": ("staff", "upload", {}, "document"),
    "upload: not a document": ("staff", "upload", {"document": "\x00\x01\x02"}, "document"),
    "upload: empty file": ("staff", "upload", {"document": ""}, "document"),
    "deposit: not an amount": (
        "printer_admin",
        "account_deposit",
        {"deposit-amount": "x"},
        "deposit-amount",
    ),
    "deposit: nothing": (
        "printer_admin",
        "account_deposit",
        {"deposit-amount": "0"},
        "deposit-amount",
    ),
    "adjust: no reason": (
        "printer_admin",
        "account_adjust",
        {"adjust-amount": "-1"},
        "adjust-reason",
    ),
    "adjust: not an amount": (
        "printer_admin",
        "account_adjust",
        {"adjust-amount": "1.234", "adjust-reason": "jam"},
        "adjust-amount",
    ),
    "credit limit: not an amount": (
        "printer_admin",
        "account_limit",
        {"limit-amount": "lots"},
        "limit-amount",
    ),
    "members: unknown user": (
        "printer_admin",
        "account_members",
        {"members-usernames": "nobody-here"},
        "members-usernames",
    ),
    "new user: no name": (
        "printer_admin",
        "users",
        {"username": "", "password": "x"},
        "username",
    ),
    "new allowance: nothing": ("printer_admin", "allowance_new", {"amount": "-1"}, "group"),
    "allowance: negative": (
        "printer_admin",
        "allowance",
        {"amount": "-1", "period": "x"},
        "group",
    ),
    "user: no role": ("printer_admin", "user", {"roles": "nonsense"}, "roles"),
    "printer: bad price": (
        "printer_admin",
        "printer",
        {
            "used_by": "everyone",
            "prices-TOTAL_FORMS": "1",
            "prices-INITIAL_FORMS": "0",
            "prices-0-media_size": "iso_a4_210x297mm",
            "prices-0-one_sided": "a lot",
        },
        "prices-0-one_sided",
    ),
    # Refused by the printer service, not the form: told at the field they are about.
    "printer: not a certificate": (
        "printer_admin",
        "printer",
        {
            "used_by": "everyone",
            "prices-TOTAL_FORMS": "0",
            "prices-INITIAL_FORMS": "0",
            "trusted_certificate": "not a certificate",
        },
        "trusted_certificate",
    ),
    "printer: a price row twice": (
        "printer_admin",
        "printer",
        {
            "used_by": "everyone",
            "prices-TOTAL_FORMS": "2",
            "prices-INITIAL_FORMS": "0",
            **{
                f"prices-{row}-{name}": value
                for row in (0, 1)
                for name, value in (
                    ("media_size", "iso_a4_210x297mm"),
                    ("one_sided", "0.30"),
                    ("two_sided", "0.25"),
                )
            },
        },
        "prices-1-media_size",
    ),
    "printer group: no printers": (
        "printer_admin",
        "printer_groups",
        {"name": "floor-2"},
        "printers",
    ),
    "printer group edit: no printers": ("printer_admin", "printer_group", {}, "printers"),
    "printer group: no name": ("printer_admin", "printer_groups", {"name": ""}, "name"),
    "printer group edit: bad": (
        "printer_admin",
        "printer_group",
        {"printers": "999999"},
        "printers",
    ),
    "new printer: no name": ("printer_admin", "printer_new", {"uri": UNREACHABLE}, "name"),
    # Refused by the printer service, not the form: told at the field they are about.
    "new printer: not a printer address": (
        "printer_admin",
        "printer_new",
        {"name": "lobby", "uri": "mailto:x"},
        "uri",
    ),
    "new printer: unreachable address": (
        "printer_admin",
        "printer_new",
        {"name": "lobby", "uri": UNREACHABLE},
        "uri",
    ),
    "new printer: probe of an unreachable address": (
        "printer_admin",
        "printer_new",
        {"action": "probe", "name": "lobby", "uri": UNREACHABLE},
        "uri",
    ),
    "new printer: unusable name": (
        "printer_admin",
        "printer_new",
        {"name": "-lobby", "uri": UNREACHABLE},
        "name",
    ),
    "new printer: name taken": (
        "printer_admin",
        "printer_new",
        {"name": "finisher", "uri": UNREACHABLE},
        "name",
    ),
    "CUPS import: no address": (
        "printer_admin",
        "printer_import",
        {"server_uri": ""},
        "server_uri",
    ),
    "CUPS import: not a printer address": (
        "printer_admin",
        "printer_import",
        {"server_uri": "nonsense"},
        "server_uri",
    ),
    "CUPS import: unreachable address": (
        "printer_admin",
        "printer_import",
        {"server_uri": "ipp://127.0.0.1:9/"},
        "server_uri",
    ),
    "rule: text too long": (
        "printer_admin",
        "rule",
        {"action": "save", "comment": "x" * 300},
        "comment",
    ),
    "rule explain: bad job": ("printer_admin", "rule_explain", {"copies": "0"}, "copies"),
    "new rule file: no name": ("printer_admin", "rule_new", {"name": ""}, "name"),
    "new rule file: name too long": ("printer_admin", "rule_new", {"name": "x" * 121}, "name"),
    "new rule file: name taken": ("printer_admin", "rule_new", {"name": "__taken__"}, "name"),
    "shared account: no name": ("printer_admin", "shared_account_new", {"name": ""}, "name"),
    "shared account: name taken": (
        "printer_admin",
        "shared_account_new",
        {"name": "Physics", "credit_limit": "0"},
        "name",
    ),
    "shared account: bad limit": (
        "printer_admin",
        "shared_account_new",
        {"name": "Chemistry", "credit_limit": "much"},
        "credit_limit",
    ),
}


def with_rows(name: str, people: People, printer: Printer, held: Callable[..., Job]) -> None:
    """Two of the rows a page lists, where a row has its own buttons: they must differ."""
    if name == "history":
        for title in ("Budget 2027", "Minutes"):
            job_transition(held(people.staff, title=title).pk, JobState.RELEASED, reason="test")
    if name == "allowances":
        for group in Group.objects.all()[:2]:
            Allowance.objects.create(
                group=group, amount=Decimal("1.00"), period=AllowancePeriod.WEEKLY
            )


def client_of(role: str, people: People) -> Client:
    if role == "anonymous":
        return Client()
    user: User = getattr(people, role)
    return logged_in(user)


def answer(client: Client, url: str, post: dict[str, object] | None, language: str) -> str:
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    if post is None:
        response = client.get(url, **headers)  # type: ignore[arg-type]
    else:
        response = client.post(url, post, follow=True, **headers)  # type: ignore[arg-type]
    assert response.status_code in (200, 400, 409), f"{url}: {response.status_code}"
    return str(response.content.decode())


def assert_accessible(page: str, language: str, what: str) -> None:
    problems = page_problems(page, language)
    assert not problems, f"{what} ({language}):\n" + "\n".join(problems)


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("name", sorted(PORTAL_PAGES))
def test_portal_page_is_accessible(
    name: str, language: str, people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff, pages=2, title="Budget 2027")
    with_rows(name, people, printer, held)
    url = url_for(name, job, printer, people)
    page = answer(client_of(PORTAL_PAGES[name], people), url, None, language)
    assert_accessible(page, language, url)


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("case", sorted(WITH_ERRORS))
def test_page_with_errors_is_accessible(
    case: str, language: str, people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    role, name, sent, wrong = WITH_ERRORS[case]
    job = held(people.staff, pages=2, title="Budget 2027")
    url = url_for(name, job, printer, people)
    posted: dict[str, object] = dict(sent)
    if name == "rule":
        posted["text"] = rule_file_of(printer).active_version.text  # type: ignore[union-attr]
    if "document" in sent:
        posted["document"] = SimpleUploadedFile("notes.pdf", sent["document"].encode())
    if sent.get("name") == "__taken__":
        posted["name"] = rule_file_of(printer).name
    shared = shared_account_create("Physics", actor=None)
    if name == "account_members":
        url = reverse("portal:account_members", args=[shared.pk])
    page = answer(client_of(role, people), url, posted, language)
    assert_accessible(page, language, f"{case}: {url}")
    # The error is read with its field, not only a message at the top of the page.
    assert error_at(page, wrong), f"{case}: {wrong!r} is not marked wrong, with why"


@pytest.mark.parametrize("language", ["en", "de"])
def test_pages_without_login_are_accessible(language: str, people: People) -> None:
    client = Client()
    assert_accessible(answer(client, "/login/", None, language), language, "/login/")
    refused = answer(
        client, "/login/", {"username": "sam", "password": "wrong " + PASSWORD}, language
    )
    assert_accessible(refused, language, "/login/ refused")
    staff = logged_in(people.staff)
    assert_accessible(answer(staff, "/", None, language), language, "/")
    missing = staff.get("/jobs/999999/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert_accessible(missing, language, "404")


@pytest.mark.parametrize("language", ["en", "de"])
def test_report_pages_are_accessible(language: str, people: People, printer: Printer) -> None:
    client = logged_in(people.finance)
    today = timezone.localdate()
    export = ReportExport.objects.create(
        kind="records",
        format="csv",
        requested_by=people.finance,
        parameters={},
        state=ExportState.DONE,
        expires_at=timezone.now() + timedelta(days=1),
    )
    for name in ("Monthly", "Weekly"):
        scheduled = ScheduledReport.objects.create(
            name=name,
            period="yesterday",
            grouping="user",
            format="csv",
            recipients="fin@example.org",
            created_by=people.finance,
        )
    # The last one was stopped for a filter naming a user who is gone.
    scheduled.filters = {"user": "ghost"}
    scheduled.stopped_at = timezone.now()
    scheduled.stopped_because = "its user filter: no user is named 'ghost'."
    scheduled.save()
    edit = reverse("reports:schedule_edit", args=[scheduled.pk])
    for url in (
        reverse("reports:index"),
        f"{reverse('reports:index')}?start={today}&end={today}&grouping=user",
        f"{reverse('reports:index')}?start=yesterday&end={today}&grouping=user",
        reverse("reports:export", args=[export.pk]),
        reverse("reports:schedules"),
        edit,
    ):
        assert_accessible(answer(client, url, None, language), language, url)
    refused = answer(client, reverse("reports:schedules"), {"name": ""}, language)
    assert_accessible(refused, language, "schedules refused")
    refused = answer(client, edit, {"name": ""}, language)
    assert_accessible(refused, language, "schedule edit refused")


def test_page_thumbnails_name_the_page_and_the_document(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff, pages=2, title="Budget 2027")
    root = parse(logged_in(people.staff).get(f"/jobs/{job.pk}/").content)
    thumbnails = root.xpath("//ul[@class='thumbs']//img")
    assert [image.get("alt") for image in thumbnails] == [
        "Page 1 of Budget 2027",
        "Page 2 of Budget 2027",
    ]
    ticks = root.xpath("//input[@name='pick']")
    assert [label_of(tick, root) for tick in ticks] == [
        "Page 1 of Budget 2027",
        "Page 2 of Budget 2027",
    ]


def test_the_server_error_page_is_in_the_readers_language(
    people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(user: User) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("apps.portal.selectors.held_jobs_of", broken)
    client = logged_in(people.staff)
    client.raise_request_exception = False
    response = client.get("/inbox/", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 500
    root = parse(response.content)
    assert language_problems(root, "de") == []
    assert heading_problems(root) == []


def relative_luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    red, green, blue = (
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    )
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_focus_ring_stands_out_from_the_page() -> None:
    """The ring is drawn 2px outside the element, on the page or a card: 3:1 against both."""
    css = (settings.BASE_DIR / "static" / "css" / "site.css").read_text()
    ring = re.search(r":focus-visible \{ outline: 3px solid (#[0-9a-f]{6});", css)
    assert ring is not None
    page = re.search(r"body \{[^}]*background: (#[0-9a-f]{6})", css)
    assert page is not None
    for background in (page.group(1), "#ffffff"):
        assert contrast(ring.group(1), background) >= 3, background


def test_the_checker_finds_what_a_screen_reader_misses() -> None:
    """The checker itself: each rule names what fails."""
    page = (
        '<html lang="en"><body><a href="#main">Skip</a><main id="main"><h1>T</h1><h3>x</h3>'
        '<input name="q" placeholder="Search"><img src="a.png"><button><img src="x.png" alt="">'
        '</button><table><tr><th>A</th></tr></table><a href="/" tabindex="2">b</a>'
        '<ul class="errorlist"><li>bad</li></ul>'
        '<input id="n" aria-label="N" aria-invalid="true" aria-describedby="gone">'
        '<label><img alt="Page 2" src="2.png"> <input type="checkbox"> Page 2</label>'
        '<form action="/1/"><button>Cancel</button></form>'
        '<form action="/2/"><button>Cancel</button></form>'
        '<fieldset><legend>Roles</legend><label><input type="checkbox" name="r" autofocus> A'
        '</label><label><input type="checkbox" name="r" autofocus> B</label></fieldset>'
        "</main></body>"
        "</html>"
    )
    problems = "\n".join(page_problems(page, "de"))
    for expected in (
        '<html lang="en">',
        "<h3> 'x' follows <h1>",
        '<input name="q"> has no label',
        "has no alt text",
        "<button> has no accessible name",
        "<th> 'A' has no scope",
        "tabindex 2",
        "the error 'bad' is tied to no field",
        'aria-describedby names "gone"',
        "is marked invalid without saying why",
        "does not get the focus",
        "2 buttons named 'Cancel' send different forms",
        "is labelled 'Page 2 Page 2': the same words twice",
        "2 elements have autofocus, not one",
    ):
        assert expected in problems
    paragraph = parse('<p>a <img alt="b"> <span aria-hidden="true">c</span></p>')
    assert text_of(paragraph, paragraph) == "a b"
