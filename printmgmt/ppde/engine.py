"""The rules engine: what a user may choose, what cannot be combined, and what is sent.

`RuleEngine` is built once per activated rule file (it indexes the rules) and is then
asked about jobs. A job is a mapping of attribute name → value or tuple of values; page
geometry, pages and copies are passed separately. Printer capabilities are a plain mapping
of the printer's IPP attributes (`sides-supported`, `finishings-supported`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from printmgmt.ppde.index import RuleIndex
from printmgmt.ppde.model import (
    COVER_BACK_SOURCE,
    COVER_BACK_TYPE,
    COVER_FRONT_SOURCE,
    COVER_FRONT_TYPE,
    FINISHING_ENUM_RANGES,
    FINISHINGS_BOOKLET,
    ROTATE180,
    Choice,
    Condition,
    Constraint,
    CostScope,
    JobAttributes,
    LandscapeOrientation,
    Refusal,
    RuleFile,
    job_values,
)
from printmgmt.ppde.nup import NupDecision, PageGeometry, nup_decision
from printmgmt.ppde.outgoing import (
    OutCollection,
    OutValue,
    Syntax,
    collection,
    enum_value,
    keyword,
    text,
)
from printmgmt.ppde.pricing import Price, SidePriceTable, compute_price

Target = Literal["ppd", "ipp"]
CapabilityScalar = str | int | bool | range
CapabilityValue = CapabilityScalar | tuple[CapabilityScalar, ...]
PrinterAttributes = Mapping[str, CapabilityValue]

#: PWG 5100.1 finishings keywords, for messages and for finishing-template names.
FINISHING_NAMES: Mapping[int, str] = {
    3: "none",
    13: "booklet-maker",
    14: "jog-offset",
    20: "staple-top-left",
    21: "staple-bottom-left",
    22: "staple-top-right",
    23: "staple-bottom-right",
    24: "edge-stitch-left",
    25: "edge-stitch-top",
    26: "edge-stitch-right",
    27: "edge-stitch-bottom",
    28: "staple-dual-left",
    29: "staple-dual-top",
    30: "staple-dual-right",
    31: "staple-dual-bottom",
    32: "staple-triple-left",
    33: "staple-triple-top",
    34: "staple-triple-right",
    35: "staple-triple-bottom",
    70: "punch-top-left",
    71: "punch-bottom-left",
    72: "punch-top-right",
    73: "punch-bottom-right",
    74: "punch-dual-left",
    75: "punch-dual-top",
    76: "punch-dual-right",
    77: "punch-dual-bottom",
    78: "punch-triple-left",
    79: "punch-triple-top",
    80: "punch-triple-right",
    81: "punch-triple-bottom",
    82: "punch-quad-left",
    83: "punch-quad-top",
    84: "punch-quad-right",
    85: "punch-quad-bottom",
    90: "fold-accordion",
    91: "fold-double-gate",
    92: "fold-gate",
    93: "fold-half",
    94: "fold-half-z",
    95: "fold-left-gate",
    96: "fold-letter",
    97: "fold-parallel",
    98: "fold-poster",
    99: "fold-right-gate",
    100: "fold-z",
}
BOOKLET_MAKER = 13

#: Job template attributes a printer advertises as `<name>-supported` (RFC 8011, PWG 5100.x).
_TEMPLATE_ATTRIBUTES = frozenset(
    {
        "sides",
        "print-color-mode",
        "printer-resolution",
        "number-up",
        "output-bin",
        "sheet-collate",
        "print-scaling",
        "copies",
        "orientation-requested",
        "number-up-layout",
        "print-quality",
        "page-delivery",
    }
)
#: Members of media-col, under the names the job uses for them.
_MEDIA_COL_MEMBERS = {
    "media": "media-size-name",
    "media-source": "media-source",
    "media-type": "media-type",
}
_SYNTAX = {
    "copies": Syntax.INTEGER,
    "number-up": Syntax.INTEGER,
    "job-priority": Syntax.INTEGER,
    "orientation-requested": Syntax.ENUM,
    "print-quality": Syntax.ENUM,
    "finishings": Syntax.ENUM,
    "printer-resolution": Syntax.RESOLUTION,
    "job-name": Syntax.NAME,
}
#: Standard attributes offered to users straight from the printer unless a mapping
#: replaces their choice list.
_OFFERED_FROM_PRINTER = (
    "media",
    "media-source",
    "media-type",
    "sides",
    "print-color-mode",
    "printer-resolution",
    "number-up",
    "output-bin",
    "sheet-collate",
    "print-scaling",
)


def booklet_constraints() -> tuple[Constraint, ...]:
    """The optional built-in set: a booklet cannot be combined with these (line 0)."""
    booklet = Condition(FINISHINGS_BOOKLET, "none", True, 0)
    others = [Condition("number-up", n, False, 0) for n in ("1", "4", "6", "9")]
    others.append(Condition("sides", "one-sided", False, 0))
    others.append(Condition(ROTATE180, "1", False, 0))
    return tuple(
        Constraint(f"booklet-{other.attribute}-{other.value}", booklet, other, 0)
        for other in others
    )


_BOOKLET_CONSTRAINTS = booklet_constraints()


# ---------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class OfferedChoice:
    value: str
    operator_only: bool


@dataclass(frozen=True, slots=True)
class OfferedOption:
    """An option for the print dialog. `line` is 0 when it comes from the printer."""

    attribute: str
    choices: tuple[OfferedChoice, ...]
    default: str | None
    source: str
    line: int


@dataclass(frozen=True, slots=True)
class Capabilities:
    duplex: bool
    color: bool
    manual_tray: bool


@dataclass(frozen=True, slots=True)
class Violation:
    constraint: Constraint
    first_value: str
    second_value: str

    @property
    def message(self) -> str:
        c = self.constraint
        where = f"line {c.line}" if c.line else "built-in booklet constraint"
        return (
            f"{c.first.attribute}={self.first_value} cannot be combined with "
            f"{c.second.attribute}={self.second_value} ({c.mnemonic}, {where})"
        )


@dataclass(frozen=True, slots=True)
class FiredRule:
    """One thing "explain" shows: a mapping, SPExtra, SPSubst or n-up row that applied."""

    kind: str
    name: str
    line: int
    effect: str


@dataclass(frozen=True, slots=True)
class Translation:
    target: Target
    attributes: Mapping[str, OutValue]
    fired: tuple[FiredRule, ...]
    #: Job attributes that stay with us (internal, job-ticket, cover choices).
    withheld: tuple[str, ...]
    refusal: Refusal | None
    nup: NupDecision | None


class _Refused(Exception):
    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.refusal = Refusal(option, message)


def effective_attributes(attributes: JobAttributes) -> dict[str, str | tuple[str, ...]]:
    """The job as rules see it: a cover's media source is dropped without a cover (spec §3)."""
    effective = dict(attributes)
    for type_name, source_name in (
        (COVER_FRONT_TYPE, COVER_FRONT_SOURCE),
        (COVER_BACK_TYPE, COVER_BACK_SOURCE),
    ):
        if _first(effective, type_name) in (None, "no-cover"):
            effective.pop(source_name, None)
    return effective


def _first(attributes: JobAttributes, name: str) -> str | None:
    values = job_values(attributes, name)
    return values[0] if values else None


def _supported(printer: PrinterAttributes, name: str, value: str) -> bool | None:
    """Whether `<name>-supported` lists `value`; None when the printer does not say."""
    listed = printer.get(f"{name}-supported")
    if listed is None:
        return None
    for item in listed if isinstance(listed, tuple) else (listed,):
        if isinstance(item, range):
            if value.lstrip("-").isdigit() and int(value) in item:
                return True
        elif str(item).lower() == value.lower():
            return True
    return False


def _listed(printer: PrinterAttributes, name: str) -> tuple[str, ...]:
    listed = printer.get(name)
    if listed is None:
        return ()
    items = listed if isinstance(listed, tuple) else (listed,)
    return tuple(str(item).lower() for item in items if not isinstance(item, range))


class RuleEngine:
    """Answers questions about jobs for one rule file (or none: printer defaults only)."""

    def __init__(self, rules: RuleFile | None = None, *, booklet_constraints: bool = True) -> None:
        self.rules = rules if rules is not None else empty_rule_file()
        self.booklet_constraints = booklet_constraints
        self._mapping_by_attribute = {m.attribute: m for m in self.rules.mappings}
        self._withheld = frozenset(o.attribute for o in self.rules.job_options)
        self._constraints = RuleIndex(self.rules.constraints, lambda c: (c.first, c.second))
        self._cost_index = {
            scope: RuleIndex(
                [r for r in self.rules.cost_rules if r.scope is scope], lambda r: r.conditions
            )
            for scope in CostScope
        }

    # ------------------------------------------------------------------ options

    def capabilities(self, printer: PrinterAttributes) -> Capabilities:
        """What the mappings and the printer's own lists say the device can do."""
        values: dict[str, set[str]] = {
            name: {c.value.lower() for c in m.choices}
            for name, m in self._mapping_by_attribute.items()
        }
        for name in ("sides", "print-color-mode", "media-source"):
            values.setdefault(name, set()).update(_listed(printer, f"{name}-supported"))
        return Capabilities(
            duplex=any(v.startswith("two-sided") for v in values["sides"]),
            color=bool(values["print-color-mode"] & {"color", "auto"}),
            manual_tray=any(v.startswith("manual") for v in values["media-source"]),
        )

    def user_options(
        self, printer: PrinterAttributes, *, target: Target, operator: bool = False
    ) -> tuple[OfferedOption, ...]:
        """The options of the print dialog: mapped, declared, then the printer's own."""
        offered: dict[str, OfferedOption] = {}
        for mapping in self.rules.mappings:
            choices = mapping.choices
            if target == "ipp":
                choices = tuple(
                    c for c in choices if self._ipp_offers(mapping.attribute, c.value, printer)
                )
            option = _offer(
                mapping.attribute, choices, f"*{mapping.ppd_option}", mapping.line, operator
            )
            if option is not None:
                offered[mapping.attribute] = option
        for job_option in self.rules.job_options:
            choices = job_option.choices
            if target == "ipp" and job_option.attribute in (COVER_FRONT_TYPE, COVER_BACK_TYPE):
                side = "front" if job_option.attribute == COVER_FRONT_TYPE else "back"
                if printer.get(f"cover-{side}-supported") is None:
                    continue
                choices = tuple(
                    c
                    for c in choices
                    if c.value == "no-cover"
                    or _supported(printer, "cover-type", c.value) is not False
                )
            if target == "ipp" and job_option.attribute in (COVER_FRONT_SOURCE, COVER_BACK_SOURCE):
                choices = tuple(
                    c for c in choices if _supported(printer, "media-source", c.value) is not False
                )
            option = _offer(
                job_option.attribute, choices, job_option.scope.value, job_option.line, operator
            )
            if option is not None:
                offered[job_option.attribute] = option
        for name in _OFFERED_FROM_PRINTER:
            listed = _listed(printer, f"{name}-supported")
            if name in offered or not listed:
                continue
            default = _listed(printer, f"{name}-default")
            offered[name] = OfferedOption(
                name,
                tuple(OfferedChoice(v, False) for v in listed),
                default[0] if default else listed[0],
                "printer",
                0,
            )
        if ROTATE180 not in offered:
            offered[ROTATE180] = OfferedOption(
                ROTATE180,
                (OfferedChoice("0", False), OfferedChoice("1", False)),
                "0",
                "built-in",
                0,
            )
        return tuple(offered.values())

    def _ipp_offers(self, attribute: str, value: str, printer: PrinterAttributes) -> bool:
        """A driverless printer only gets what it says it can do (when it says)."""
        number = _finishing_number(attribute, value)
        if number is None:
            return _supported(printer, attribute, value) is not False
        return number == 3 or _finishing_form(printer, number) is not None

    # ------------------------------------------------------------------ constraints

    def violations(self, attributes: JobAttributes) -> tuple[Violation, ...]:
        """Every SPConstraint (and built-in booklet constraint, if enabled) the job breaks."""
        effective = effective_attributes(attributes)
        constraints = list(self._constraints.candidates(effective))
        if self.booklet_constraints:
            constraints.extend(_BOOKLET_CONSTRAINTS)
        found = []
        for constraint in constraints:
            if constraint.violated_by(effective):
                found.append(
                    Violation(
                        constraint,
                        _condition_value(constraint.first, effective),
                        _condition_value(constraint.second, effective),
                    )
                )
        return tuple(found)

    # ------------------------------------------------------------------ translation

    def translate(
        self,
        attributes: JobAttributes,
        *,
        target: Target,
        printer: PrinterAttributes | None = None,
        geometry: PageGeometry | None = None,
    ) -> Translation:
        """The attributes to send for `target`, or a refusal naming the option at fault."""
        effective = effective_attributes(attributes)
        state = _Outgoing(target)
        try:
            if target == "ppd":
                self._translate_ppd(effective, state)
            else:
                self._translate_ipp(effective, state, printer or {})
            nup = self._apply_nup(effective, state, printer or {}, geometry or PageGeometry())
        except _Refused as refused:
            return Translation(
                target, MappingProxyType({}), tuple(state.fired), (), refused.refusal, None
            )
        return Translation(
            target,
            MappingProxyType(state.finish()),
            tuple(state.fired),
            tuple(state.withheld),
            None,
            nup,
        )

    def _is_withheld(self, name: str) -> bool:
        return name.startswith("org.savapage") or name in self._withheld

    def _translate_ppd(self, job: dict[str, str | tuple[str, ...]], out: _Outgoing) -> None:
        for name, value in job.items():
            values = (value,) if isinstance(value, str) else value
            mapping = self._mapping_by_attribute.get(name)
            if name in _MEDIA_COL_MEMBERS:
                out.media_col[_MEDIA_COL_MEMBERS[name]] = keyword(values[0])
            elif mapping is not None:
                ppd_choice = mapping.ppd_choice_for(values[0])
                if ppd_choice is None:
                    raise _Refused(
                        name,
                        f"{name}={values[0]} is not one of the choices of *{mapping.ppd_option} "
                        f"(line {mapping.line})",
                    )
                out.attributes[mapping.ppd_option] = text(ppd_choice)
                out.fired.append(
                    FiredRule(
                        "mapping",
                        f"*{mapping.ppd_option}",
                        mapping.line,
                        f"{mapping.ppd_option}={ppd_choice}",
                    )
                )
            elif self._is_withheld(name):
                out.withheld.append(name)
            else:
                out.attributes[name] = _typed(name, values)
        self._apply_extras(job, out, ppd=True)
        substituted: dict[str, tuple[str, int, str]] = {}
        for rule in self.rules.substs:
            if rule.fires(job):
                substituted[rule.attribute] = (rule.mnemonic, rule.line, rule.ppd_value)
        for attribute, (mnemonic, line, ppd_value) in substituted.items():
            mapping = self._mapping_by_attribute.get(attribute)
            key = mapping.ppd_option if mapping is not None else attribute
            out.attributes[key] = text(ppd_value)
            out.fired.append(FiredRule("SPSubst", mnemonic, line, f"{key}={ppd_value}"))

    def _apply_extras(self, job: JobAttributes, out: _Outgoing, *, ppd: bool) -> None:
        for rule in self.rules.extras:
            if not rule.fires(job):
                continue
            for dependent in rule.dependents:
                name, value = dependent.name, dependent.value
                if name in _MEDIA_COL_MEMBERS:
                    out.media_col[_MEDIA_COL_MEMBERS[name]] = keyword(value)
                    effect = f"media-col {_MEDIA_COL_MEMBERS[name]}={value}"
                elif name in out.attributes:
                    out.attributes[name] = _typed(name, (value,), out.attributes[name].syntax)
                    effect = f"{name}={value} (replaced)"
                elif ppd:
                    out.attributes[name] = text(value)
                    effect = f"{name}={value}"
                elif name in _TEMPLATE_ATTRIBUTES:
                    out.attributes[name] = _typed(name, (value,))
                    effect = f"{name}={value}"
                else:
                    effect = f"{name}={value} not sent: a PPD option, and this printer has no PPD"
                out.fired.append(FiredRule("SPExtra", rule.mnemonic, rule.line, effect))

    def _translate_ipp(
        self, job: dict[str, str | tuple[str, ...]], out: _Outgoing, printer: PrinterAttributes
    ) -> None:
        finishings: list[tuple[str, int]] = []
        for name, value in job.items():
            values = (value,) if isinstance(value, str) else value
            number = _finishing_number(name, values[0])
            if name in _MEDIA_COL_MEMBERS:
                if _require_supported(printer, name, values[0]):
                    out.media_col[_MEDIA_COL_MEMBERS[name]] = keyword(values[0])
            elif name in FINISHING_ENUM_RANGES or name == FINISHINGS_BOOKLET:
                if number is not None and number != 3:
                    finishings.append((name, number))
                out.withheld.append(name)
            elif name in (COVER_FRONT_TYPE, COVER_BACK_TYPE):
                self._cover(job, name, values[0], out, printer)
            elif self._is_withheld(name):
                out.withheld.append(name)
            elif name in _TEMPLATE_ATTRIBUTES:
                if _require_supported(printer, name, values[0]):
                    out.attributes[name] = _typed(name, values)
            else:
                out.attributes[name] = _typed(name, values)
        if finishings:
            _send_finishings(finishings, out, printer)
        self._apply_extras(job, out, ppd=False)

    def _cover(
        self,
        job: JobAttributes,
        name: str,
        cover_type: str,
        out: _Outgoing,
        printer: PrinterAttributes,
    ) -> None:
        out.withheld.append(name)
        if cover_type == "no-cover":
            return
        side = "front" if name == COVER_FRONT_TYPE else "back"
        if printer.get(f"cover-{side}-supported") is None:
            raise _Refused(
                name, f"the printer has no {side} cover support (cover-{side}-supported)"
            )
        if _supported(printer, "cover-type", cover_type) is False:
            raise _Refused(name, f"the printer does not list cover-type {cover_type}")
        members: list[tuple[str, OutValue]] = [("cover-type", keyword(cover_type))]
        source = _first(job, COVER_FRONT_SOURCE if side == "front" else COVER_BACK_SOURCE)
        if source is not None:
            if _supported(printer, "media-source", source) is not True:
                raise _Refused(
                    name, f"the printer does not list media-source {source} for the {side} cover"
                )
            members.append(("media-col", collection(("media-source", keyword(source)))))
        out.attributes[f"cover-{side}"] = collection(*members)
        out.fired.append(FiredRule("cover", name, 0, f"cover-{side} {cover_type}"))

    def _apply_nup(
        self,
        job: JobAttributes,
        out: _Outgoing,
        printer: PrinterAttributes,
        geometry: PageGeometry,
    ) -> NupDecision:
        number_up = _first(job, "number-up") or "1"
        if not number_up.isdigit() or int(number_up) < 1:
            raise _Refused("number-up", f"number-up {number_up} is not a positive number")
        # A driverless printer follows RFC 8011, where landscape is +90°: a Plus90 device.
        driver = (
            self.rules.landscape_orientation if out.target == "ppd" else LandscapeOrientation.PLUS90
        )
        decision = nup_decision(
            driver,
            geometry,
            number_up=int(number_up),
            rotate180=_first(job, ROTATE180) == "1",
            custom_rules=self.rules.nup_rules,
        )
        name = decision.rule.mnemonic if decision.rule else "built-in table"
        line = decision.rule.line if decision.rule else 0
        sent = []
        if decision.orientation_requested is not None:
            value = str(decision.orientation_requested)
            if out.target == "ppd" or _supported(printer, "orientation-requested", value):
                out.attributes["orientation-requested"] = enum_value(decision.orientation_requested)
                sent.append(f"orientation-requested={value}")
        if decision.number_up_layout is not None:
            layout = decision.number_up_layout
            if out.target == "ppd" or _supported(printer, "number-up-layout", layout):
                out.attributes["number-up-layout"] = keyword(layout)
                sent.append(f"number-up-layout={layout}")
        if sent:
            out.fired.append(FiredRule("n-up", name, line, ", ".join(sent)))
        return decision

    # ------------------------------------------------------------------ prices

    def price(
        self,
        attributes: JobAttributes,
        *,
        pages: int,
        copies: int = 1,
        fallback: SidePriceTable | None = None,
        minor_unit_exponent: int = 2,
    ) -> Price:
        """The job's price per spec §4, with a breakdown naming each rule that charged."""
        return compute_price(
            effective_attributes(attributes),
            self._cost_index,
            pages=pages,
            copies=copies,
            fallback=fallback,
            minor_unit_exponent=minor_unit_exponent,
        )


class _Outgoing:
    """Attributes being assembled for one translation."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.attributes: dict[str, OutValue] = {}
        self.media_col: dict[str, OutValue] = {}
        self.fired: list[FiredRule] = []
        self.withheld: list[str] = []

    def finish(self) -> dict[str, OutValue]:
        if self.media_col:
            self.attributes["media-col"] = OutValue(
                Syntax.COLLECTION, (OutCollection(tuple(self.media_col.items())),)
            )
        return self.attributes


def _offer(
    attribute: str, choices: tuple[Choice, ...], source: str, line: int, operator: bool
) -> OfferedOption | None:
    visible = [c for c in choices if operator or not c.operator_only]
    if not visible:
        return None
    default = next((c.value for c in visible if c.default), None)
    if default is None:
        default = next((c.value for c in visible if not c.operator_only), visible[0].value)
    return OfferedOption(
        attribute,
        tuple(OfferedChoice(c.value, c.operator_only) for c in visible),
        default,
        source,
        line,
    )


def _condition_value(condition: Condition, attributes: JobAttributes) -> str:
    values = job_values(attributes, condition.attribute) or ()
    if condition.negated:
        return next((v for v in values if v != condition.value), "")
    return condition.value


def _finishing_number(attribute: str, value: str) -> int | None:
    """The PWG 5100.1 number of an extension finishing choice; None for other attributes."""
    if attribute == FINISHINGS_BOOKLET:
        return 3 if value == "none" else BOOKLET_MAKER
    if attribute in FINISHING_ENUM_RANGES and value.isdigit():
        return int(value)
    return None


def _finishing_form(printer: PrinterAttributes, number: int) -> Literal["enum", "col"] | None:
    """How a driverless printer takes a finishing: as `finishings`, as a template, or not."""
    if _supported(printer, "finishings", str(number)):
        return "enum"
    name = FINISHING_NAMES.get(number)
    if (
        name is not None
        and _supported(printer, "finishings-col", "finishing-template")
        and _supported(printer, "finishing-template", name)
    ):
        return "col"
    return None


def _send_finishings(
    chosen: list[tuple[str, int]], out: _Outgoing, printer: PrinterAttributes
) -> None:
    forms = []
    for attribute, number in chosen:
        form = _finishing_form(printer, number)
        if form is None:
            label = FINISHING_NAMES.get(number, str(number))
            raise _Refused(attribute, f"the printer does not support finishings {number} ({label})")
        forms.append(form)
    numbers = [number for _, number in chosen]
    if all(form == "enum" for form in forms):
        out.attributes["finishings"] = enum_value(*numbers)
    else:
        # finishings and finishings-col must not be mixed, and every finishing here has a
        # template name, so all go as finishings-col.
        out.attributes["finishings-col"] = OutValue(
            Syntax.COLLECTION,
            tuple(
                OutCollection((("finishing-template", keyword(FINISHING_NAMES[n])),))
                for n in numbers
            ),
        )
    out.fired.append(
        FiredRule("finishings", ", ".join(a for a, _ in chosen), 0, ", ".join(map(str, numbers)))
    )


def _require_supported(printer: PrinterAttributes, name: str, value: str) -> bool:
    """True to send, False to leave out (the printer's own default); refuse otherwise."""
    supported = _supported(printer, name, value)
    if supported:
        return True
    if supported is None and _listed(printer, f"{name}-default")[:1] == (value.lower(),):
        return False
    raise _Refused(name, f"the printer does not list {name} {value} as supported")


def _typed(name: str, values: tuple[str, ...], syntax: Syntax | None = None) -> OutValue:
    syntax = syntax or _SYNTAX.get(name, Syntax.KEYWORD)
    if syntax in (Syntax.INTEGER, Syntax.ENUM):
        if not all(v.lstrip("-").isdigit() for v in values):
            raise _Refused(name, f"{name} needs a number, not {' '.join(values)}")
        return OutValue(syntax, tuple(int(v) for v in values))
    return OutValue(syntax, values)


def empty_rule_file(filename: str = "") -> RuleFile:
    """A rule file that says nothing: printer defaults, no rules."""
    return RuleFile(
        filename=filename,
        landscape_orientation=LandscapeOrientation.PLUS90,
        local_booklet=False,
        raw_print_mime_type=None,
        mappings=(),
        job_options=(),
        cost_rules=(),
        constraints=(),
        extras=(),
        substs=(),
        nup_rules=(),
    )
