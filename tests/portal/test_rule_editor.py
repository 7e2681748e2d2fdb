"""The rule-file editor: listing, concurrent saves, rollback, relaxed uploads, big pastes."""

from __future__ import annotations

import html
import re

import pytest

from apps.portal.rule_listing import diff_lines, listing
from apps.printers.models import Printer
from printmgmt.ppde import parse
from tests.portal.conftest import People, logged_in, rule_file_of


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


def test_diff_keeps_a_line_with_a_form_feed_whole() -> None:
    diff = diff_lines("a\fb\nc", "a\fb\nd", old_name="v1", new_name="v2")
    assert [(line.kind, line.text) for line in diff] == [
        ("hunk", "@@ -1,2 +1,2 @@"),
        ("context", " a\fb"),
        ("remove", "-c"),
        ("add", "+d"),
    ]


# ---------------------------------------------------------------- the editor in use


def textarea(page: str) -> str:
    found = re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", page, re.DOTALL)
    assert found is not None
    return html.unescape(found.group(1))


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
