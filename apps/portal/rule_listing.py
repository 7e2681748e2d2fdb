"""A rule file's text as numbered lines with each diagnostic marked at its line and column."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from printmgmt.ppde import Diagnostic, Severity
from printmgmt.ppde.lexer import physical_position

#: A file can have tens of thousands of problems; listing them all makes a page of many MB.
MAX_SHOWN_DIAGNOSTICS = 200


@dataclass(frozen=True)
class Mark:
    """A diagnostic under the line it points at, with a caret at its column.

    `line` and `column` are where the offending word is in the text: a diagnostic names the
    first line of a continued directive and the column in the joined directive (spec §1),
    which for a word on a continuation line is no place an admin can find.
    """

    diagnostic: Diagnostic
    line: int
    column: int

    @property
    def caret(self) -> str:
        return " " * max(self.column - 1, 0) + "^"


@dataclass
class ListingLine:
    number: int
    text: str
    marks: list[Mark] = field(default_factory=list)
    gap_before: bool = False  # lines were left out before this one

    @property
    def severity(self) -> str:
        if any(m.diagnostic.severity.value == "error" for m in self.marks):
            return "error"
        return "warning" if self.marks else ""


@dataclass(frozen=True)
class DiagnosticSummary:
    """The first diagnostics of a text, to list, and how many of each severity there are."""

    shown: tuple[Diagnostic, ...]
    errors: int
    warnings: int
    hidden_errors: int
    hidden_warnings: int

    @property
    def hidden(self) -> int:
        return self.hidden_errors + self.hidden_warnings


def summarize(
    diagnostics: tuple[Diagnostic, ...], *, limit: int = MAX_SHOWN_DIAGNOSTICS
) -> DiagnosticSummary:
    shown, hidden = diagnostics[:limit], diagnostics[limit:]
    hidden_errors = sum(1 for d in hidden if d.severity is Severity.ERROR)
    errors = hidden_errors + sum(1 for d in shown if d.severity is Severity.ERROR)
    return DiagnosticSummary(
        shown=shown,
        errors=errors,
        warnings=len(diagnostics) - errors,
        hidden_errors=hidden_errors,
        hidden_warnings=len(hidden) - hidden_errors,
    )


def physical_lines(text: str) -> list[str]:
    """The lines of a rule file as the lexer numbers them: split at "\n" only.

    str.splitlines() also splits at form feed, \x1c-\x1e, NEL and U+2028/U+2029, which the
    lexer keeps inside a line: every diagnostic after one would land under the wrong line.
    """
    return text.removesuffix("\n").split("\n") if text else []


def listing(
    text: str, diagnostics: tuple[Diagnostic, ...], *, context: int | None = None
) -> list[ListingLine]:
    """Numbered lines with their diagnostics; with `context`, only the lines that many around
    each diagnostic (a long file with one error shows a few lines, not thousands)."""
    texts = physical_lines(text)
    lines = [ListingLine(number, line) for number, line in enumerate(texts, 1)]
    if not lines:
        lines.append(ListingLine(1, ""))
    for diagnostic in diagnostics:
        number, column = physical_position(texts, diagnostic.line, diagnostic.column)
        index = number - 1 if 1 <= number <= len(lines) else len(lines) - 1
        lines[index].marks.append(Mark(diagnostic, index + 1, column))
    if context is None:
        return lines
    wanted = {
        near
        for line in lines
        if line.marks
        for near in range(line.number - context, line.number + context + 1)
    }
    shown = [line for line in lines if line.number in wanted]
    for previous, line in zip([None, *shown], shown, strict=False):
        line.gap_before = (previous.number if previous else 0) != line.number - 1
    return shown


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "remove", "context", "hunk"
    text: str


def diff_lines(old: str, new: str, *, old_name: str, new_name: str) -> list[DiffLine]:
    lines = difflib.unified_diff(
        physical_lines(old), physical_lines(new), fromfile=old_name, tofile=new_name, lineterm=""
    )
    result = []
    for line in lines:
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            result.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            result.append(DiffLine("add", line))
        elif line.startswith("-"):
            result.append(DiffLine("remove", line))
        else:
            result.append(DiffLine("context", line))
    return result
