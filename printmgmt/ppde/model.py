"""The parsed form of a rule file: immutable objects that remember their source line.

Nothing here knows about text; the parser builds these and the engine reads them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

#: A job's attributes as the engine sees them: name → one value or several (setOf).
JobValue = str | tuple[str, ...]
JobAttributes = Mapping[str, JobValue]

ROTATE180 = "org.savapage.int-page-rotate180"
COVER_FRONT_TYPE = "org.savapage-cover-front-type"
COVER_BACK_TYPE = "org.savapage-cover-back-type"
COVER_FRONT_SOURCE = "org.savapage-cover-front-media-source"
COVER_BACK_SOURCE = "org.savapage-cover-back-media-source"
FINISHINGS_STAPLE = "org.savapage-finishings-staple"
FINISHINGS_PUNCH = "org.savapage-finishings-punch"
FINISHINGS_FOLD = "org.savapage-finishings-fold"
FINISHINGS_BOOKLET = "org.savapage-finishings-booklet"
FINISHINGS_JOG_OFFSET = "org.savapage-finishings-jog-offset"

#: Extension finishings carried as PWG 5100.1 enum numbers, with the numbers each accepts.
FINISHING_ENUM_RANGES: Mapping[str, frozenset[int]] = {
    FINISHINGS_STAPLE: frozenset({3, *range(20, 36)}),
    FINISHINGS_PUNCH: frozenset({3, *range(70, 86)}),
    FINISHINGS_FOLD: frozenset({3, *range(90, 101)}),
    FINISHINGS_JOG_OFFSET: frozenset({3, 14}),
}

#: IPP attributes a PPD option may be mapped to (spec §3, rows 11–12).
MAPPABLE_ATTRIBUTES: frozenset[str] = frozenset(
    {
        "media-source",
        "media",
        "media-type",
        "sides",
        "print-color-mode",
        "printer-resolution",
        "number-up",
        "output-bin",
        "sheet-collate",
        "print-scaling",
        "copies",
        FINISHINGS_STAPLE,
        FINISHINGS_PUNCH,
        FINISHINGS_FOLD,
        FINISHINGS_BOOKLET,
        FINISHINGS_JOG_OFFSET,
    }
)

COVER_TYPES: frozenset[str] = frozenset(
    {"no-cover", "print-none", "print-front", "print-back", "print-both"}
)


def job_values(attributes: JobAttributes, name: str) -> tuple[str, ...] | None:
    """The values of `name` in a job, as a tuple, or None when the job does not have it."""
    value = attributes.get(name)
    if value is None:
        return None
    return (value,) if isinstance(value, str) else value


def first_job_value(attributes: JobAttributes, name: str) -> str | None:
    """The first value of `name` in a job, or None when the job does not have it."""
    values = job_values(attributes, name)
    return values[0] if values else None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a job cannot be sent or priced; `option` names the attribute at fault."""

    option: str
    message: str


@dataclass(frozen=True, slots=True)
class Condition:
    """`attr/value` or `attr/!value` (any value but `value`)."""

    attribute: str
    value: str
    negated: bool
    line: int

    def holds(self, attributes: JobAttributes, *, absent_negation_holds: bool) -> bool:
        """Whether the job satisfies this condition.

        What an absent attribute means differs by directive (spec §3 and §4): for SPExtra and
        SPSubst `attr/!v` holds when `attr` is absent; for cost rules and constraints an
        absent attribute never matches. The caller says which reading applies.
        """
        values = job_values(attributes, self.attribute)
        if values is None:
            return self.negated and absent_negation_holds
        return (self.value in values) != self.negated

    def __str__(self) -> str:
        return f"{self.attribute}/{'!' if self.negated else ''}{self.value}"


@dataclass(frozen=True, slots=True)
class Choice:
    """One value a user (or, if `operator_only`, an operator) may pick."""

    value: str
    default: bool
    operator_only: bool
    line: int
    #: For PPD mappings: the PPD choice keyword this IPP value is sent as.
    ppd_choice: str | None = None


def default_choice(choices: tuple[Choice, ...]) -> Choice | None:
    """The choice marked `*`; without one, the first that is not operator-only (spec §3)."""
    for choice in choices:
        if choice.default:
            return choice
    for choice in choices:
        if not choice.operator_only:
            return choice
    return None


@dataclass(frozen=True, slots=True)
class OptionMapping:
    """`*PPDOption ipp-attribute` together with its `*PPDOption choice value` lines."""

    ppd_option: str
    attribute: str
    line: int
    choices: tuple[Choice, ...]

    @property
    def default(self) -> Choice | None:
        return default_choice(self.choices)

    def ppd_choice_for(self, value: str) -> str | None:
        for choice in self.choices:
            if choice.value == value:
                return choice.ppd_choice
        return None


class OptionScope(enum.Enum):
    """Which directive declared a job option (never sent to the printer as itself)."""

    JOB_COPY = "*SPJob/Copy:"
    TICKET_MEDIA = "*SPJobTicket/Media:"
    TICKET_SHEET = "*SPJobTicket/Sheet:"
    TICKET_COPY = "*SPJobTicket/Copy:"
    TICKET_SET = "*SPJobTicket/Set:"


@dataclass(frozen=True, slots=True)
class JobOption:
    """`*SPJob/Copy:` or `*SPJobTicket/<scope>:` option declaration."""

    scope: OptionScope
    attribute: str
    line: int
    choices: tuple[Choice, ...]

    @property
    def default(self) -> Choice | None:
        return default_choice(self.choices)


class CostScope(enum.Enum):
    """What a cost rule's price is multiplied by (spec §4)."""

    MEDIA = "*SPJobTicket/Media/Cost:"
    SHEET = "*SPJobTicket/Sheet/Cost:"
    JOB_COPY = "*SPJob/Copy/Cost:"
    TICKET_COPY = "*SPJobTicket/Copy/Cost:"
    SET = "*SPJobTicket/Set/Cost:"


@dataclass(frozen=True, slots=True)
class CostRule:
    scope: CostScope
    price: Decimal
    mnemonic: str
    conditions: tuple[Condition, ...]
    line: int

    def matches(self, attributes: JobAttributes) -> bool:
        return all(c.holds(attributes, absent_negation_holds=False) for c in self.conditions)


@dataclass(frozen=True, slots=True)
class Constraint:
    """`*SPConstraint: mnemonic cond cond`; `line` is 0 for the built-in booklet set."""

    mnemonic: str
    first: Condition
    second: Condition
    line: int

    def violated_by(self, attributes: JobAttributes) -> bool:
        return self.first.holds(attributes, absent_negation_holds=False) and self.second.holds(
            attributes, absent_negation_holds=False
        )


@dataclass(frozen=True, slots=True)
class Dependent:
    """`*NAME/VALUE` in an SPExtra rule: an outgoing option to add or replace."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class ExtraRule:
    """`*SPExtra/<attr>/<value>: mnemonic {cond} dep {dep}`."""

    attribute: str
    value: str
    mnemonic: str
    conditions: tuple[Condition, ...]
    dependents: tuple[Dependent, ...]
    line: int

    def fires(self, attributes: JobAttributes) -> bool:
        values = job_values(attributes, self.attribute)
        if values is None or self.value not in values:
            return False
        return all(c.holds(attributes, absent_negation_holds=True) for c in self.conditions)


@dataclass(frozen=True, slots=True)
class SubstRule:
    """`*SPSubst/<attr>/<value>: mnemonic {cond} *ppd_value`."""

    attribute: str
    value: str
    mnemonic: str
    conditions: tuple[Condition, ...]
    ppd_value: str
    line: int

    def fires(self, attributes: JobAttributes) -> bool:
        values = job_values(attributes, self.attribute)
        if values is None or self.value not in values:
            return False
        return all(c.holds(attributes, absent_negation_holds=True) for c in self.conditions)


class LandscapeOrientation(enum.Enum):
    """Which way the PPD driver turns landscape pages onto the portrait sheet."""

    PLUS90 = "Plus90"
    MINUS90 = "Minus90"


NUP_INPUT_KEYS = (
    "pdf-orientation",
    "pdf-rotation",
    "pdf-content-rotation",
    "user-rotate",
    "number-up",
)
NUP_OUTPUT_KEYS = ("orientation-requested", "number-up-layout")
NUP_LANDSCAPE_TERM = "org.savapage-landscape"


@dataclass(frozen=True, slots=True)
class NupRule:
    """`*SPRule/number-up:` — one custom row of the n-up orientation table.

    `inputs` are (key, value) pairs with lower-cased keys; an input value `-` matches anything.
    An output of None (written `-`) means "do not send that attribute".
    """

    mnemonic: str
    inputs: tuple[tuple[str, str], ...]
    orientation_requested: int | None
    number_up_layout: str | None
    landscape: bool
    line: int


@dataclass(frozen=True, slots=True)
class RuleFile:
    """Everything one rule file says, in file order within each kind."""

    filename: str
    landscape_orientation: LandscapeOrientation
    local_booklet: bool
    raw_print_mime_type: str | None
    mappings: tuple[OptionMapping, ...]
    job_options: tuple[JobOption, ...]
    cost_rules: tuple[CostRule, ...]
    constraints: tuple[Constraint, ...]
    extras: tuple[ExtraRule, ...]
    substs: tuple[SubstRule, ...]
    nup_rules: tuple[NupRule, ...]

    def job_option_for(self, attribute: str) -> JobOption | None:
        for option in self.job_options:
            if option.attribute == attribute:
                return option
        return None
