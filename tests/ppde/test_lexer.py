"""Spec §1: comments, continuations, words and their columns."""

from __future__ import annotations

from printmgmt.ppde.lexer import LogicalLine, logical_lines, physical_position


def lines(text: str) -> list[LogicalLine]:
    reported: list[tuple[int, int, str]] = []
    found = list(logical_lines(text, lambda *args: reported.append(args)))
    assert not reported
    return found


def words(line: LogicalLine) -> list[tuple[str, int]]:
    return [(w.text, w.column) for w in line.words]


def test_comments_and_empty_lines_are_skipped() -> None:
    found = lines("# a comment\n\n   \n  # indented comment\n*A b\n")
    assert [(line.line, words(line)) for line in found] == [(5, [("*A", 1), ("b", 4)])]


def test_hash_later_in_a_line_is_ordinary_text() -> None:
    assert words(lines("*A b#c #d")[0]) == [("*A", 1), ("b#c", 4), ("#d", 8)]


def test_columns_count_leading_white_space_and_tabs_as_one() -> None:
    assert words(lines("  *A\t\tb")[0]) == [("*A", 3), ("b", 7)]


def test_continuation_joins_with_one_space_and_reports_first_line() -> None:
    (line,) = lines("*A b \\\n      c\\\n d\n")
    assert line.line == 1
    # "*A b" + " " + "c" + " " + "d": columns in the joined logical line.
    assert words(line) == [("*A", 1), ("b", 4), ("c", 6), ("d", 8)]


def test_white_space_after_the_backslash_still_continues() -> None:
    (line,) = lines("*A \\ \n b")
    assert [w.text for w in line.words] == ["*A", "b"]


def test_comment_inside_a_continuation_is_skipped() -> None:
    (line,) = lines("*A \\\n# not a word \\\n b")
    assert [w.text for w in line.words] == ["*A", "b"]


def test_empty_line_ends_a_continuation() -> None:
    found = lines("*A \\\n\n*B c")
    assert [[w.text for w in line.words] for line in found] == [["*A"], ["*B", "c"]]


def test_end_of_file_ends_a_continuation() -> None:
    found = lines("*A b \\")
    assert [[w.text for w in line.words] for line in found] == [["*A", "b"]]


def test_comment_ending_in_backslash_does_not_continue() -> None:
    found = lines("# comment \\\n*A b")
    assert [line.line for line in found] == [2]


def test_windows_line_endings() -> None:
    found = lines("*A b \\\r\n c\r\n*D e\r\n")
    assert [[w.text for w in line.words] for line in found] == [["*A", "b", "c"], ["*D", "e"]]


def test_non_breaking_space_is_not_a_separator() -> None:
    # Only ASCII white space separates words; NBSP stays inside the word.
    assert [w.text for w in lines("*A b\u00a0c")[0].words] == ["*A", "b\u00a0c"]


def test_control_character_drops_the_whole_logical_line() -> None:
    reported: list[tuple[int, int, str]] = []
    found = list(logical_lines("*A \\\n b\x00c\n*D e", lambda *a: reported.append(a)))
    assert reported == [(2, 3, "\x00")]
    assert [line.line for line in found] == [3]


def test_line_of_only_a_backslash() -> None:
    (line,) = lines("*A \\\n\\\n b")
    assert [w.text for w in line.words] == ["*A", "b"]


def test_a_word_on_a_continued_line_is_found_where_it_is_written() -> None:
    text = "# head\n  *A one \\\n   # a comment\n\t two \\ \n three\n*B x\n"
    physical = text.split("\n")
    (continued, _) = lines(text)
    found = {
        word.text: physical_position(physical, continued.line, word.column)
        for word in continued.words
    }
    assert found == {"*A": (2, 3), "one": (2, 6), "two": (4, 3), "three": (5, 2)}
    for word, (line, column) in found.items():
        assert physical[line - 1][column - 1 :].startswith(word)
    # A position in no word of the directive is given back as it came.
    assert physical_position(physical, 2, 99) == (2, 99)
    assert physical_position(physical, 9, 1) == (9, 1)
