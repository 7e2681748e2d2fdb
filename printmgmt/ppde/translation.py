"""What is sent for a job (spec §3): PPD options for a printer with a driver, IPP attributes
for a driverless one.

The rule file's mappings, SPExtra and SPSubst rules and the n-up table decide what goes out;
for a driverless printer every attribute, finishing and cover is also checked against what
the printer says it supports, and anything it cannot do refuses the job with the option at
fault rather than printing something other than what was asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from printmgmt.digits import integer, whole_number
from printmgmt.ppde.finishings import FINISHING_NAMES, finishing_form, finishing_number
from printmgmt.ppde.model import (
    COVER_BACK_SOURCE,
    COVER_BACK_TYPE,
    COVER_FRONT_SOURCE,
    COVER_FRONT_TYPE,
    FINISHING_ENUM_RANGES,
    FINISHINGS_BOOKLET,
    ROTATE180,
    JobAttributes,
    LandscapeOrientation,
    Refusal,
    RuleFile,
    first_job_value,
)
from printmgmt.ppde.nup import MAX_NUMBER_UP, NupDecision, PageGeometry, nup_decision
from printmgmt.ppde.outgoing import (
    OutCollection,
    OutValue,
    Syntax,
    collection,
    enum_value,
    keyword,
    text,
)
from printmgmt.ppde.printer import PrinterAttributes, Target, listed_values, supported

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


class Translator:
    """Translates jobs for one rule file; built once with the engine, which indexes the file."""

    def __init__(self, rules: RuleFile) -> None:
        self.rules = rules
        self._mapping_by_attribute = {m.attribute: m for m in rules.mappings}
        self._withheld = frozenset(o.attribute for o in rules.job_options)

    def translate(
        self,
        job: dict[str, str | tuple[str, ...]],
        *,
        target: Target,
        printer: PrinterAttributes,
        geometry: PageGeometry,
    ) -> Translation:
        """The attributes to send for `target`, or a refusal naming the option at fault.

        `job` is the job as rules see it (`effective_attributes`).
        """
        state = _Outgoing(target)
        try:
            if target == "ppd":
                self._translate_ppd(job, state)
            else:
                self._translate_ipp(job, state, printer)
            nup = self._apply_nup(job, state, printer, geometry)
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
            # A mapped attribute goes out only as its PPD option: media-col as well would
            # ask the driver for two trays (or sizes) at once.
            if mapping is not None:
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
            elif name in _MEDIA_COL_MEMBERS:
                out.media_col[_MEDIA_COL_MEMBERS[name]] = keyword(values[0])
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
                mapping = self._mapping_by_attribute.get(name) if ppd else None
                if mapping is not None:
                    # As for the job's own value: a mapped attribute goes out as its PPD option.
                    ppd_choice = mapping.ppd_choice_for(value)
                    if ppd_choice is None:
                        raise _Refused(
                            name,
                            f"SPExtra {rule.mnemonic} (line {rule.line}) sets {name}={value}, "
                            f"which is not one of the choices of *{mapping.ppd_option} "
                            f"(line {mapping.line})",
                        )
                    out.attributes[mapping.ppd_option] = text(ppd_choice)
                    effect = f"{mapping.ppd_option}={ppd_choice} ({name}={value})"
                elif name in _MEDIA_COL_MEMBERS:
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
            number = finishing_number(name, values[0])
            if name in _MEDIA_COL_MEMBERS:
                if _require_supported(printer, name, values[0]):
                    out.media_col[_MEDIA_COL_MEMBERS[name]] = keyword(values[0])
            elif name in FINISHING_ENUM_RANGES or name == FINISHINGS_BOOKLET:
                if number is not None and number != 3:
                    finishings.append((name, number))
                out.withheld.append(name)
            elif name in (COVER_FRONT_TYPE, COVER_BACK_TYPE):
                _cover(job, name, values[0], out, printer)
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

    def _apply_nup(
        self,
        job: JobAttributes,
        out: _Outgoing,
        printer: PrinterAttributes,
        geometry: PageGeometry,
    ) -> NupDecision:
        number_up_text = first_job_value(job, "number-up") or "1"
        number_up = whole_number(number_up_text, MAX_NUMBER_UP)
        if not number_up:
            raise _Refused(
                "number-up",
                f"number-up {number_up_text} is not a whole number from 1 to {MAX_NUMBER_UP}",
            )
        # A driverless printer follows RFC 8011, where landscape is +90°: a Plus90 device.
        driver = (
            self.rules.landscape_orientation if out.target == "ppd" else LandscapeOrientation.PLUS90
        )
        decision = nup_decision(
            driver,
            geometry,
            number_up=number_up,
            rotate180=first_job_value(job, ROTATE180) == "1",
            custom_rules=self.rules.nup_rules,
        )
        name = decision.rule.mnemonic if decision.rule else "built-in table"
        line = decision.rule.line if decision.rule else 0
        sent = []
        if decision.orientation_requested is not None:
            value = str(decision.orientation_requested)
            if out.target == "ppd" or supported(printer, "orientation-requested", value):
                out.attributes["orientation-requested"] = enum_value(decision.orientation_requested)
                sent.append(f"orientation-requested={value}")
        if decision.number_up_layout is not None:
            layout = decision.number_up_layout
            if out.target == "ppd" or supported(printer, "number-up-layout", layout):
                out.attributes["number-up-layout"] = keyword(layout)
                sent.append(f"number-up-layout={layout}")
        if sent:
            out.fired.append(FiredRule("n-up", name, line, ", ".join(sent)))
        return decision


def _cover(
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
        raise _Refused(name, f"the printer has no {side} cover support (cover-{side}-supported)")
    if supported(printer, "cover-type", cover_type) is False:
        raise _Refused(name, f"the printer does not list cover-type {cover_type}")
    members: list[tuple[str, OutValue]] = [("cover-type", keyword(cover_type))]
    source = first_job_value(job, COVER_FRONT_SOURCE if side == "front" else COVER_BACK_SOURCE)
    if source is not None:
        if supported(printer, "media-source", source) is not True:
            raise _Refused(
                name, f"the printer does not list media-source {source} for the {side} cover"
            )
        members.append(("media-col", collection(("media-source", keyword(source)))))
    out.attributes[f"cover-{side}"] = collection(*members)
    out.fired.append(FiredRule("cover", name, 0, f"cover-{side} {cover_type}"))


def _send_finishings(
    chosen: list[tuple[str, int]], out: _Outgoing, printer: PrinterAttributes
) -> None:
    forms = []
    for attribute, number in chosen:
        form = finishing_form(printer, number)
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
    is_supported = supported(printer, name, value)
    if is_supported:
        return True
    if is_supported is None and listed_values(printer, f"{name}-default")[:1] == (value.lower(),):
        return False
    raise _Refused(name, f"the printer does not list {name} {value} as supported")


def _typed(name: str, values: tuple[str, ...], syntax: Syntax | None = None) -> OutValue:
    syntax = syntax or _SYNTAX.get(name, Syntax.KEYWORD)
    if syntax in (Syntax.INTEGER, Syntax.ENUM):
        numbers = [integer(v) for v in values]
        if None in numbers:
            raise _Refused(name, f"{name} needs a number, not {' '.join(values)}")
        return OutValue(syntax, tuple(n for n in numbers if n is not None))
    return OutValue(syntax, values)
