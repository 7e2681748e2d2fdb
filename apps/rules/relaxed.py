"""SavaPage-compatible relaxed import (spec §5): bad lines are kept as comments, not read.

The text that is saved is then clean, so the version can be activated, and every skipped
line is still in it, saying why it was skipped. Pure: no Django.
"""

from __future__ import annotations

import dataclasses
import re
from itertools import groupby

from printmgmt.ppde import Diagnostic, Severity, parse

SKIPPED = "# skipped on import: "
# The lexer's white space (printmgmt/ppde/lexer.py), which decides comments and continuations.
_WHITESPACE = " \t\f\v\r"
# The lexer's signs of binary data: kept out of the comment (PostgreSQL cannot store NUL).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


class CannotSkip(Exception):
    """An error that commenting out lines does not remove (the file is too large)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.format())
        self.diagnostic = diagnostic


def comment_out_errors(text: str, *, filename: str) -> tuple[str, tuple[Diagnostic, ...]]:
    """`text` with every line a strict reading refuses turned into a comment naming the
    problem, and those problems as warnings; raises CannotSkip when that cannot make it clean.

    Whole lines only: a line continued with a backslash is commented out with its
    continuations. Commenting a mapping out can make its choice lines errors too, so the text
    is read again until it is clean.
    """
    lines = text.split("\n")  # as the lexer numbers lines
    skipped: list[Diagnostic] = []
    while True:
        errors = [
            d
            for d in parse("\n".join(lines), filename=filename, strict=True).diagnostics
            if d.severity is Severity.ERROR
        ]
        if not errors:
            return "\n".join(lines), tuple(skipped)
        spans = _logical_lines(lines)
        for line, on_line in groupby(errors, key=lambda d: d.line):
            problems = list(on_line)
            span = spans.get(line - 1)
            if span is None:
                raise CannotSkip(problems[0])
            _comment_out(lines, span, "; ".join(d.message for d in problems))
            skipped.extend(
                dataclasses.replace(d, severity=Severity.WARNING, hint="kept as a comment")
                for d in problems
            )


def _comment_out(lines: list[str], span: list[int], reason: str) -> None:
    first = span[0]
    for number in span:
        why = reason if number == first else f"continues line {first + 1}"
        original = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", lines[number])
        lines[number] = f"{SKIPPED}line {number + 1}: {why}: {original}"


def _logical_lines(lines: list[str]) -> dict[int, list[int]]:
    """Each physical line that holds words → the physical lines of its logical line, joined
    as the lexer joins them: a trailing backslash continues, comments between are left out,
    an empty line ends it."""
    spans: dict[int, list[int]] = {}
    current: list[int] | None = None
    for index, line in enumerate(lines):
        stripped = line.strip(_WHITESPACE)
        if not stripped:
            current = None
        elif not stripped.startswith("#"):
            current = current if current is not None else []
            current.append(index)
            spans[index] = current
            if not stripped.endswith("\\"):
                current = None
    return spans
