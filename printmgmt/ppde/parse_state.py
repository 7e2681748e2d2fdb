"""What the parser keeps while it reads a rule file, and how a bad line is reported.

Directive parsers (`option_directives`, `rule_directives`) add what they read to one
`ParseState` and raise `LineError` for a line they cannot use; the dispatcher in `parser`
turns that into a diagnostic whose severity depends on strict or relaxed reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from printmgmt.ppde.diagnostics import Diagnostic, Severity
from printmgmt.ppde.lexer import Word
from printmgmt.ppde.model import (
    Choice,
    Condition,
    Constraint,
    CostRule,
    ExtraRule,
    JobOption,
    LandscapeOrientation,
    NupRule,
    SubstRule,
)


class LineError(Exception):
    """A problem that makes one logical line unusable."""

    def __init__(self, word: Word, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.word = word
        self.message = message
        self.hint = hint


@dataclass
class PendingChoice:
    """A `*PPDOption choice value` line, kept until every mapping line has been read."""

    option: Word
    choice: Choice
    choice_word: Word
    value_word: Word


@dataclass
class ParseState:
    """Everything read so far from one file; `parser` makes the `RuleFile` from it at the end."""

    filename: str
    strict: bool
    diagnostics: list[Diagnostic] = field(default_factory=list)
    landscape: LandscapeOrientation = LandscapeOrientation.PLUS90
    local_booklet: bool = False
    raw_mime_type: str | None = None
    settings_seen: dict[str, int] = field(default_factory=dict)
    #: PPD option name → (IPP attribute, line of the mapping).
    mappings: dict[str, tuple[str, int]] = field(default_factory=dict)
    pending_choices: list[PendingChoice] = field(default_factory=list)
    failed_mappings: set[str] = field(default_factory=set)
    job_options: list[JobOption] = field(default_factory=list)
    #: The attributes of job_options, to find one declared twice at once.
    declared_options: set[str] = field(default_factory=set)
    cost_rules: list[CostRule] = field(default_factory=list)
    #: (kind of cost rule, its conditions) → the first line with them.
    cost_rule_lines: dict[tuple[str, frozenset[tuple[str, str, bool]]], int] = field(
        default_factory=dict
    )
    constraints: list[Constraint] = field(default_factory=list)
    extras: list[ExtraRule] = field(default_factory=list)
    substs: list[SubstRule] = field(default_factory=list)
    nup_rules: list[NupRule] = field(default_factory=list)
    #: Every condition, and every SPExtra/SPSubst head, with the word it came from, for the
    #: undefined-value check.
    conditions: list[tuple[Condition, Word]] = field(default_factory=list)

    def warn(self, line: int, word: Word, message: str, hint: str = "") -> None:
        self.diagnostics.append(
            Diagnostic(self.filename, line, word.column, word.text, Severity.WARNING, message, hint)
        )

    def fail(self, line: int, error: LineError) -> None:
        """Record a line error: an error when strict, a skipped-line warning when relaxed."""
        if self.strict:
            severity, hint = Severity.ERROR, error.hint
        else:
            severity = Severity.WARNING
            hint = f"{error.hint}; line skipped" if error.hint else "line skipped"
        self.diagnostics.append(
            Diagnostic(
                self.filename,
                line,
                error.word.column,
                error.word.text,
                severity,
                error.message,
                hint,
            )
        )


def expect_count(words: tuple[Word, ...], *, exactly: int = 0, at_least: int = 0) -> None:
    head = words[0].text
    if exactly and len(words) != exactly:
        offending = words[exactly] if len(words) > exactly else words[-1]
        raise LineError(
            offending,
            f"{head} takes {exactly} words, found {len(words)}",
            "values contain no spaces",
        )
    if at_least and len(words) < at_least:
        raise LineError(words[-1], f"{head} needs at least {at_least} words, found {len(words)}")
