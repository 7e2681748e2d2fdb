"""Every corpus file gives exactly the diagnostics in its `.expected` file."""

from __future__ import annotations

from pathlib import Path

import pytest

from printmgmt.ppde import Severity, parse_bytes

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(CORPUS.glob("*.ppde"))


def test_corpus_is_not_empty() -> None:
    assert len(FILES) >= 7


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_diagnostics_match_expected_exactly(path: Path) -> None:
    result = parse_bytes(path.read_bytes(), filename=path.name)
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    assert [d.format() for d in result.diagnostics] == expected


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_strict_mode_gives_no_partial_result(path: Path) -> None:
    result = parse_bytes(path.read_bytes(), filename=path.name)
    has_errors = any(d.severity is Severity.ERROR for d in result.diagnostics)
    assert (result.rules is None) == has_errors
    assert path.name.startswith("valid") <= (not result.diagnostics)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_relaxed_mode_always_gives_rules_and_only_warnings(path: Path) -> None:
    result = parse_bytes(path.read_bytes(), filename=path.name, strict=False)
    assert result.rules is not None
    assert all(d.severity is Severity.WARNING for d in result.diagnostics)
    strict = parse_bytes(path.read_bytes(), filename=path.name)
    assert len(result.diagnostics) == len(strict.diagnostics)
