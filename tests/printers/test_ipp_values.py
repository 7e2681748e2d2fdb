"""Printer answers to stored snapshots to engine views, and engine output to IPP attributes."""

from __future__ import annotations

import pytest

from apps.printers.ipp_values import engine_view, ipp_attributes, snapshot
from printmgmt.ipp import (
    Attribute,
    Collection,
    RangeOfInteger,
    Resolution,
    TextWithLanguage,
    ValueTag,
)
from printmgmt.ppde import OutCollection, OutValue, Syntax


def test_snapshot_keeps_plain_values_and_drops_out_of_band() -> None:
    attributes = [
        Attribute.keyword("sides-supported", "one-sided", "two-sided-long-edge"),
        Attribute.enum("finishings-supported", 3, 20),
        Attribute.range_of_integer("copies-supported", RangeOfInteger(1, 999)),
        Attribute.resolution("printer-resolution-default", Resolution(600, 600, Resolution.DPI)),
        Attribute.boolean("color-supported", True),
        Attribute.of(
            "printer-info", ValueTag.TEXT_WITH_LANGUAGE, TextWithLanguage("Hall printer", "en")
        ),
        Attribute.octet_string("printer-firmware-version", b"\x01\x02"),
        Attribute.out_of_band("printer-location", ValueTag.NO_VALUE),
        Attribute.collection(
            "media-col-default",
            [Attribute.keyword("media-source", "main"), Attribute.integer("x", 1, 2)],
        ),
        Attribute.keyword("sides-supported", "ignored repeat"),
    ]
    taken = snapshot(attributes)
    assert taken == {
        "sides-supported": ["one-sided", "two-sided-long-edge"],
        "finishings-supported": [3, 20],
        "copies-supported": [{"lower": 1, "upper": 999}],
        "printer-resolution-default": ["600dpi"],
        "color-supported": [True],
        "printer-info": ["Hall printer"],
        "printer-firmware-version": ["0102"],
        "media-col-default": [{"media-source": "main", "x": [1, 2]}],
    }
    view = engine_view(taken)
    assert view["sides-supported"] == ("one-sided", "two-sided-long-edge")
    assert view["copies-supported"] == range(1, 1000)
    assert view["color-supported"] is True
    assert "media-col-default" not in view


def test_every_outgoing_syntax_becomes_its_ipp_attribute() -> None:
    cover = OutCollection(
        (
            ("cover-type", OutValue(Syntax.KEYWORD, ("print-front",))),
            ("media-col", OutValue(Syntax.COLLECTION, (OutCollection(
                (("media-source", OutValue(Syntax.KEYWORD, ("tray-3",))),)
            ),))),
        )
    )  # fmt: skip
    outgoing = {
        "sides": OutValue(Syntax.KEYWORD, ("two-sided-long-edge",)),
        "CNPunch": OutValue(Syntax.TEXT, ("Left",)),
        "job-account-id": OutValue(Syntax.NAME, ("physics",)),
        "finishings": OutValue(Syntax.ENUM, (20, 74)),
        "copies": OutValue(Syntax.INTEGER, (3,)),
        "page-delivery-reverse": OutValue(Syntax.BOOLEAN, (True,)),
        "printer-resolution": OutValue(Syntax.RESOLUTION, ("600x1200dpi",)),
        "cover-front": OutValue(Syntax.COLLECTION, (cover,)),
    }
    attributes = {a.name: a for a in ipp_attributes(outgoing)}
    assert attributes["sides"].tag == ValueTag.KEYWORD
    assert attributes["CNPunch"].tag == ValueTag.TEXT
    assert attributes["job-account-id"].tag == ValueTag.NAME
    assert attributes["finishings"].python_values == (20, 74)
    assert attributes["finishings"].tag == ValueTag.ENUM
    assert attributes["copies"].python_values == (3,)
    assert attributes["page-delivery-reverse"].python_values == (True,)
    assert attributes["printer-resolution"].value == Resolution(600, 1200, Resolution.DPI)
    front = attributes["cover-front"].value
    assert isinstance(front, Collection)
    assert front["cover-type"] == "print-front"
    media_col = front["media-col"]
    assert isinstance(media_col, Collection)
    assert media_col["media-source"] == "tray-3"


def test_a_malformed_resolution_is_refused() -> None:
    with pytest.raises(ValueError, match="is not a resolution"):
        ipp_attributes({"printer-resolution": OutValue(Syntax.RESOLUTION, ("fine",))})
