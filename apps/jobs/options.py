"""From the options a user chose to what is priced and what is sent.

Booklets are the one place where these differ: a booklet puts two pages on each side of a
sheet printed on both sides. The rule file prices and checks it that way (number-up 2,
two-sided), but the pages are laid out by us (local imposition) or by the printer's booklet
maker, so the printer must not be asked to lay them out again.
"""

from __future__ import annotations

from apps.printers.choices import PrinterKind
from apps.printers.models import Printer
from printmgmt.ppde import RuleEngine
from printmgmt.ppde.model import FINISHINGS_BOOKLET

JobOptions = dict[str, str | tuple[str, ...]]

BOOKLET_MAKER = 13
BOOKLET_SIDES = "two-sided-short-edge"


def booklet_chosen(attributes: JobOptions) -> bool:
    return attributes.get(FINISHINGS_BOOKLET, "none") not in ("none", "")


def needs_local_booklet(printer: Printer, engine: RuleEngine, attributes: JobOptions) -> bool:
    """We impose the booklet when the rule file says so, or a driverless printer lacks a
    booklet maker."""
    if not booklet_chosen(attributes):
        return False
    if engine.rules.local_booklet:
        return True
    finishings = printer.capabilities.get("finishings-supported", [])
    return printer.kind == PrinterKind.DRIVERLESS and BOOKLET_MAKER not in finishings


def priced_options(printer: Printer, engine: RuleEngine, attributes: JobOptions) -> JobOptions:
    """The options constraints and prices see: a booklet we impose is printed two-sided."""
    priced = dict(attributes)
    if needs_local_booklet(printer, engine, attributes):
        priced["sides"] = BOOKLET_SIDES
    return priced


def sent_options(printer: Printer, engine: RuleEngine, attributes: JobOptions) -> JobOptions:
    """The options translated for the printer."""
    sent = dict(attributes)
    if not booklet_chosen(attributes):
        return sent
    local = needs_local_booklet(printer, engine, attributes)
    if local or printer.kind == PrinterKind.DRIVERLESS:
        sent.pop("number-up", None)
    if local:
        sent[FINISHINGS_BOOKLET] = "none"
        sent["sides"] = BOOKLET_SIDES
    return sent
