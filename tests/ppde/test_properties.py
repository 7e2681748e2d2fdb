"""Properties over generated rule files and jobs."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from printmgmt.ppde import RuleEngine, parse
from printmgmt.ppde.model import CostScope

ATTRIBUTES = {
    "media": ("a4", "a3", "a5"),
    "sides": ("one-sided", "two-sided-long-edge"),
    "print-color-mode": ("monochrome", "color"),
    "org.savapage-finishings-staple": ("3", "20", "28"),
    "media-color": ("white", "red"),
}
DIRECTIVES = [scope.value for scope in CostScope]

conditions = st.lists(
    st.tuples(
        st.sampled_from(sorted(ATTRIBUTES)),
        st.booleans(),
        st.integers(min_value=0, max_value=2),
    ),
    min_size=1,
    max_size=3,
)


@st.composite
def rule_files(draw: st.DrawFn, *, allow_negative: bool) -> str:
    lines = []
    for number in range(draw(st.integers(min_value=0, max_value=25))):
        directive = draw(st.sampled_from(DIRECTIVES))
        cents = draw(st.integers(min_value=-500 if allow_negative else 0, max_value=500))
        words = [directive, str(Decimal(cents) / 100), f"r{number}"]
        for name, negated, index in draw(conditions):
            values = ATTRIBUTES[name]
            words.append(f"{name}/{'!' if negated else ''}{values[index % len(values)]}")
        lines.append(" ".join(words))
    return "\n".join(lines)


jobs = st.fixed_dictionaries(
    {},
    optional={name: st.sampled_from(values) for name, values in ATTRIBUTES.items()},
)


def engine_for(text: str) -> RuleEngine:
    result = parse(text, filename="generated.ppde")
    assert result.rules is not None, [d.format() for d in result.diagnostics]
    return RuleEngine(result.rules)


@settings(max_examples=200, deadline=None)
@given(
    rule_files(allow_negative=False),
    jobs,
    st.integers(min_value=0, max_value=50),
    st.integers(min_value=0, max_value=20),
)
def test_price_is_never_negative_without_a_negative_rule(
    text: str, job: dict[str, str], pages: int, copies: int
) -> None:
    price = engine_for(text).price(job, pages=pages, copies=copies)
    assert price.exact_total >= 0
    assert all(part.amount >= 0 for part in price.parts)
    assert price.total is None or price.total >= 0


@settings(max_examples=200, deadline=None)
@given(
    rule_files(allow_negative=True),
    jobs,
    st.integers(min_value=0, max_value=50),
    st.integers(min_value=1, max_value=20),
)
def test_price_without_set_rules_scales_linearly_in_copies(
    text: str, job: dict[str, str], pages: int, copies: int
) -> None:
    without_set = "\n".join(
        line for line in text.splitlines() if not line.startswith(CostScope.SET.value)
    )
    rules = engine_for(without_set)
    one = rules.price(job, pages=pages, copies=1)
    many = rules.price(job, pages=pages, copies=copies)
    assert (one.refusal is None) == (many.refusal is None)
    assert many.exact_total == one.exact_total * copies


@settings(max_examples=200, deadline=None)
@given(rule_files(allow_negative=True), jobs, st.integers(min_value=0, max_value=9))
def test_set_rules_do_not_depend_on_copies(text: str, job: dict[str, str], copies: int) -> None:
    only_set = "\n".join(line for line in text.splitlines() if line.startswith(CostScope.SET.value))
    rules = engine_for(only_set)
    assert (
        rules.price(job, pages=3, copies=copies).exact_total
        == rules.price(job, pages=3, copies=1).exact_total
    )


@settings(max_examples=300, deadline=None)
@given(rule_files(allow_negative=True), jobs)
def test_indexed_lookup_matches_a_linear_scan(text: str, job: dict[str, str]) -> None:
    rules = engine_for(text)
    price = rules.price(job, pages=2, copies=1)
    if price.refusal is not None:
        return
    expected = []
    for scope in (CostScope.SET,):
        expected += [
            r.mnemonic for r in rules.rules.cost_rules if r.scope is scope and r.matches(job)
        ]
    assert [p.mnemonic for p in price.parts if p.scope == "set"] == expected
    copy_scopes = (CostScope.JOB_COPY, CostScope.TICKET_COPY)
    copy_expected = sorted(
        r.mnemonic for r in rules.rules.cost_rules if r.scope in copy_scopes and r.matches(job)
    )
    assert sorted(p.mnemonic for p in price.parts if p.scope == "copy") == copy_expected
    sheet = next(
        (
            r.mnemonic
            for r in rules.rules.cost_rules
            if r.scope is CostScope.SHEET and r.matches(job)
        ),
        None,
    )
    assert [p.mnemonic for p in price.parts if p.scope == "sheet"] == ([sheet] if sheet else [])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_diagnostics_never_an_exception(text: str) -> None:
    strict = parse(text, filename="fuzz.ppde")
    relaxed = parse(text, filename="fuzz.ppde", strict=False)
    assert relaxed.rules is not None
    assert (strict.rules is None) == bool(strict.errors)
    for diagnostic in strict.diagnostics:
        assert diagnostic.line >= 1
        assert diagnostic.column >= 1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(
    ["*SPConstraint:", "*SPExtra/a/b:", "*SPSubst/a/b:", "*SPRule/number-up:", "*SPJob/Copy:",
     "*SPJobTicket/Set/Cost:", "*X", "*X", "media", "a/b", "a/!b", "*A/B", "*B", "+c", "0.5",
     "x", "\\", "#", "\n", " ", "pdf-orientation/portrait", "number-up/2"]
), max_size=40))  # fmt: skip
def test_directive_soup_gives_diagnostics_never_an_exception(words: list[str]) -> None:
    text = " ".join(words)
    assert parse(text, filename="soup.ppde", strict=False).rules is not None
    parse(text, filename="soup.ppde")
