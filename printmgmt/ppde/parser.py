"""Rule-file text → `RuleFile` plus located diagnostics (spec §1–§3).

Two modes: strict (the default, used before a file is activated) where any error means no
`RuleFile` at all, and relaxed (SavaPage-compatible, for imports) where a bad line is
skipped with a warning. Either way the caller gets diagnostics, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from printmgmt.ppde.diagnostics import Diagnostic, Severity
from printmgmt.ppde.lexer import LogicalLine, Word, logical_lines
from printmgmt.ppde.model import (
    COVER_BACK_TYPE,
    COVER_FRONT_TYPE,
    COVER_TYPES,
    FINISHING_ENUM_RANGES,
    MAPPABLE_ATTRIBUTES,
    NUP_INPUT_KEYS,
    NUP_LANDSCAPE_TERM,
    NUP_OUTPUT_KEYS,
    ROTATE180,
    Choice,
    Condition,
    Constraint,
    CostRule,
    CostScope,
    Dependent,
    ExtraRule,
    JobOption,
    LandscapeOrientation,
    NupRule,
    OptionMapping,
    OptionScope,
    RuleFile,
    SubstRule,
)

#: Larger files are refused unread: the biggest real rule files are a few hundred kB.
MAX_FILE_BYTES = 2 * 1024 * 1024

_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_MIME_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*")
_NUP_LAYOUTS = frozenset({"lrtb", "lrbt", "rltb", "rlbt", "tblr", "tbrl", "btlr", "btrl"})
_ROTATIONS = frozenset({"0", "90", "180", "270"})

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


class _LineError(Exception):
    """A problem that makes one logical line unusable."""

    def __init__(self, word: Word, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.word = word
        self.message = message
        self.hint = hint


@dataclass
class _PendingChoice:
    """A `*PPDOption choice value` line, kept until every mapping line has been read."""

    option: Word
    choice: Choice
    choice_word: Word
    value_word: Word


@dataclass
class _Builder:
    filename: str
    strict: bool
    diagnostics: list[Diagnostic] = field(default_factory=list)
    landscape: LandscapeOrientation = LandscapeOrientation.PLUS90
    local_booklet: bool = False
    raw_mime_type: str | None = None
    settings_seen: dict[str, int] = field(default_factory=dict)
    #: PPD option name → (IPP attribute, line of the mapping).
    mappings: dict[str, tuple[str, int]] = field(default_factory=dict)
    pending_choices: list[_PendingChoice] = field(default_factory=list)
    failed_mappings: set[str] = field(default_factory=set)
    job_options: list[JobOption] = field(default_factory=list)
    cost_rules: list[CostRule] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    extras: list[ExtraRule] = field(default_factory=list)
    substs: list[SubstRule] = field(default_factory=list)
    nup_rules: list[NupRule] = field(default_factory=list)
    #: Every condition, and every SPExtra/SPSubst head, with the word it came from, for the
    #: undefined-value check.
    conditions: list[tuple[Condition, Word]] = field(default_factory=list)

    # ------------------------------------------------------------------ reporting

    def warn(self, line: int, word: Word, message: str, hint: str = "") -> None:
        self.diagnostics.append(
            Diagnostic(self.filename, line, word.column, word.text, Severity.WARNING, message, hint)
        )

    def fail(self, line: int, error: _LineError) -> None:
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

    # ------------------------------------------------------------------ dispatch

    def line(self, logical: LogicalLine) -> None:
        recorded = len(self.conditions)
        try:
            self._dispatch(logical.line, logical.words)
        except _LineError as error:
            del self.conditions[recorded:]  # A skipped line's conditions are not checked.
            self.fail(logical.line, error)

    def _dispatch(self, line: int, words: tuple[Word, ...]) -> None:
        head = words[0].text
        folded = head.casefold()
        if folded == "*landscapeorientation:":
            self._landscape(line, words)
        elif folded == "*splocalbooklet:":
            self._local_booklet(line, words)
        elif folded == "*sprawprintmimetype:":
            self._raw_mime_type(line, words)
        elif head.startswith("*SPJobTicket"):
            self._job_or_ticket(line, words, _TICKET_DIRECTIVES)
        elif head.startswith("*SPJob"):
            self._job_or_ticket(line, words, [OptionScope.JOB_COPY.value, CostScope.JOB_COPY.value])
        elif head == "*SPRule/number-up:":
            self._nup_rule(line, words)
        elif head.startswith("*SPExtra"):
            self._extra(line, words)
        elif head.startswith("*SPSubst"):
            self._subst(line, words)
        elif head == "*SPConstraint:":
            self._constraint(line, words)
        elif len(words) == 1:
            return  # A constant: SavaPage ignores it, and so do we.
        elif len(words) == 2 and "/" not in head and ":" not in head:
            self._mapping(line, words)
        elif "/" in head or ":" in head:
            # PPD option keywords never contain these: this is a misspelt directive.
            raise _LineError(
                words[0],
                f"unknown directive '{head}'",
                "directives: *SPJob/..., *SPJobTicket/..., *SPExtra/..., *SPSubst/..., "
                "*SPConstraint:, *SPRule/number-up:, *LandscapeOrientation:, "
                "*SPLocalBooklet:, *SPRawPrintMimeType:",
            )
        else:
            self._mapping_choice(line, words)

    # ------------------------------------------------------------------ settings

    def _setting_value(self, line: int, words: tuple[Word, ...]) -> Word:
        _expect_count(words, exactly=2)
        key = words[0].text.casefold()
        if key in self.settings_seen:
            self.warn(
                line,
                words[0],
                f"{words[0].text} repeated; this value replaces line {self.settings_seen[key]}",
            )
        self.settings_seen[key] = line
        return words[1]

    def _landscape(self, line: int, words: tuple[Word, ...]) -> None:
        value = words[1] if len(words) == 2 else None
        if value is not None and value.text.casefold() not in {"plus90", "minus90"}:
            raise _LineError(
                value, f"unknown landscape orientation '{value.text}'", "Plus90 or Minus90"
            )
        word = self._setting_value(line, words)
        self.landscape = (
            LandscapeOrientation.PLUS90
            if word.text.casefold() == "plus90"
            else LandscapeOrientation.MINUS90
        )

    def _local_booklet(self, line: int, words: tuple[Word, ...]) -> None:
        value = words[1] if len(words) == 2 else None
        if value is not None and value.text.casefold() not in {"true", "false"}:
            raise _LineError(value, f"'{value.text}' is not a boolean", "True or False")
        self.local_booklet = self._setting_value(line, words).text.casefold() == "true"

    def _raw_mime_type(self, line: int, words: tuple[Word, ...]) -> None:
        value = words[1] if len(words) == 2 else None
        if value is not None and not _MIME_TYPE.fullmatch(value.text):
            raise _LineError(
                value, f"'{value.text}' is not a MIME type", "e.g. application/postscript"
            )
        self.raw_mime_type = self._setting_value(line, words).text

    # ------------------------------------------------------------------ job and ticket

    def _job_or_ticket(self, line: int, words: tuple[Word, ...], allowed: Sequence[str]) -> None:
        head = words[0]
        if head.text not in allowed:
            raise _LineError(
                head, f"unknown directive '{head.text}'", "one of " + ", ".join(allowed)
            )
        _expect_count(words, at_least=3)
        if head.text in _COST_DIRECTIVES:
            self._cost_rule(line, words, _COST_DIRECTIVES[head.text])
            return
        attribute = words[1]
        _expect_attribute_name(attribute)
        choices = _choices(words[2:], line)
        if attribute.text in (COVER_FRONT_TYPE, COVER_BACK_TYPE):
            for word, choice in zip(words[2:], choices, strict=True):
                if choice.value not in COVER_TYPES:
                    raise _LineError(
                        word,
                        f"'{choice.value}' is not a cover type",
                        "one of " + ", ".join(sorted(COVER_TYPES)),
                    )
        scope = _OPTION_DIRECTIVES[head.text]
        if any(o.attribute == attribute.text for o in self.job_options):
            raise _LineError(attribute, f"options for '{attribute.text}' are declared twice")
        self.job_options.append(JobOption(scope, attribute.text, line, choices))

    def _cost_rule(self, line: int, words: tuple[Word, ...], scope: CostScope) -> None:
        price = _decimal(words[1])
        mnemonic = _mnemonic(words[2])
        if len(words) < 4:
            raise _LineError(
                words[-1],
                "a cost rule needs at least one condition",
                "attribute/value after the mnemonic",
            )
        conditions = self._conditions(words[3:], line)
        self.cost_rules.append(CostRule(scope, price, mnemonic, conditions, line))

    # ------------------------------------------------------------------ SPRule/number-up

    def _nup_rule(self, line: int, words: tuple[Word, ...]) -> None:
        _expect_count(words, at_least=8)
        mnemonic = _mnemonic(words[1])
        terms = words[2:]
        if len(terms) < 7:
            raise _LineError(
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
                raise _LineError(term, f"'{key}' given twice in one n-up rule")
            seen[key] = term
            if key == NUP_LANDSCAPE_TERM and not value:
                landscape = True
                continue
            if key not in NUP_INPUT_KEYS and key not in NUP_OUTPUT_KEYS:
                raise _LineError(
                    term,
                    f"unknown n-up term '{term.text}'",
                    "keys: " + ", ".join((*NUP_INPUT_KEYS, *NUP_OUTPUT_KEYS, NUP_LANDSCAPE_TERM)),
                )
            if not value:
                raise _LineError(term, f"n-up term '{term.text}' has no value", "write key/value")
            _check_nup_value(term, key, value)
            is_output = key in NUP_OUTPUT_KEYS
            if starred != is_output:
                self.warn(
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
        self.nup_rules.append(
            NupRule(mnemonic, tuple(inputs), orientation, layout, landscape, line)
        )

    # ------------------------------------------------------------------ SPExtra / SPSubst

    def _head(self, line: int, words: tuple[Word, ...], prefix: str) -> tuple[str, str]:
        head = words[0]
        text = head.text
        attribute, _, value = text[len(prefix) :].removesuffix(":").partition("/")
        if not text.startswith(prefix) or not text.endswith(":") or not attribute or not value:
            raise _LineError(
                head, f"malformed directive '{text}'", f"write {prefix}attribute/value:"
            )
        _expect_count(words, at_least=3)
        # The head is checked for undefined values like a condition.
        self.conditions.append((Condition(attribute, value, False, line), head))
        return attribute, value

    def _extra(self, line: int, words: tuple[Word, ...]) -> None:
        attribute, value = self._head(line, words, "*SPExtra/")
        mnemonic = _mnemonic(words[1])
        conditions = self._conditions([w for w in words[2:] if not w.text.startswith("*")], line)
        dependents: list[Dependent] = []
        for word in words[2:]:
            if word.text.startswith("*"):
                name, slash, dep_value = word.text[1:].partition("/")
                if not slash or not name or not dep_value:
                    raise _LineError(word, f"malformed option '{word.text}'", "write *NAME/VALUE")
                dependents.append(Dependent(name, dep_value))
        if not dependents:
            raise _LineError(
                words[-1], "an SPExtra rule adds no option", "add at least one *NAME/VALUE"
            )
        self.extras.append(
            ExtraRule(attribute, value, mnemonic, conditions, tuple(dependents), line)
        )

    def _subst(self, line: int, words: tuple[Word, ...]) -> None:
        attribute, value = self._head(line, words, "*SPSubst/")
        mnemonic = _mnemonic(words[1])
        conditions = self._conditions([w for w in words[2:] if not w.text.startswith("*")], line)
        targets = [w for w in words[2:] if w.text.startswith("*")]
        if len(targets) != 1:
            raise _LineError(
                targets[1] if targets else words[-1],
                f"an SPSubst rule needs exactly one *ppd_value, found {len(targets)}",
            )
        ppd_value = targets[0].text[1:]
        if not ppd_value or "/" in ppd_value:
            raise _LineError(
                targets[0], f"'{targets[0].text}' is not a PPD choice", "write *Choice"
            )
        self.substs.append(SubstRule(attribute, value, mnemonic, conditions, ppd_value, line))

    # ------------------------------------------------------------------ SPConstraint

    def _constraint(self, line: int, words: tuple[Word, ...]) -> None:
        _expect_count(words, exactly=4)
        mnemonic = _mnemonic(words[1])
        first, second = self._conditions(words[2:], line)
        self.constraints.append(Constraint(mnemonic, first, second, line))

    def _conditions(self, words: Iterable[Word], line: int) -> tuple[Condition, ...]:
        parsed = []
        for word in words:
            condition = _condition(word, line)
            self.conditions.append((condition, word))
            parsed.append(condition)
        return tuple(parsed)

    # ------------------------------------------------------------------ PPD mappings

    def _mapping(self, line: int, words: tuple[Word, ...]) -> None:
        option, attribute = words
        # Until this line is accepted its choices are cascades of its error: not reported.
        self.failed_mappings.add(option.text[1:])
        _expect_ppd_option(option)
        if attribute.text not in MAPPABLE_ATTRIBUTES:
            hint = "one of " + ", ".join(sorted(MAPPABLE_ATTRIBUTES))
            if option.text.startswith("*SP"):
                hint = f"is '{option.text}' a misspelt directive? Otherwise {hint}"
            raise _LineError(attribute, f"cannot map a PPD option to '{attribute.text}'", hint)
        name = option.text[1:]
        if name in self.mappings:
            raise _LineError(
                option, f"{option.text} is mapped twice (first at line {self.mappings[name][1]})"
            )
        for other, (mapped, other_line) in self.mappings.items():
            if mapped == attribute.text:
                raise _LineError(
                    attribute, f"'{mapped}' is already mapped from *{other} at line {other_line}"
                )
        self.mappings[name] = (attribute.text, line)
        self.failed_mappings.discard(name)

    def _mapping_choice(self, line: int, words: tuple[Word, ...]) -> None:
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
            raise _LineError(choice_word, f"'{choice_word.text}' is not a PPD choice", "[*]Choice")
        if not value or value.startswith(("*", "+")):
            raise _LineError(value_word, f"'{value_word.text}' is not an IPP value", "[+]value")
        choice = Choice(value, default, operator_only, line, ppd_choice)
        self.pending_choices.append(_PendingChoice(option, choice, choice_word, value_word))

    # ------------------------------------------------------------------ whole-file checks

    def finish(self) -> RuleFile | None:
        mappings = self._resolve_mappings()
        self._check_defined_values(mappings)
        if self.strict and any(d.severity is Severity.ERROR for d in self.diagnostics):
            return None
        return RuleFile(
            filename=self.filename,
            landscape_orientation=self.landscape,
            local_booklet=self.local_booklet,
            raw_print_mime_type=self.raw_mime_type,
            mappings=mappings,
            job_options=tuple(self.job_options),
            cost_rules=tuple(self.cost_rules),
            constraints=tuple(self.constraints),
            extras=tuple(self.extras),
            substs=tuple(self.substs),
            nup_rules=tuple(self.nup_rules),
        )

    def _resolve_mappings(self) -> tuple[OptionMapping, ...]:
        """Attach every choice line to its mapping line, wherever in the file either is."""
        collected: dict[str, list[Choice]] = {name: [] for name in self.mappings}
        for pending in self.pending_choices:
            name = pending.option.text[1:]
            if name in self.failed_mappings and name not in collected:
                continue
            try:
                self._check_choice(name, pending, collected)
            except _LineError as error:
                self.fail(pending.choice.line, error)
                continue
            collected[name].append(pending.choice)
        return tuple(
            OptionMapping(name, attribute, line, tuple(collected[name]))
            for name, (attribute, line) in self.mappings.items()
        )

    def _check_choice(
        self, name: str, pending: _PendingChoice, collected: dict[str, list[Choice]]
    ) -> None:
        choice = pending.choice
        if name not in collected:
            hint = f"add a line '*{name} ipp-attribute'"
            if name.startswith("SP"):
                hint = f"is '*{name}' a misspelt directive? Otherwise {hint}"
            raise _LineError(pending.option, f"choice for *{name}, which is not mapped", hint)
        attribute = self.mappings[name][0]
        enum_range = FINISHING_ENUM_RANGES.get(attribute)
        if enum_range is not None and not (
            choice.value.isdigit() and int(choice.value) in enum_range
        ):
            raise _LineError(
                pending.value_word,
                f"'{choice.value}' is not a value of {attribute}",
                _range_hint(enum_range),
            )
        for earlier in collected[name]:
            if earlier.ppd_choice == choice.ppd_choice:
                raise _LineError(
                    pending.choice_word,
                    f"choice '{choice.ppd_choice}' of *{name} is given twice (line {earlier.line})",
                )
            if earlier.value == choice.value:
                raise _LineError(
                    pending.value_word,
                    f"IPP value '{choice.value}' of *{name} is mapped twice (line {earlier.line})",
                    "each IPP value must name one PPD choice",
                )
            if earlier.default and choice.default:
                raise _LineError(
                    pending.choice_word,
                    f"*{name} has a second default choice (first at line {earlier.line})",
                )

    def _check_defined_values(self, mappings: tuple[OptionMapping, ...]) -> None:
        """Warn about conditions naming a value this file never offers: such a rule is dead."""
        defined: dict[str, set[str]] = {ROTATE180: {"0", "1"}}
        for mapping in mappings:
            if mapping.choices:
                defined[mapping.attribute] = {c.value for c in mapping.choices}
        for option in self.job_options:
            defined[option.attribute] = {c.value for c in option.choices}
        for condition, word in self.conditions:
            values = defined.get(condition.attribute)
            if values is None:
                enum_range = FINISHING_ENUM_RANGES.get(condition.attribute)
                values = {str(v) for v in enum_range} if enum_range else None
            if values is not None and condition.value not in values:
                self.warn(
                    condition.line,
                    word,
                    f"'{condition.value}' is not a value this file defines for "
                    f"{condition.attribute}",
                    "defined: " + ", ".join(sorted(values, key=_natural)),
                )


def _natural(value: str) -> tuple[int, str]:
    """Numbers in numeric order (3 before 20), words after them."""
    return (int(value), "") if value.isdigit() else (1 << 62, value)


def _check_nup_value(term: Word, key: str, value: str) -> None:
    if value == "-":
        return
    valid = {
        "pdf-orientation": value in {"portrait", "landscape"},
        "number-up": value.isdigit() and int(value) > 0,
        "orientation-requested": value in {"3", "4", "5", "6"},
        "number-up-layout": value in _NUP_LAYOUTS,
    }.get(key, value in _ROTATIONS)
    if not valid:
        raise _LineError(term, f"'{value}' is not a valid {key}", _NUP_HINTS[key])


_NUP_HINTS = {
    "pdf-orientation": "portrait, landscape or -",
    "pdf-rotation": "0, 90, 180, 270 or -",
    "pdf-content-rotation": "0, 90, 180, 270 or -",
    "user-rotate": "0, 90, 180, 270 or -",
    "number-up": "a positive number or -",
    "orientation-requested": "3, 4, 5, 6 or -",
    "number-up-layout": ", ".join(sorted(_NUP_LAYOUTS)) + " or -",
}


def _range_hint(values: frozenset[int]) -> str:
    numbers = sorted(values - {3})
    return (
        f"3 (none) or {numbers[0]}–{numbers[-1]}"
        if len(numbers) > 1
        else f"3 (none) or {numbers[0]}"
    )


def _expect_count(words: tuple[Word, ...], *, exactly: int = 0, at_least: int = 0) -> None:
    head = words[0].text
    if exactly and len(words) != exactly:
        offending = words[exactly] if len(words) > exactly else words[-1]
        raise _LineError(
            offending,
            f"{head} takes {exactly} words, found {len(words)}",
            "values contain no spaces",
        )
    if at_least and len(words) < at_least:
        raise _LineError(words[-1], f"{head} needs at least {at_least} words, found {len(words)}")


def _expect_attribute_name(word: Word) -> None:
    if word.text.startswith(("*", "+")) or "/" in word.text:
        raise _LineError(word, f"'{word.text}' is not an attribute name", "e.g. media-color")


def _expect_ppd_option(word: Word) -> None:
    if not word.text.startswith("*") or len(word.text) < 2:
        raise _LineError(
            word,
            f"'{word.text}' is not a PPD option",
            "mapping lines start with *PPDOption; comments start with #",
        )


def _mnemonic(word: Word) -> str:
    if word.text.startswith("*") or "/" in word.text:
        raise _LineError(
            word,
            f"expected a mnemonic, found '{word.text}'",
            "name the rule first, e.g. cost-staple-a4",
        )
    return word.text


def _decimal(word: Word) -> Decimal:
    if not _DECIMAL.fullmatch(word.text):
        raise _LineError(
            word, f"'{word.text}' is not a decimal number", "use a dot and no grouping, e.g. 0.05"
        )
    return Decimal(word.text)


def _condition(word: Word, line: int) -> Condition:
    attribute, slash, value = word.text.partition("/")
    if not slash:
        raise _LineError(
            word, f"condition '{word.text}' has no '/'", "write attribute/value or attribute/!value"
        )
    negated = value.startswith("!")
    if negated:
        value = value[1:]
    if not attribute or not value:
        raise _LineError(word, f"incomplete condition '{word.text}'", "write attribute/value")
    return Condition(attribute, value, negated, line)


def _choices(words: tuple[Word, ...], line: int) -> tuple[Choice, ...]:
    choices: list[Choice] = []
    default_seen = False
    for word in words:
        default = word.text.startswith("*")
        operator_only = word.text.startswith("+")
        value = word.text[1:] if default or operator_only else word.text
        if not value or value.startswith(("*", "+")):
            raise _LineError(word, f"'{word.text}' is not a choice", "[*|+]value")
        if default and default_seen:
            raise _LineError(word, "a second default choice", "mark one choice with *")
        if any(c.value == value for c in choices):
            raise _LineError(word, f"choice '{value}' is given twice")
        default_seen = default_seen or default
        choices.append(Choice(value, default, operator_only, line))
    return tuple(choices)


def parse(text: str, *, filename: str, strict: bool = True) -> ParseResult:
    """Read rule-file text. Never raises for bad input: problems come back as diagnostics."""
    builder = _Builder(filename, strict)
    if len(text) > MAX_FILE_BYTES:
        return _too_large(builder, len(text.encode("utf-8", "surrogatepass")))

    def report_control(line: int, column: int, char: str) -> None:
        error = _LineError(
            Word(char, column),
            f"control character U+{ord(char):04X}: this looks like binary data",
            "rule files are plain UTF-8 text",
        )
        builder.fail(line, error)

    for logical in logical_lines(text, report_control):
        builder.line(logical)
    rules = builder.finish()
    # Whole-file checks report after the line-by-line pass; present everything in file order.
    ordered = sorted(builder.diagnostics, key=lambda d: (d.line, d.column))
    return ParseResult(rules, tuple(ordered))


def parse_bytes(data: bytes, *, filename: str, strict: bool = True) -> ParseResult:
    """Read a rule file's bytes: UTF-8 with an optional byte-order mark.

    Bytes that are not UTF-8 are an error (strict) or a warning after which the file is read
    with replacement characters (relaxed).
    """
    builder = _Builder(filename, strict)
    if len(data) > MAX_FILE_BYTES:
        return _too_large(builder, len(data))
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        bad = data[error.start : error.end]
        severity = Severity.ERROR if strict else Severity.WARNING
        builder.diagnostics.append(
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
            return ParseResult(None, tuple(builder.diagnostics))
        text = data.decode("utf-8", errors="replace")
    result = parse(text, filename=filename, strict=strict)
    return ParseResult(result.rules, (*builder.diagnostics, *result.diagnostics))


def _too_large(builder: _Builder, size: int) -> ParseResult:
    message = f"file is {size:,} bytes, more than the {MAX_FILE_BYTES:,} a rule file may have"
    builder.diagnostics.append(
        Diagnostic(builder.filename, 1, 1, "", Severity.ERROR, message, "is this a rule file?")
    )
    return ParseResult(None, tuple(builder.diagnostics))
