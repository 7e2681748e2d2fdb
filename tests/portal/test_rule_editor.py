"""The rule-file editor: listing, concurrent saves, rollback, relaxed uploads, big pastes."""

from __future__ import annotations

import html
import re

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from apps.accounts.roles import PRINTER_ADMIN
from apps.portal.rule_listing import diff_lines, listing
from apps.printers.models import Printer
from apps.rules.models import RuleFileVersion
from printmgmt.ppde import parse
from tests.portal.conftest import PORTAL_RULES, People, logged_in, person, rule_file_of


@pytest.mark.parametrize("separator", ["\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_listing_numbers_lines_as_the_parser_does(separator: str) -> None:
    # A comment holding a character str.splitlines() splits at, then an error on line 3.
    text = f"# a{separator}b\n*Staple org.savapage-finishings-staple\n*Bad/Directive: x\n"
    diagnostics = parse(text, filename="f.ppde").diagnostics
    assert [d.line for d in diagnostics] == [3]
    lines = listing(text, diagnostics)
    assert [line.number for line in lines] == [1, 2, 3]
    assert lines[2].text == "*Bad/Directive: x"
    assert lines[2].severity == "error"
    assert lines[0].text == f"# a{separator}b"


CONTINUED = (
    "*Staple org.savapage-finishings-staple\n"
    "*Staple *None 3\n"
    "*SPJob/Copy/Cost: 0.05 staple \\\n"
    "    org.savapage-finishings-staple/20 bogus\n"
)


def test_a_problem_on_a_continued_line_is_marked_where_the_word_is() -> None:
    # The diagnostic says line 3 and the column in the joined directive (spec §1): the
    # caret hung past the end of line 3, and "line 3, column 65" pointed at nothing.
    (diagnostic,) = parse(CONTINUED, filename="f.ppde").diagnostics
    assert (diagnostic.line, diagnostic.column, diagnostic.word) == (3, 65, "bogus")
    marked = [line for line in listing(CONTINUED, (diagnostic,)) if line.marks]
    assert [line.number for line in marked] == [4]
    (mark,) = marked[0].marks
    assert (mark.line, mark.column) == (4, 39)
    assert marked[0].text[mark.column - 1 :] == "bogus"
    assert mark.caret == " " * 38 + "^"


def test_diff_keeps_a_line_with_a_form_feed_whole() -> None:
    diff = diff_lines("a\fb\nc", "a\fb\nd", old_name="v1", new_name="v2")
    assert [(line.kind, line.text) for line in diff] == [
        ("hunk", "@@ -1,2 +1,2 @@"),
        ("context", " a\fb"),
        ("remove", "-c"),
        ("add", "+d"),
    ]


# ---------------------------------------------------------------- the editor in use


def newest_seen(page: str) -> str:
    found = re.search(r'name="newest_seen" value="(\d+)"', page)
    assert found is not None
    return found.group(1)


def textarea(page: str) -> str:
    found = re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", page, re.DOTALL)
    assert found is not None
    return html.unescape(found.group(1))


@pytest.mark.django_db
def test_a_save_from_an_older_version_is_refused_and_keeps_the_text_with_a_diff(
    people: People, printer: Printer
) -> None:
    rule_file = rule_file_of(printer)
    url = f"/manage/rules/{rule_file.pk}/"
    pat = logged_in(people.printer_admin)
    root = logged_in(person("root", PRINTER_ADMIN))
    opened_by_pat, opened_by_root = pat.get(url).content.decode(), root.get(url).content.decode()
    assert newest_seen(opened_by_pat) == newest_seen(opened_by_root) == "1"
    pats = PORTAL_RULES.replace("0.05 staple", "0.02 staple")
    pat.post(url, {"text": pats, "action": "save", "newest_seen": "1"})
    roots = PORTAL_RULES + "# root's note\n"
    refused = root.post(url, {"text": roots, "action": "save", "newest_seen": "1"})
    page = refused.content.decode()
    saved = RuleFileVersion.objects.get(rule_file=rule_file, number=2)
    when = date_format(timezone.localtime(saved.created_at), "SHORT_DATETIME_FORMAT")
    assert (
        html.unescape(page).count(
            f"Not saved: version 2 by pat on {when} came after version 1, the newest you had seen. "
            "Your text is still in the editor"
        )
        == 1
    )
    assert textarea(page) == roots
    assert '<span class="remove">-*SPJob/Copy/Cost: 0.05 staple' in page
    assert '<span class="add">+*SPJob/Copy/Cost: 0.02 staple' in page
    assert RuleFileVersion.objects.filter(rule_file=rule_file).count() == 2
    # root has now seen version 2: merged, the save goes through.
    assert newest_seen(page) == "2"
    merged = pats + "# root's note\n"
    root.post(url, {"text": merged, "action": "save", "newest_seen": newest_seen(page)})
    assert RuleFileVersion.objects.get(rule_file=rule_file, number=3).text == merged


def active_seen(page: str, version: RuleFileVersion) -> str:
    """The active version an Activate (or Roll back) button of `page` says it saw."""
    action = f'action="/manage/rules/versions/{version.pk}/activate/"'
    found = re.search(re.escape(action) + r'.*?name="active_seen" value="(\d+)"', page, re.DOTALL)
    assert found is not None
    return found.group(1)


@pytest.mark.django_db
def test_an_activation_from_a_page_opened_before_another_one_is_refused_naming_it(
    people: People, printer: Printer
) -> None:
    rule_file = rule_file_of(printer)
    url = f"/manage/rules/{rule_file.pk}/"
    pat = logged_in(people.printer_admin)
    root = logged_in(person("root", PRINTER_ADMIN))
    cheaper = PORTAL_RULES.replace("0.05 staple", "0.02 staple")
    pat.post(url, {"text": cheaper, "action": "save", "newest_seen": "1"})
    fixed = cheaper + "# fixed\n"
    pat.post(url, {"text": fixed, "action": "save", "newest_seen": "2"})
    second, third = RuleFileVersion.objects.filter(rule_file=rule_file, number__gt=1).order_by(
        "number"
    )
    pats_page, roots_page = pat.get(url).content.decode(), root.get(url).content.decode()
    pat.post(
        f"/manage/rules/versions/{third.pk}/activate/",
        {"active_seen": active_seen(pats_page, third)},
    )
    # root's page still shows version 1 active: its "Activate" on v2 would roll back v3.
    assert active_seen(roots_page, second) == "1"
    refused = root.post(
        f"/manage/rules/versions/{second.pk}/activate/",
        {"active_seen": active_seen(roots_page, second)},
        follow=True,
    ).content.decode()
    rule_file.refresh_from_db()
    assert rule_file.active_version_id == third.pk
    activation = third.activations.get()
    when = date_format(timezone.localtime(activation.activated_at), "SHORT_DATETIME_FORMAT")
    assert (
        f"Version 2 was not activated: pat activated version 3 on {when}, after this page "
        "showed version 1 active." in html.unescape(refused)
    )
    # Seen, the rollback is root's to make.
    root.post(
        f"/manage/rules/versions/{second.pk}/activate/",
        {"active_seen": active_seen(refused, second)},
    )
    rule_file.refresh_from_db()
    assert rule_file.active_version_id == second.pk


@pytest.mark.django_db
def test_after_a_rollback_the_editor_opens_on_the_active_version_and_names_newer_drafts(
    people: People, printer: Printer
) -> None:
    client = logged_in(people.printer_admin)
    rule_file = rule_file_of(printer)
    url = f"/manage/rules/{rule_file.pk}/"
    cheaper = PORTAL_RULES.replace("0.05 staple", "0.02 staple")
    saved = client.post(url, {"text": cheaper, "action": "save", "newest_seen": "1"})
    # The editor goes on with the draft just saved.
    assert saved["Location"] == f"{url}?version=2"
    assert textarea(client.get(saved["Location"]).content.decode()) == cheaper
    second = RuleFileVersion.objects.get(rule_file=rule_file, number=2)
    first = RuleFileVersion.objects.get(rule_file=rule_file, number=1)
    client.post(f"/manage/rules/versions/{second.pk}/activate/", {"active_seen": "1"})
    client.post(f"/manage/rules/versions/{first.pk}/activate/", {"active_seen": "2"})
    page = client.get(url).content.decode()
    assert textarea(page) == PORTAL_RULES
    assert "The editor holds version 1, the active one." in page
    notice = page[page.index('id="newer-drafts"') :]
    assert "A version newer than the active version 1 exists" in notice
    assert f'href="{url}?version=2"' in notice
    assert f'href="/manage/rules/versions/{second.pk}/diff/?against={first.pk}"' in notice
    assert re.search(r"activated [^<]* by pat, rolling back v2</small>", page)
    assert len(re.findall(r"activated [^<]* by pat</small>", page)) == 1  # v2's activation
    assert re.search(r"activated [^<]* by a command</small>", page)  # the fixture's import
    draft = client.get(f"{url}?version=2").content.decode()
    assert textarea(draft) == cheaper
    assert "The editor holds version 2, which is not active." in draft
    assert client.get(f"{url}?version=9").status_code == 404


@pytest.mark.django_db
def test_the_editor_names_the_line_and_column_a_continued_word_is_on(
    people: People, printer: Printer
) -> None:
    client = logged_in(people.printer_admin)
    url = f"/manage/rules/{rule_file_of(printer).pk}/"
    page = client.post(url, {"text": CONTINUED, "action": "check", "newest_seen": "1"})
    checked = page.content.decode()
    assert 'data-goto-line="4" data-goto-column="39">line 4, column 39: error</a>' in checked
    assert 'id="L4" value="4" class="error"' in checked


@pytest.mark.django_db
def test_the_editor_says_when_the_active_version_breaks_a_rule_of_this_release(
    people: People, printer: Printer
) -> None:
    rule_file = rule_file_of(printer)
    url = f"/manage/rules/{rule_file.pk}/"
    client = logged_in(people.printer_admin)
    assert 'id="active-errors"' not in client.get(url).content.decode()
    # Saved and activated clean by an earlier release, before number-up was limited to 100.
    assert rule_file.active_version is not None
    RuleFileVersion.objects.filter(pk=rule_file.active_version.pk).update(
        text=PORTAL_RULES + "*Nup number-up\n*Nup *1 1\n*Nup 120 120\n"
    )
    line = PORTAL_RULES.count("\n") + 3
    page = html.unescape(client.get(url).content.decode())
    notice = page[page.index('id="active-errors"') :]
    assert (
        "Version 1, the active one, has an error under this release: printers read it without "
        f"that line. Fix it and activate the fixed version.</p>\n  <p>First: line {line}, "
        "column 10: '120' is not a number-up</p>"
    ) in notice


@pytest.mark.django_db
def test_a_paste_larger_than_a_rule_file_gets_the_parsers_size_message(
    people: People, printer: Printer
) -> None:
    client = logged_in(people.printer_admin)
    url = f"/manage/rules/{rule_file_of(printer).pk}/"
    text = "# padding\n" * 300_000  # 3 MB: more than Django's default 2.5 MB form limit
    response = client.post(url, {"text": text, "action": "check", "newest_seen": "1"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "file is 3,000,000 bytes, more than the 2,097,152 a rule file may have" in page
    assert textarea(page) == text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "counted"),
    [
        ("en", "1 error, 0 warnings"),
        ("de", "1 Fehler, 0 Warnungen"),
    ],
)
def test_one_problem_is_counted_in_the_singular(
    people: People, printer: Printer, language: str, counted: str
) -> None:
    client = logged_in(people.printer_admin)
    url = f"/manage/rules/{rule_file_of(printer).pk}/"
    page = client.post(
        url,
        {"text": "*Bad/x: y\n", "action": "check", "newest_seen": "1"},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert counted in page.content.decode()


@pytest.mark.django_db
def test_thousands_of_problems_list_the_first_200_once_with_the_count_of_the_rest(
    people: People, printer: Printer
) -> None:
    client = logged_in(people.printer_admin)
    url = f"/manage/rules/{rule_file_of(printer).pk}/"
    text = "".join(f"*Bad{n}/x: y\n" for n in range(1000))
    page = client.post(url, {"text": text, "action": "check", "newest_seen": "1"}).content
    shown = page.decode()
    assert "1000 errors, 0 warnings" in shown
    assert "the first 200 are listed, and 800 more (800 errors, 0 warnings)" in shown
    assert shown.count("unknown directive &#x27;*Bad0/x:&#x27;") == 1
    assert shown.count("unknown directive &#x27;*Bad199/x:&#x27;") == 1
    assert "*Bad200/x:&#x27;" not in shown
    assert len(page) < 1_000_000
