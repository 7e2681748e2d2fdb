"""Directives that decide about jobs (spec §3–§4): cost rules, `*SPRule/number-up:` rows,
`*SPExtra/`, `*SPSubst/` and `*SPConstraint:`.

Every condition these name is recorded with the word it came from, so that once the whole
file is read `check_defined_values` can warn about a rule that can never fire.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from printmgmt.digits import whole_number
from printmgmt.ppde.lexer import Word
from printmgmt.ppde.model import (
    FINISHING_ENUM_RANGES,
    NUP_INPUT_KEYS,
    NUP_LANDSCAPE_TERM,
    NUP_OUTPUT_KEYS,
    ROTATE180,
    Condition,
    Constraint,
    CostRule,
    CostScope,
    Dependent,
    ExtraRule,
    NupRule,
    OptionMapping,
    SubstRule,
)
from printmgmt.ppde.nup import MAX_NUMBER_UP
from printmgmt.ppde.parse_state import LineError, ParseState, expect_count

# ASCII digits only: \d would also take "٠.٥" (Arabic-Indic) or full-width digits.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
#: A price has at most this many digits before the point: the most a job can be charged is
#: 99,999,999.9999, and a price of 28 digits made every price of the file fail to compute.
MAX_PRICE_WHOLE_DIGITS = 8
_NUP_LAYOUTS = frozenset({"lrtb", "lrbt", "rltb", "rlbt", "tblr", "tbrl", "btlr", "btrl"})
_ROTATIONS = frozenset({"0", "90", "180", "270"})
_NUP_HINTS = {
    "pdf-orientation": "portrait, landscape or -",
    "pdf-rotation": "0, 90, 180, 270 or -",
    "pdf-content-rotation": "0, 90, 180, 270 or -",
    "user-rotate": "0, 90, 180, 270 or -",
    "number-up": f"a whole number from 1 to {MAX_NUMBER_UP}, or -",
    "orientation-requested": "3, 4, 5, 6 or -",
    "number-up-layout": ", ".join(sorted(_NUP_LAYOUTS)) + " or -",
}

# ---------------------------------------------------------------------- cost rules


def cost_rule(state: ParseState, line: int, words: tuple[Word, ...], scope: CostScope) -> None:
    """An `*SPJob/` or `*SPJobTicket/` cost line; the dispatcher checked the head."""
    price = _decimal(words[1])
    mnemonic = _mnemonic(words[2])
    if len(words) < 4:
        raise LineError(
            words[-1],
            "a cost rule needs at least one condition",
            "attribute/value after the mnemonic",
        )
    conditions = _conditions(state, words[3:], line)
    _warn_repeated_cost(state, line, words[0], scope, conditions)
    state.cost_rules.append(CostRule(scope, price, mnemonic, conditions, line))


#: Cost rules that add up (every match is charged); the others charge the first match only.
_SUMMED_SCOPES = {CostScope.JOB_COPY: "copy", CostScope.TICKET_COPY: "copy", CostScope.SET: "set"}


def _warn_repeated_cost(
    state: ParseState,
    line: int,
    head: Word,
    scope: CostScope,
    conditions: tuple[Condition, ...],
) -> None:
    """A cost rule with the conditions of an earlier one of its kind is charged on top of it
    (copy, set) or never (media, sheet): a price pasted twice, or changed by adding a line
    instead of editing the old one."""
    kind = _SUMMED_SCOPES.get(scope, scope.name.lower())
    key = (kind, frozenset((c.attribute, c.value, c.negated) for c in conditions))
    first = state.cost_rule_lines.setdefault(key, line)
    if first == line:
        return
    if kind in _SUMMED_SCOPES.values():
        state.warn(
            line,
            head,
            f"a {kind} cost rule with the same conditions as line {first}: both are charged",
            f"{kind} cost rules add up; to change the price, change line {first} instead",
        )
    else:
        state.warn(
            line,
            head,
            f"a {kind} cost rule with the same conditions as line {first}: it never applies",
            f"the first {kind} cost rule that matches is charged",
        )


def _decimal(word: Word) -> Decimal:
    if not _DECIMAL.fullmatch(word.text):
        raise LineError(
            word, f"'{word.text}' is not a decimal number", "use a dot and no grouping, e.g. 0.05"
        )
    price = Decimal(word.text)
    if price != 0 and price.adjusted() >= MAX_PRICE_WHOLE_DIGITS:
        raise LineError(
            word,
            f"price '{word.text}' is too large",
            f"at most {MAX_PRICE_WHOLE_DIGITS} digits before the point",
        )
    return price


# ---------------------------------------------------------------------- SPRule/number-up


def nup_rule(state: ParseState, line: int, words: tuple[Word, ...]) -> None:
    expect_count(words, at_least=8)
    mnemonic = _mnemonic(words[1])
    terms = words[2:]
    if len(terms) < 7:
        raise LineError(
            words[-1],
            f"an n-up rule needs at least 7 terms, found {len(terms)}",
            "pdf-orientation, pdf-rotation, pdf-content-rotation, user-rotate, number-up, "
            "*orientation-requested, *number-up-layout",
        )
    seen: dict[str, Word] = {}
    inputs: list[tuple[str, str]] = []
    orientation: int | None = None
    layout: str | None = None
    landscape = False
    for term in terms:
        starred = term.text.startswith("*")
        body = term.text[1:] if starred else term.text
        key, _, value = body.partition("/")
        key = key.casefold()
        value = value.casefold()
        if key in seen:
            raise LineError(term, f"'{key}' given twice in one n-up rule")
        seen[key] = term
        if key == NUP_LANDSCAPE_TERM and not value:
            landscape = True
            continue
        if key not in NUP_INPUT_KEYS and key not in NUP_OUTPUT_KEYS:
            raise LineError(
                term,
                f"unknown n-up term '{term.text}'",
                "keys: " + ", ".join((*NUP_INPUT_KEYS, *NUP_OUTPUT_KEYS, NUP_LANDSCAPE_TERM)),
            )
        if not value:
            raise LineError(term, f"n-up term '{term.text}' has no value", "write key/value")
        _check_nup_value(term, key, value)
        is_output = key in NUP_OUTPUT_KEYS
        if starred != is_output:
            state.warn(
                line,
                term,
                f"'{key}' is an {'output' if is_output else 'input'} of the n-up table",
                "'*' marks the outputs orientation-requested, number-up-layout and "
                "org.savapage-landscape",
            )
        if key == "orientation-requested":
            orientation = None if value == "-" else int(value)
        elif key == "number-up-layout":
            layout = None if value == "-" else value
        else:
            inputs.append((key, value))
    state.nup_rules.append(NupRule(mnemonic, tuple(inputs), orientation, layout, landscape, line))


def _check_nup_value(term: Word, key: str, value: str) -> None:
    if value == "-":
        return
    valid = {
        "pdf-orientation": value in {"portrait", "landscape"},
        "number-up": bool(whole_number(value, MAX_NUMBER_UP)),
        "orientation-requested": value in {"3", "4", "5", "6"},
        "number-up-layout": value in _NUP_LAYOUTS,
    }.get(key, value in _ROTATIONS)
    if not valid:
        raise LineError(term, f"'{value}' is not a valid {key}", _NUP_HINTS[key])


# ---------------------------------------------------------------------- SPExtra / SPSubst


def _head(state: ParseState, line: int, words: tuple[Word, ...], prefix: str) -> tuple[str, str]:
    head = words[0]
    text = head.text
    attribute, _, value = text[len(prefix) :].removesuffix(":").partition("/")
    if not text.startswith(prefix) or not text.endswith(":") or not attribute or not value:
        raise LineError(head, f"malformed directive '{text}'", f"write {prefix}attribute/value:")
    expect_count(words, at_least=3)
    # The head is checked for undefined values like a condition.
    state.conditions.append((Condition(attribute, value, False, line), head))
    return attribute, value


def extra_rule(state: ParseState, line: int, words: tuple[Word, ...]) -> None:
    attribute, value = _head(state, line, words, "*SPExtra/")
    mnemonic = _mnemonic(words[1])
    conditions = _conditions(state, [w for w in words[2:] if not w.text.startswith("*")], line)
    dependents: list[Dependent] = []
    for word in words[2:]:
        if word.text.startswith("*"):
            name, slash, dep_value = word.text[1:].partition("/")
            if not slash or not name or not dep_value:
                raise LineError(word, f"malformed option '{word.text}'", "write *NAME/VALUE")
            dependents.append(Dependent(name, dep_value))
    if not dependents:
        raise LineError(words[-1], "an SPExtra rule adds no option", "add at least one *NAME/VALUE")
    state.extras.append(ExtraRule(attribute, value, mnemonic, conditions, tuple(dependents), line))


def subst_rule(state: ParseState, line: int, words: tuple[Word, ...]) -> None:
    attribute, value = _head(state, line, words, "*SPSubst/")
    mnemonic = _mnemonic(words[1])
    conditions = _conditions(state, [w for w in words[2:] if not w.text.startswith("*")], line)
    targets = [w for w in words[2:] if w.text.startswith("*")]
    if len(targets) != 1:
        raise LineError(
            targets[1] if targets else words[-1],
            f"an SPSubst rule needs exactly one *ppd_value, found {len(targets)}",
        )
    ppd_value = targets[0].text[1:]
    if not ppd_value or "/" in ppd_value:
        raise LineError(targets[0], f"'{targets[0].text}' is not a PPD choice", "write *Choice")
    state.substs.append(SubstRule(attribute, value, mnemonic, conditions, ppd_value, line))


# ---------------------------------------------------------------------- SPConstraint


def constraint(state: ParseState, line: int, words: tuple[Word, ...]) -> None:
    expect_count(words, exactly=4)
    mnemonic = _mnemonic(words[1])
    first, second = _conditions(state, words[2:], line)
    state.constraints.append(Constraint(mnemonic, first, second, line))


# ---------------------------------------------------------------------- shared words


def _mnemonic(word: Word) -> str:
    if word.text.startswith("*") or "/" in word.text:
        raise LineError(
            word,
            f"expected a mnemonic, found '{word.text}'",
            "name the rule first, e.g. cost-staple-a4",
        )
    return word.text


def _conditions(state: ParseState, words: Iterable[Word], line: int) -> tuple[Condition, ...]:
    parsed = []
    for word in words:
        condition = _condition(word, line)
        state.conditions.append((condition, word))
        parsed.append(condition)
    return tuple(parsed)


def _condition(word: Word, line: int) -> Condition:
    attribute, slash, value = word.text.partition("/")
    if not slash:
        raise LineError(
            word, f"condition '{word.text}' has no '/'", "write attribute/value or attribute/!value"
        )
    negated = value.startswith("!")
    if negated:
        value = value[1:]
    if not attribute or not value:
        raise LineError(word, f"incomplete condition '{word.text}'", "write attribute/value")
    return Condition(attribute, value, negated, line)


# ---------------------------------------------------------------------- whole-file check


#: Values a hint names at most: one per warning, and a file may warn thousands of times.
_HINT_VALUES = 20


def check_defined_values(state: ParseState, mappings: tuple[OptionMapping, ...]) -> None:
    """Warn about conditions naming a value this file never offers: such a rule is dead."""
    defined: dict[str, set[str]] = {ROTATE180: {"0", "1"}}
    for mapping in mappings:
        if mapping.choices:
            defined[mapping.attribute] = {c.value for c in mapping.choices}
    for option in state.job_options:
        defined[option.attribute] = {c.value for c in option.choices}
    hints: dict[str, str] = {}
    for condition, word in state.conditions:
        values = defined.get(condition.attribute)
        if values is None:
            enum_range = FINISHING_ENUM_RANGES.get(condition.attribute)
            values = {str(v) for v in enum_range} if enum_range else None
        if values is not None and condition.value not in values:
            if condition.attribute not in hints:
                hints[condition.attribute] = _defined_hint(values)
            state.warn(
                condition.line,
                word,
                f"'{condition.value}' is not a value this file defines for {condition.attribute}",
                hints[condition.attribute],
            )


def _defined_hint(values: set[str]) -> str:
    named = sorted(values, key=_natural)
    hint = "defined: " + ", ".join(named[:_HINT_VALUES])
    if len(named) > _HINT_VALUES:
        hint += f" and {len(named) - _HINT_VALUES} more"
    return hint


def _natural(value: str) -> tuple[int, str]:
    """Numbers in numeric order (3 before 20), words after them."""
    number = whole_number(value)
    return (number, "") if number is not None else (1 << 62, value)
