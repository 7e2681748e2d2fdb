"""The rule-file editor: listing, concurrent saves, rollback, relaxed uploads, big pastes."""

from __future__ import annotations

import pytest

from apps.portal.rule_listing import diff_lines, listing
from printmgmt.ppde import parse


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
