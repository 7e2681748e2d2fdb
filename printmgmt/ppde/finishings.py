"""Finishings (PWG 5100.1): the numbers the rule file's extension attributes stand for, and
how a driverless printer takes them.

Both the options offered for an IPP printer and the translation of a job ask the same
question — can this printer do finishing N, and in which form — so it is answered here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from printmgmt.digits import whole_number
from printmgmt.ppde.model import FINISHING_ENUM_RANGES, FINISHINGS_BOOKLET
from printmgmt.ppde.printer import PrinterAttributes, supported

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


def finishing_number(attribute: str, value: str) -> int | None:
    """The PWG 5100.1 number of an extension finishing choice; None for other attributes."""
    if attribute == FINISHINGS_BOOKLET:
        return 3 if value == "none" else BOOKLET_MAKER
    if attribute in FINISHING_ENUM_RANGES:
        return whole_number(value)
    return None


def finishing_form(printer: PrinterAttributes, number: int) -> Literal["enum", "col"] | None:
    """How a driverless printer takes a finishing: as `finishings`, as a template, or not."""
    if supported(printer, "finishings", str(number)):
        return "enum"
    name = FINISHING_NAMES.get(number)
    if (
        name is not None
        and supported(printer, "finishings-col", "finishing-template")
        and supported(printer, "finishing-template", name)
    ):
        return "col"
    return None
