"""Relaxed import's rewriting: whole logical lines become comments, the rest stays as it was."""

from __future__ import annotations

import pytest

from apps.rules.relaxed import CannotSkip, comment_out_errors
from printmgmt.ppde import MAX_FILE_BYTES, Severity, parse

MAPPING = "*Staple org.savapage-finishings-staple\n*Staple *None 3\n"


def test_a_clean_text_is_kept_as_it_is() -> None:
    assert comment_out_errors(MAPPING, filename="f.ppde") == (MAPPING, ())


def test_a_continued_line_is_commented_out_whole_up_to_the_blank_line_that_ends_it() -> None:
    text = MAPPING + "*Bad/Directive: a \\\n    b \\\n\n*Staple TopLeft 20\n"
    rewritten, skipped = comment_out_errors(text, filename="f.ppde")
    assert rewritten.split("\n")[2:] == [
        "# skipped on import: line 3: unknown directive '*Bad/Directive:': *Bad/Directive: a \\",
        "# skipped on import: line 4: continues line 3:     b \\",
        "",
        "*Staple TopLeft 20",
        "",
    ]
    assert [(d.line, d.severity) for d in skipped] == [(3, Severity.WARNING)]
    assert parse(rewritten, filename="f.ppde").diagnostics == ()


def test_a_continuation_at_the_end_of_the_file_is_commented_out() -> None:
    rewritten, _ = comment_out_errors(MAPPING + "*Bad/x: a \\\n  # note", filename="f.ppde")
    assert rewritten.endswith("*Bad/x: a \\\n  # note")
    assert rewritten.split("\n")[2].startswith("# skipped on import: line 3: ")


def test_choice_lines_of_a_refused_mapping_are_commented_out_too() -> None:
    text = "*Staple org.savapage-finishings-nonsense\n*Staple *None 3\n*Staple TopLeft 20\n"
    rewritten, skipped = comment_out_errors(text, filename="f.ppde")
    assert [d.line for d in skipped] == [1, 2, 3]
    assert all(line.startswith("# skipped on import: ") for line in rewritten.split("\n")[:3])
    assert parse(rewritten, filename="f.ppde").diagnostics == ()


def test_an_error_that_no_line_holds_cannot_be_skipped() -> None:
    text = "# too large\n" + "x" * MAX_FILE_BYTES
    with pytest.raises(CannotSkip, match=r"f\.ppde:1:1: error: file is"):
        comment_out_errors(text, filename="f.ppde")
