"""Words people read for the IPP and rule-file option names and values a printer offers."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from printmgmt.ppde import Violation

ATTRIBUTE_LABELS: dict[str, Promise] = {
    "sides": _("Two-sided"),
    "print-color-mode": _("Colour"),
    "media": _("Paper size"),
    "media-source": _("Tray"),
    "media-type": _("Paper type"),
    "number-up": _("Pages per side"),
    "orientation-requested": _("Orientation"),
    "print-quality": _("Quality"),
    "output-bin": _("Output tray"),
    "org.savapage-finishings-staple": _("Staple"),
    "org.savapage-finishings-punch": _("Punch"),
    "org.savapage-finishings-fold": _("Fold"),
    "org.savapage-finishings-booklet": _("Booklet"),
    "org.savapage-finishings-jog-offset": _("Jog offset"),
    "org.savapage-cover-front-type": _("Front cover"),
    "org.savapage-cover-front-media-source": _("Front cover tray"),
    "org.savapage-cover-back-type": _("Back cover"),
    "org.savapage-cover-back-media-source": _("Back cover tray"),
    "org.savapage.int-page-rotate180": _("Rotate 180°"),
    "org.savapage-job-sheets": _("Job sheets"),
}

VALUE_LABELS: dict[str, Promise] = {
    "one-sided": _("One-sided"),
    "two-sided-long-edge": _("Two-sided, long edge (book)"),
    "two-sided-short-edge": _("Two-sided, short edge (calendar)"),
    "monochrome": _("Black and white"),
    "color": _("Colour"),
    "auto": _("Automatic"),
    "none": _("None"),
    "no-cover": _("No cover"),
    "print-front": _("Printed cover"),
    "print-none": _("Blank cover"),
    "iso_a4_210x297mm": _("A4"),
    "iso_a3_297x420mm": _("A3"),
    "iso_a5_148x210mm": _("A5"),
    "na_letter_8.5x11in": _("US Letter"),
    "na_legal_8.5x14in": _("US Legal"),
    # finishings enum values of PWG 5100.1
    "3": _("None"),
    "4": _("Staple"),
    "20": _("Staple top left"),
    "21": _("Staple bottom left"),
    "22": _("Staple top right"),
    "28": _("Two staples left"),
    "5": _("Punch"),
    "74": _("Punch two holes left"),
    "75": _("Punch two holes top"),
    "78": _("Punch three holes left"),
    "93": _("Fold in half"),
    "10": _("Fold"),
    "13": _("Booklet maker"),
    "14": _("Jog offset"),
    "toleft-totop": _("Booklet, left binding"),
}

ROTATE_LABELS: dict[str, Promise] = {"0": _("No"), "1": _("Yes")}
ORIENTATION_LABELS: dict[str, Promise] = {
    "3": _("Portrait"),
    "4": _("Landscape"),
    "5": _("Reverse landscape"),
    "6": _("Reverse portrait"),
}


def violation_text(violation: Violation) -> str:
    """A broken constraint in the words of the print dialog."""
    first, second = violation.constraint.first.attribute, violation.constraint.second.attribute
    return _(
        "%(first)s “%(first_value)s” cannot be combined with %(second)s “%(second_value)s” "
        "on this printer."
    ) % {
        "first": attribute_label(first),
        "first_value": value_label(first, violation.first_value),
        "second": attribute_label(second),
        "second_value": value_label(second, violation.second_value),
    }


def attribute_label(attribute: str) -> str:
    label = ATTRIBUTE_LABELS.get(attribute)
    return str(label) if label is not None else attribute


def value_label(attribute: str, value: str) -> str:
    if attribute == "org.savapage.int-page-rotate180":
        table = ROTATE_LABELS
    elif attribute == "orientation-requested":
        table = ORIENTATION_LABELS
    elif attribute == "number-up" or attribute == "copies":
        return value
    else:
        table = VALUE_LABELS
    label = table.get(value)
    return str(label) if label is not None else value
