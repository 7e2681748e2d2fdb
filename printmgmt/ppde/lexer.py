"""Physical lines → logical lines of located words (spec §1).

Columns count from 1. The first physical line of a logical line keeps its leading white
space, so for a directive on one line the column is the column in the file; continuation
parts are appended after one space, as the spec joins them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

# ASCII white space only: str.split() would also split on NBSP and on the C0 separators
# \x1c-\x1f, which would turn binary garbage into plausible-looking words.
_WHITESPACE = " \t\f\v\r"
_WORD = re.compile(r"[^ \t\f\v\r]+")
# C0 controls other than the white space above, and DEL: signs of a binary file.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    column: int


@dataclass(frozen=True, slots=True)
class LogicalLine:
    #: The first physical line.
    line: int
    words: tuple[Word, ...]


#: Called with (line, column, offending character) for a physical line holding binary data.
ControlReporter = Callable[[int, int, str], None]


class _Pending:
    """A logical line being assembled from continued physical lines."""

    def __init__(self, line: int, leading: int) -> None:
        self.line = line
        self.words: list[Word] = []
        self.length = leading
        self.poisoned = False

    def append(self, part: str, *, first: bool) -> None:
        base = self.length if first else self.length + 1
        for match in _WORD.finditer(part):
            self.words.append(Word(match.group(), base + match.start() + 1))
        self.length = base + len(part)


def logical_lines(text: str, report_control: ControlReporter) -> Iterator[LogicalLine]:
    """Yield the logical lines of `text`; comments and empty lines are skipped.

    A logical line that contains a control character is reported through `report_control`
    (once, at the first such character) and not yielded.
    """
    pending: _Pending | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip(_WHITESPACE)
        if pending is None:
            if not stripped or stripped.startswith("#"):
                continue
            pending = _Pending(number, len(raw) - len(raw.lstrip(_WHITESPACE)))
            first = True
        else:
            if not stripped:
                # An empty line ends a continuation (and is itself nothing).
                yield from _finish(pending)
                pending = None
                continue
            if stripped.startswith("#"):
                continue
            first = False
        control = _CONTROL.search(raw)
        if control is not None and not pending.poisoned:
            pending.poisoned = True
            report_control(number, control.start() + 1, control.group())
        continues = stripped.endswith("\\")
        pending.append(stripped[:-1].rstrip(_WHITESPACE) if continues else stripped, first=first)
        if not continues:
            yield from _finish(pending)
            pending = None
    if pending is not None:
        yield from _finish(pending)


def _finish(pending: _Pending) -> Iterator[LogicalLine]:
    if not pending.poisoned and pending.words:
        yield LogicalLine(pending.line, tuple(pending.words))


def physical_position(lines: Sequence[str], line: int, column: int) -> tuple[int, int]:
    """The physical line and column of a position given as diagnostics give it: `line` the
    first physical line of a logical line, `column` counted in the logical line. A word on a
    continued line is found on its own line (a position not in a word is given back as is).

    `lines` are the text's physical lines, split at "\n" as `logical_lines` splits them."""
    if not 1 <= line <= len(lines):
        return line, column
    raw = lines[line - 1]
    logical_start = physical_start = len(raw) - len(raw.lstrip(_WHITESPACE))
    number = line
    while True:
        stripped = raw.strip(_WHITESPACE)
        continues = stripped.endswith("\\")
        part = stripped[:-1].rstrip(_WHITESPACE) if continues else stripped
        if logical_start < column <= logical_start + len(part):
            return number, physical_start + column - logical_start
        if not continues:
            return line, column
        logical_start += len(part) + 1  # the one space the parts are joined with
        raw = ""
        while number < len(lines):
            number += 1
            raw = lines[number - 1]
            if not raw.strip(_WHITESPACE).startswith("#"):
                break
        if not raw.strip(_WHITESPACE):
            return line, column  # an empty line (or the end) ended the continuation
        physical_start = len(raw) - len(raw.lstrip(_WHITESPACE))
