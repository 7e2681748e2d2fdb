"""Small helpers shared by the rule-file tests."""

from __future__ import annotations

from printmgmt.ppde import ParseResult, RuleEngine, RuleFile, parse


def load(text: str, *, strict: bool = True) -> RuleFile:
    """Parse text that must be free of errors, and return its rules."""
    result = parse(text, filename="test.ppde", strict=strict)
    assert result.rules is not None, [d.format() for d in result.diagnostics]
    return result.rules


def engine(text: str, *, booklet_constraints: bool = True) -> RuleEngine:
    return RuleEngine(load(text), booklet_constraints=booklet_constraints)


def messages(result: ParseResult) -> list[str]:
    return [f"{d.line}:{d.column}:{d.severity.value}:{d.message}" for d in result.diagnostics]


def only_error(text: str) -> tuple[int, int, str, str]:
    """(line, column, word, message) of the single diagnostic `text` must produce."""
    result = parse(text, filename="test.ppde")
    assert result.rules is None
    assert len(result.diagnostics) == 1, messages(result)
    d = result.diagnostics[0]
    return d.line, d.column, d.word, d.message
