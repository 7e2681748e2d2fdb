"""Rule-file text → `RuleFile` plus located diagnostics (spec §1–§3).

Two modes: strict (the default, used before a file is activated) where any error means no
`RuleFile` at all, and relaxed (SavaPage-compatible, for imports) where a bad line is
skipped with a warning. Either way the caller gets diagnostics, never an exception.

This module reads the file and sends each logical line to its directive parser: settings,
options and mappings in `option_directives`, rules in `rule_directives`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from printmgmt.ppde import option_directives, rule_directives
from printmgmt.ppde.diagnostics import Diagnostic, Severity
from printmgmt.ppde.lexer import LogicalLine, Word, logical_lines
from printmgmt.ppde.model import CostScope, OptionScope, RuleFile
from printmgmt.ppde.parse_state import LineError, ParseState, expect_count

#: Larger files are refused unread: the biggest real rule files are a few hundred kB.
MAX_FILE_BYTES = 2 * 1024 * 1024

_OPTION_DIRECTIVES = {scope.value: scope for scope in OptionScope}
_COST_DIRECTIVES = {scope.value: scope for scope in CostScope}
_TICKET_DIRECTIVES = sorted(
    [s.value for s in OptionScope if s.value.startswith("*SPJobTicket")]
    + [s.value for s in CostScope if s.value.startswith("*SPJobTicket")]
)


@dataclass(frozen=True, slots=True)
class ParseResult:
    """`rules` is None when the file has errors and was read strictly."""

    rules: RuleFile | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.WARNING)


def _read_line(state: ParseState, logical: LogicalLine) -> None:
    recorded = len(state.conditions)
    try:
        _dispatch(state, logical.line, logical.words)
    except LineError as error:
        del state.conditions[recorded:]  # A skipped line's conditions are not checked.
        state.fail(logical.line, error)


def _dispatch(state: ParseState, line: int, words: tuple[Word, ...]) -> None:
    head = words[0].text
    folded = head.casefold()
    if folded == "*landscapeorientation:":
        option_directives.landscape(state, line, words)
    elif folded == "*splocalbooklet:":
        option_directives.local_booklet(state, line, words)
    elif folded == "*sprawprintmimetype:":
        option_directives.raw_mime_type(state, line, words)
    elif head.startswith("*SPJobTicket"):
        _job_or_ticket(state, line, words, _TICKET_DIRECTIVES)
    elif head.startswith("*SPJob"):
        _job_or_ticket(state, line, words, [OptionScope.JOB_COPY.value, CostScope.JOB_COPY.value])
    elif head == "*SPRule/number-up:":
        rule_directives.nup_rule(state, line, words)
    elif head.startswith("*SPExtra"):
        rule_directives.extra_rule(state, line, words)
    elif head.startswith("*SPSubst"):
        rule_directives.subst_rule(state, line, words)
    elif head == "*SPConstraint:":
        rule_directives.constraint(state, line, words)
    elif len(words) == 1:
        return  # A constant: SavaPage ignores it, and so do we.
    elif len(words) == 2 and "/" not in head and ":" not in head:
        option_directives.mapping(state, line, words)
    elif "/" in head or ":" in head:
        # PPD option keywords never contain these: this is a misspelt directive.
        raise LineError(
            words[0],
            f"unknown directive '{head}'",
            "directives: *SPJob/..., *SPJobTicket/..., *SPExtra/..., *SPSubst/..., "
            "*SPConstraint:, *SPRule/number-up:, *LandscapeOrientation:, "
            "*SPLocalBooklet:, *SPRawPrintMimeType:",
        )
    else:
        option_directives.mapping_choice(state, line, words)


def _job_or_ticket(
    state: ParseState, line: int, words: tuple[Word, ...], allowed: Sequence[str]
) -> None:
    """`*SPJob/...` and `*SPJobTicket/...` heads declare either options or cost rules."""
    head = words[0]
    if head.text not in allowed:
        raise LineError(head, f"unknown directive '{head.text}'", "one of " + ", ".join(allowed))
    expect_count(words, at_least=3)
    if head.text in _COST_DIRECTIVES:
        rule_directives.cost_rule(state, line, words, _COST_DIRECTIVES[head.text])
    else:
        option_directives.job_option(state, line, words, _OPTION_DIRECTIVES[head.text])


def _finish(state: ParseState) -> RuleFile | None:
    """The whole-file checks, then the rule file (None when strict and there were errors)."""
    mappings = option_directives.resolve_mappings(state)
    rule_directives.check_defined_values(state, mappings)
    if state.strict and any(d.severity is Severity.ERROR for d in state.diagnostics):
        return None
    return RuleFile(
        filename=state.filename,
        landscape_orientation=state.landscape,
        local_booklet=state.local_booklet,
        raw_print_mime_type=state.raw_mime_type,
        mappings=mappings,
        job_options=tuple(state.job_options),
        cost_rules=tuple(state.cost_rules),
        constraints=tuple(state.constraints),
        extras=tuple(state.extras),
        substs=tuple(state.substs),
        nup_rules=tuple(state.nup_rules),
    )


def parse(text: str, *, filename: str, strict: bool = True) -> ParseResult:
    """Read rule-file text. Never raises for bad input: problems come back as diagnostics."""
    state = ParseState(filename, strict)
    if len(text) > MAX_FILE_BYTES:
        return _too_large(state, len(text.encode("utf-8", "surrogatepass")))

    def report_control(line: int, column: int, char: str) -> None:
        error = LineError(
            Word(char, column),
            f"control character U+{ord(char):04X}: this looks like binary data",
            "rule files are plain UTF-8 text",
        )
        state.fail(line, error)

    for logical in logical_lines(text, report_control):
        _read_line(state, logical)
    rules = _finish(state)
    # Whole-file checks report after the line-by-line pass; present everything in file order.
    ordered = sorted(state.diagnostics, key=lambda d: (d.line, d.column))
    return ParseResult(rules, tuple(ordered))


def parse_bytes(data: bytes, *, filename: str, strict: bool = True) -> ParseResult:
    """Read a rule file's bytes: UTF-8 with an optional byte-order mark.

    Bytes that are not UTF-8 are an error (strict) or a warning after which the file is read
    with replacement characters (relaxed).
    """
    state = ParseState(filename, strict)
    if len(data) > MAX_FILE_BYTES:
        return _too_large(state, len(data))
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        bad = data[error.start : error.end]
        severity = Severity.ERROR if strict else Severity.WARNING
        state.diagnostics.append(
            Diagnostic(
                filename,
                line,
                column,
                bad.hex(" "),
                severity,
                f"byte 0x{bad[0]:02x} is not UTF-8",
                "save the file as UTF-8"
                if strict
                else "save the file as UTF-8; read with replacement characters",
            )
        )
        if strict:
            return ParseResult(None, tuple(state.diagnostics))
        text = data.decode("utf-8", errors="replace")
    result = parse(text, filename=filename, strict=strict)
    return ParseResult(result.rules, (*state.diagnostics, *result.diagnostics))


def _too_large(state: ParseState, size: int) -> ParseResult:
    message = f"file is {size:,} bytes, more than the {MAX_FILE_BYTES:,} a rule file may have"
    state.diagnostics.append(
        Diagnostic(state.filename, 1, 1, "", Severity.ERROR, message, "is this a rule file?")
    )
    return ParseResult(None, tuple(state.diagnostics))
