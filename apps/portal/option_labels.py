"""Words people read for the IPP and rule-file option names and values a printer offers."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.jobs.option_checks import RefusedOption
from printmgmt.ppde import Violation

if TYPE_CHECKING:
    from apps.jobs.release import Quote

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
    "printer-resolution": _("Resolution"),
    "print-scaling": _("Scaling"),
    "finishings": _("Finishing"),
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
    "toleft-totop": _("Booklet, left binding"),
    # trays (media-source) and output bins
    "main": _("Main tray"),
    "alternate": _("Alternate tray"),
    "manual": _("Manual feed"),
    "by-pass-tray": _("Bypass tray"),
    "envelope": _("Envelope"),
    "large-capacity": _("Large-capacity tray"),
    "face-down": _("Face down"),
    "face-up": _("Face up"),
    # paper types (media-type)
    "stationery": _("Plain paper"),
    "cardstock": _("Card"),
    "labels": _("Labels"),
    "transparency": _("Transparency"),
    "photographic": _("Photo paper"),
}

#: PWG 5100.1 finishings, by number: the values of `finishings` and of our extension
#: finishing attributes.
FINISHING_LABELS: dict[str, Promise] = {
    "3": _("None"),
    "4": _("Staple"),
    "5": _("Punch"),
    "10": _("Fold"),
    "13": _("Booklet maker"),
    "14": _("Jog offset"),
    "20": _("Staple top left"),
    "21": _("Staple bottom left"),
    "22": _("Staple top right"),
    "23": _("Staple bottom right"),
    "24": _("Stitch left edge"),
    "25": _("Stitch top edge"),
    "26": _("Stitch right edge"),
    "27": _("Stitch bottom edge"),
    "28": _("Two staples left"),
    "29": _("Two staples top"),
    "30": _("Two staples right"),
    "31": _("Two staples bottom"),
    "32": _("Three staples left"),
    "33": _("Three staples top"),
    "34": _("Three staples right"),
    "35": _("Three staples bottom"),
    "70": _("Punch one hole top left"),
    "71": _("Punch one hole bottom left"),
    "72": _("Punch one hole top right"),
    "73": _("Punch one hole bottom right"),
    "74": _("Punch two holes left"),
    "75": _("Punch two holes top"),
    "76": _("Punch two holes right"),
    "77": _("Punch two holes bottom"),
    "78": _("Punch three holes left"),
    "79": _("Punch three holes top"),
    "80": _("Punch three holes right"),
    "81": _("Punch three holes bottom"),
    "82": _("Punch four holes left"),
    "83": _("Punch four holes top"),
    "84": _("Punch four holes right"),
    "85": _("Punch four holes bottom"),
    "90": _("Accordion fold"),
    "91": _("Double gate fold"),
    "92": _("Gate fold"),
    "93": _("Fold in half"),
    "94": _("Half Z-fold"),
    "95": _("Left gate fold"),
    "96": _("Letter fold"),
    "97": _("Parallel fold"),
    "98": _("Poster fold"),
    "99": _("Right gate fold"),
    "100": _("Z-fold"),
}

SCALING_LABELS: dict[str, Promise] = {
    "auto": _("Automatic"),
    "auto-fit": _("Shrink to fit when too large"),
    "fill": _("Fill the page (may crop)"),
    "fit": _("Fit to the page"),
    "none": _("Actual size"),
}
QUALITY_LABELS: dict[str, Promise] = {"3": _("Draft"), "4": _("Normal"), "5": _("Best")}

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


def refused_option_text(refused: RefusedOption) -> str:
    """An option refused before pricing, in the words of the print dialog."""
    names = {
        "option": attribute_label(refused.option),
        "value": ", ".join(value_label(refused.option, value) for value in refused.values),
    }
    if refused.several:
        return _("%(option)s takes one value, not “%(value)s”.") % names
    return _("%(option)s “%(value)s” is not offered by this printer.") % names


def problems_in_words(quote: Quote) -> list[str]:
    """Why a quote cannot be released, in the words of the print dialog: the options it names
    as a person reads them, not as the rule file or IPP spell them."""
    in_words = {v.message: violation_text(v) for v in quote.violations}
    in_words.update(
        {refused.message: refused_option_text(refused) for refused in quote.refused_options}
    )
    refusal = quote.price.refusal
    if refusal is not None and (value := quote.attributes.get(refusal.option)):
        # The rule file prices no such choice: said in the dialog's words, not the file's.
        shown = value if isinstance(value, str) else ", ".join(value)
        in_words[f"{refusal.option}: {refusal.message}"] = _(
            "%(option)s “%(value)s” has no price on this printer: choose another."
        ) % {
            "option": attribute_label(refusal.option),
            "value": value_label(refusal.option, shown),
        }
    return [in_words.get(problem, problem) for problem in quote.problems]


def attribute_label(attribute: str) -> str:
    label = ATTRIBUTE_LABELS.get(attribute)
    return str(label) if label is not None else attribute


#: Tables of values that mean something else for other attributes ("3" is no finishing, the
#: draft quality and portrait).
_TABLES: dict[str, dict[str, Promise]] = {
    "org.savapage.int-page-rotate180": ROTATE_LABELS,
    "orientation-requested": ORIENTATION_LABELS,
    "print-scaling": SCALING_LABELS,
    "print-quality": QUALITY_LABELS,
}
_RESOLUTION = re.compile(r"(\d+)(?:x(\d+))?dpi")


def value_label(attribute: str, value: str) -> str:
    if attribute in ("number-up", "copies"):
        return value
    if attribute == "printer-resolution" and (match := _RESOLUTION.fullmatch(value)):
        across, down = match.groups()
        return f"{across} dpi" if down in (None, across) else f"{across} × {down} dpi"
    table = FINISHING_LABELS if "finishings" in attribute else _TABLES.get(attribute, {})
    label = table.get(value) or VALUE_LABELS.get(value)
    return str(label) if label is not None else value
