"""The print dialog's words for option names and values."""

from __future__ import annotations

import pytest
from django.utils import translation

from apps.portal.option_labels import attribute_label, value_label


@pytest.mark.parametrize(
    ("attribute", "value", "label"),
    [
        ("org.savapage-finishings-punch", "82", "Punch four holes left"),
        ("org.savapage-finishings-fold", "96", "Letter fold"),
        ("org.savapage-finishings-fold", "3", "None"),
        ("org.savapage-finishings-booklet", "toleft-totop", "Booklet, left binding"),
        ("finishings", "28", "Two staples left"),
        # The same number means something else for other attributes.
        ("print-quality", "3", "Draft"),
        ("orientation-requested", "3", "Portrait"),
        ("print-scaling", "none", "Actual size"),
        ("print-scaling", "auto-fit", "Shrink to fit when too large"),
        ("printer-resolution", "300dpi", "300 dpi"),
        ("printer-resolution", "600x1200dpi", "600 × 1200 dpi"),
        ("output-bin", "face-down", "Face down"),
        ("media-type", "cardstock", "Card"),
        ("media-source", "by-pass-tray", "Bypass tray"),
        ("number-up", "4", "4"),
        ("media-source", "tray-7", "tray-7"),  # unknown: as the printer names it
    ],
)
def test_values_read_as_words(attribute: str, value: str, label: str) -> None:
    assert value_label(attribute, value) == label


def test_labels_follow_the_language() -> None:
    with translation.override("de"):
        assert attribute_label("printer-resolution") == "Auflösung"
        assert value_label("org.savapage-finishings-fold", "96") == "Wickelfalz"
