"""The print dialog: which options a user may choose, and what the device can do at all.

Options come from the rule file's mappings and declared job options first, then from the
printer's own `<name>-supported` lists. For a driverless printer every choice is checked
against what the printer says it supports, so a user is never offered what would be refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from printmgmt.ppde.finishings import finishing_form, finishing_number
from printmgmt.ppde.model import (
    COVER_BACK_SOURCE,
    COVER_BACK_TYPE,
    COVER_FRONT_SOURCE,
    COVER_FRONT_TYPE,
    FINISHINGS_BOOKLET,
    ROTATE180,
    Choice,
    OptionMapping,
    RuleFile,
)
from printmgmt.ppde.printer import PrinterAttributes, Target, listed_values, supported

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


def device_capabilities(
    mappings: Sequence[OptionMapping], printer: PrinterAttributes
) -> Capabilities:
    """What the mappings and the printer's own lists say the device can do."""
    values: dict[str, set[str]] = {
        mapping.attribute: {c.value.lower() for c in mapping.choices} for mapping in mappings
    }
    for name in ("sides", "print-color-mode", "media-source"):
        values.setdefault(name, set()).update(listed_values(printer, f"{name}-supported"))
    return Capabilities(
        duplex=any(v.startswith("two-sided") for v in values["sides"]),
        color=bool(values["print-color-mode"] & {"color", "auto"}),
        manual_tray=any(v.startswith("manual") for v in values["media-source"]),
    )


def offered_options(
    rules: RuleFile, printer: PrinterAttributes, *, target: Target, operator: bool
) -> tuple[OfferedOption, ...]:
    """The options of the print dialog: mapped, declared, then the printer's own."""
    offered: dict[str, OfferedOption] = {}
    for mapping in rules.mappings:
        choices = mapping.choices
        if target == "ipp":
            choices = tuple(
                c
                for c in choices
                if _ipp_offers(mapping.attribute, c.value, printer)
                or _imposed_here(mapping.attribute, c.value, printer)
            )
        option = _offer(
            mapping.attribute, choices, f"*{mapping.ppd_option}", mapping.line, operator
        )
        if option is not None:
            offered[mapping.attribute] = option
    for job_option in rules.job_options:
        choices = job_option.choices
        if target == "ipp" and job_option.attribute in (COVER_FRONT_TYPE, COVER_BACK_TYPE):
            side = "front" if job_option.attribute == COVER_FRONT_TYPE else "back"
            if printer.get(f"cover-{side}-supported") is None:
                continue
            choices = tuple(
                c
                for c in choices
                if c.value == "no-cover" or supported(printer, "cover-type", c.value) is not False
            )
        if target == "ipp" and job_option.attribute in (COVER_FRONT_SOURCE, COVER_BACK_SOURCE):
            choices = tuple(
                c for c in choices if supported(printer, "media-source", c.value) is not False
            )
        option = _offer(
            job_option.attribute, choices, job_option.scope.value, job_option.line, operator
        )
        if option is not None:
            offered[job_option.attribute] = option
    for name in _OFFERED_FROM_PRINTER:
        listed = listed_values(printer, f"{name}-supported")
        if name in offered or not listed:
            continue
        default = listed_values(printer, f"{name}-default")
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


def _ipp_offers(attribute: str, value: str, printer: PrinterAttributes) -> bool:
    """A driverless printer only gets what it says it can do (when it says)."""
    number = finishing_number(attribute, value)
    if number is None:
        return supported(printer, attribute, value) is not False
    return number == 3 or finishing_form(printer, number) is not None


def _imposed_here(attribute: str, value: str, printer: PrinterAttributes) -> bool:
    """A booklet a driverless printer without a booklet maker gets as pages imposed here and
    printed two-sided, flipped on the short edge: offered when it can print so."""
    return (
        attribute == FINISHINGS_BOOKLET
        and value != "none"
        and supported(printer, "sides", "two-sided-short-edge") is not False
    )


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
