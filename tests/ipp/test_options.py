"""`name=value` option strings into job attributes."""

from __future__ import annotations

import pytest

from printmgmt.ipp import Attribute, Collection, Value, ValueTag
from printmgmt.ipp.options import OptionError, attribute_from_option


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("copies=2", Attribute.integer("copies", 2)),
        ("job-priority=-1", Attribute.integer("job-priority", -1)),
        ("print-scaling=fit", Attribute.keyword("print-scaling", "fit")),
        ("page-ranges-ok=true", Attribute.boolean("page-ranges-ok", True)),
        ("x=false", Attribute.boolean("x", False)),
        ("finishings=staple-top-left,74", Attribute.enum("finishings", 20, 74)),
        ("finishings=booklet-maker", Attribute.enum("finishings", 13)),
        ("orientation-requested=landscape", Attribute.enum("orientation-requested", 4)),
        ("print-quality=5", Attribute.enum("print-quality", 5)),
        (" sides = two-sided-long-edge ", Attribute.keyword("sides", "two-sided-long-edge")),
    ],
)
def test_simple_options(option: str, expected: Attribute) -> None:
    assert attribute_from_option(option) == expected


def test_collections_nest_and_keep_member_order() -> None:
    attribute = attribute_from_option(
        "cover-front={cover-type=print-front  media-col={media-source=by-pass-tray}}"
    )
    assert attribute == Attribute.collection(
        "cover-front",
        [
            Attribute.keyword("cover-type", "print-front"),
            Attribute.collection("media-col", [Attribute.keyword("media-source", "by-pass-tray")]),
        ],
    )


def test_a_set_of_collections() -> None:
    attribute = attribute_from_option("finishings-col={finishing-template=staple},{a=1}")
    assert attribute.values == (
        Value(
            ValueTag.BEG_COLLECTION,
            Collection((Attribute.keyword("finishing-template", "staple"),)),
        ),
        Value(ValueTag.BEG_COLLECTION, Collection((Attribute.integer("a", 1),))),
    )


@pytest.mark.parametrize(
    ("option", "reason"),
    [
        ("copies", "not name=value"),
        ("=3", "not name=value"),
        ("copies=", "copies: empty value"),
        ("finishings=staple-everywhere", "unknown value"),
        ("cover-front={cover-type=x", "unbalanced braces"),
        ("cover-front={cover-type=x}}", "unbalanced braces"),
        ("cover-front={cover-type}", "member 'cover-type' is not name=value"),
        ("cover-front={a=b}x", "does not end with }"),
        ("copies=99999999999", "copies: 99999999999 is out of range"),
        ("finishings=-99999999999", "finishings: -99999999999 is out of range"),
        # "²" passes str.isdigit(), which int() refuses: a word, and the finishings know none.
        ("finishings=²", "unknown value '²'"),
    ],
)
def test_bad_options(option: str, reason: str) -> None:
    with pytest.raises(OptionError, match=reason):
        attribute_from_option(option)
