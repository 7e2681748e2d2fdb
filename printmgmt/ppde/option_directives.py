"""Directives that say what a user can choose and how the device is driven (spec §1–§2).

File settings (`*LandscapeOrientation:`, `*SPLocalBooklet:`, `*SPRawPrintMimeType:`),
`*SPJob/` and `*SPJobTicket/` option declarations, and PPD mappings with their choice lines.
Choice lines may come before the mapping they belong to, so they are attached only once the
whole file has been read (`resolve_mappings`).
"""

from __future__ import annotations

import re

from printmgmt.digits import whole_number
from printmgmt.ppde.lexer import Word
from printmgmt.ppde.model import (
    COVER_BACK_TYPE,
    COVER_FRONT_TYPE,
    COVER_TYPES,
    FINISHING_ENUM_RANGES,
    MAPPABLE_ATTRIBUTES,
    Choice,
    JobOption,
    LandscapeOrientation,
    OptionMapping,
    OptionScope,
)
from printmgmt.ppde.nup import MAX_NUMBER_UP
from printmgmt.ppde.parse_state import LineError, ParseState, PendingChoice, expect_count

_MIME_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*")

# ---------------------------------------------------------------------- settings


def _setting_value(state: ParseState, line: int, words: tuple[Word, ...]) -> Word:
    expect_count(words, exactly=2)
    key = words[0].text.casefold()
    if key in state.settings_seen:
        state.warn(
            line,
            words[0],
            f"{words[0].text} repeated; this value replaces line {state.settings_seen[key]}",
        )
    state.settings_seen[key] = line
    return words[1]


def landscape(state: ParseState, line: int, words: tuple[Word, ...]) -> None:
    value = words[1] if len(words) == 2 else None
    if value is not None and value.text.casefold() not in {"plus90", "minus90"}:
        raise LineError(value, f"unknown landscape orientation '{value.text}'", "Plus90 or Minus90")
    word = _setting_value(state, line, words)
    state.landscape = (
        LandscapeOrientation.PLUS90
        if word.text.casefold() == "plus90"
        else LandscapeOrientation.MINUS90
    )


def local_booklet(state: ParseState, line: int, words: tuple[Word, ...]) -> None:
    value = words[1] if len(words) == 2 else None
    if value is not None and value.text.casefold() not in {"true", "false"}:
        raise LineError(value, f"'{value.text}' is not a boolean", "True or False")
    state.local_booklet = _setting_value(state, line, words).text.casefold() == "true"


def raw_mime_type(state: ParseState, line: int, words: tuple[Word, ...]) -> None:
    value = words[1] if len(words) == 2 else None
    if value is not None and not _MIME_TYPE.fullmatch(value.text):
        raise LineError(value, f"'{value.text}' is not a MIME type", "e.g. application/postscript")
    state.raw_mime_type = _setting_value(state, line, words).text


# ---------------------------------------------------------------------- job and ticket options


def job_option(state: ParseState, line: int, words: tuple[Word, ...], scope: OptionScope) -> None:
    """An `*SPJob/` or `*SPJobTicket/` option declaration; the dispatcher checked the head."""
    attribute = words[1]
    _expect_attribute_name(attribute)
    choices = _choices(words[2:], line)
    if attribute.text in (COVER_FRONT_TYPE, COVER_BACK_TYPE):
        for word, choice in zip(words[2:], choices, strict=True):
            if choice.value not in COVER_TYPES:
                raise LineError(
                    word,
                    f"'{choice.value}' is not a cover type",
                    "one of " + ", ".join(sorted(COVER_TYPES)),
                )
    if attribute.text in state.declared_options:
        raise LineError(attribute, f"options for '{attribute.text}' are declared twice")
    state.declared_options.add(attribute.text)
    state.job_options.append(JobOption(scope, attribute.text, line, choices))


def _expect_attribute_name(word: Word) -> None:
    if word.text.startswith(("*", "+")) or "/" in word.text:
        raise LineError(word, f"'{word.text}' is not an attribute name", "e.g. media-color")


def _choices(words: tuple[Word, ...], line: int) -> tuple[Choice, ...]:
    choices: list[Choice] = []
    # Sets, not scans of the list: a pasted file of 2 MB holds 100,000s of choices.
    values: set[str] = set()
    default_seen = False
    for word in words:
        default = word.text.startswith("*")
        operator_only = word.text.startswith("+")
        value = word.text[1:] if default or operator_only else word.text
        if not value or value.startswith(("*", "+")):
            raise LineError(word, f"'{word.text}' is not a choice", "[*|+]value")
        if default and default_seen:
            raise LineError(word, "a second default choice", "mark one choice with *")
        if value in values:
            raise LineError(word, f"choice '{value}' is given twice")
        values.add(value)
        default_seen = default_seen or default
        choices.append(Choice(value, default, operator_only, line))
    return tuple(choices)


# ---------------------------------------------------------------------- PPD mappings


def mapping(state: ParseState, line: int, words: tuple[Word, ...]) -> None:
    """`*PPDOption ipp-attribute`: the PPD option a standard IPP attribute is sent as."""
    option, attribute = words
    # Until this line is accepted its choices are cascades of its error: not reported.
    state.failed_mappings.add(option.text[1:])
    _expect_ppd_option(option)
    if attribute.text not in MAPPABLE_ATTRIBUTES:
        hint = "one of " + ", ".join(sorted(MAPPABLE_ATTRIBUTES))
        if option.text.startswith("*SP"):
            hint = f"is '{option.text}' a misspelt directive? Otherwise {hint}"
        raise LineError(attribute, f"cannot map a PPD option to '{attribute.text}'", hint)
    name = option.text[1:]
    if name in state.mappings:
        raise LineError(
            option, f"{option.text} is mapped twice (first at line {state.mappings[name][1]})"
        )
    for other, (mapped, other_line) in state.mappings.items():
        if mapped == attribute.text:
            raise LineError(
                attribute, f"'{mapped}' is already mapped from *{other} at line {other_line}"
            )
    state.mappings[name] = (attribute.text, line)
    state.failed_mappings.discard(name)


def mapping_choice(state: ParseState, line: int, words: tuple[Word, ...]) -> None:
    """`*PPDOption [*]Choice [+]value`: one choice of a mapping, checked at the end."""
    option, choice_word, value_word = words[0], words[1], words[2]
    _expect_ppd_option(option)
    default = choice_word.text.startswith("*")
    ppd_choice = choice_word.text[1:] if default else choice_word.text
    operator_only = value_word.text.startswith("+")
    # Words three and later form one IPP value (e.g. a resolution written with spaces).
    value = " ".join(w.text for w in words[2:])
    if operator_only:
        value = value[1:]
    if not ppd_choice or ppd_choice.startswith(("*", "+")):
        raise LineError(choice_word, f"'{choice_word.text}' is not a PPD choice", "[*]Choice")
    if not value or value.startswith(("*", "+")):
        raise LineError(value_word, f"'{value_word.text}' is not an IPP value", "[+]value")
    choice = Choice(value, default, operator_only, line, ppd_choice)
    state.pending_choices.append(PendingChoice(option, choice, choice_word, value_word))


def _expect_ppd_option(word: Word) -> None:
    if not word.text.startswith("*") or len(word.text) < 2:
        raise LineError(
            word,
            f"'{word.text}' is not a PPD option",
            "mapping lines start with *PPDOption; comments start with #",
        )


class _Collected:
    """The accepted choices of one mapping, indexed to find a repeated one at once."""

    def __init__(self) -> None:
        self.choices: list[Choice] = []
        self.by_ppd_choice: dict[str | None, Choice] = {}
        self.by_value: dict[str, Choice] = {}
        self.default: Choice | None = None

    def add(self, choice: Choice) -> None:
        self.choices.append(choice)
        self.by_ppd_choice[choice.ppd_choice] = choice
        self.by_value[choice.value] = choice
        if choice.default:
            self.default = choice


def resolve_mappings(state: ParseState) -> tuple[OptionMapping, ...]:
    """Attach every choice line to its mapping line, wherever in the file either is."""
    collected = {name: _Collected() for name in state.mappings}
    for pending in state.pending_choices:
        name = pending.option.text[1:]
        if name in state.failed_mappings and name not in collected:
            continue
        try:
            _check_choice(state, name, pending, collected)
        except LineError as error:
            state.fail(pending.choice.line, error)
            continue
        collected[name].add(pending.choice)
    return tuple(
        OptionMapping(name, attribute, line, tuple(collected[name].choices))
        for name, (attribute, line) in state.mappings.items()
    )


def _check_choice(
    state: ParseState, name: str, pending: PendingChoice, collected: dict[str, _Collected]
) -> None:
    choice = pending.choice
    if name not in collected:
        hint = f"add a line '*{name} ipp-attribute'"
        if name.startswith("SP"):
            hint = f"is '*{name}' a misspelt directive? Otherwise {hint}"
        raise LineError(pending.option, f"choice for *{name}, which is not mapped", hint)
    attribute = state.mappings[name][0]
    if attribute == "number-up" and not whole_number(choice.value, MAX_NUMBER_UP):
        raise LineError(
            pending.value_word,
            f"'{choice.value}' is not a number-up",
            f"a whole number from 1 to {MAX_NUMBER_UP}",
        )
    enum_range = FINISHING_ENUM_RANGES.get(attribute)
    if enum_range is not None and whole_number(choice.value) not in enum_range:
        raise LineError(
            pending.value_word,
            f"'{choice.value}' is not a value of {attribute}",
            _range_hint(enum_range),
        )
    earlier = collected[name]
    same_choice = earlier.by_ppd_choice.get(choice.ppd_choice)
    if same_choice is not None:
        raise LineError(
            pending.choice_word,
            f"choice '{choice.ppd_choice}' of *{name} is given twice (line {same_choice.line})",
        )
    same_value = earlier.by_value.get(choice.value)
    if same_value is not None:
        raise LineError(
            pending.value_word,
            f"IPP value '{choice.value}' of *{name} is mapped twice (line {same_value.line})",
            "each IPP value must name one PPD choice",
        )
    if earlier.default is not None and choice.default:
        raise LineError(
            pending.choice_word,
            f"*{name} has a second default choice (first at line {earlier.default.line})",
        )


def _range_hint(values: frozenset[int]) -> str:
    numbers = sorted(values - {3})
    return (
        f"3 (none) or {numbers[0]}–{numbers[-1]}"
        if len(numbers) > 1
        else f"3 (none) or {numbers[0]}"
    )
