"""What the printer advertises from the printers' snapshots, and how job template attributes
map onto job options (pure functions, no server)."""

from __future__ import annotations

from typing import Any

import pytest

from apps.ippserver.attributes import Capabilities, capabilities_of, media_size
from apps.ippserver.auth import basic_credentials
from apps.ippserver.job_template import ExtensionOffers, job_template
from printmgmt.ipp import Attribute, Collection, RangeOfInteger, ValueTag
from printmgmt.ppde import RuleEngine, parse
from tests.jobs.conftest import FINISHER_RULES

OFFICE: dict[str, list[Any]] = {
    "media-supported": ["iso_a4_210x297mm", "iso_a3_297x420mm", "roll_max_36x1000in"],
    "media-default": ["iso_a4_210x297mm"],
    "sides-supported": ["one-sided", "two-sided-long-edge"],
    "print-color-mode-supported": ["monochrome", "color"],
    "finishings-supported": [3, 4, 20, 74, 93, 13, 14, 50],
    "cover-type-supported": ["no-cover", "print-front"],
}
SMALL: dict[str, list[Any]] = {
    "media-supported": ["na_letter_8.5x11in"],
    "finishings-supported": [3, 28],
}


@pytest.fixture
def office() -> Capabilities:
    return capabilities_of([OFFICE, SMALL])


def offers_of(*rule_files: str) -> ExtensionOffers:
    """What printers with these rule files offer (PPD printers: every choice is theirs)."""
    engines = []
    for text in rule_files:
        rules = parse(text, filename="t.ppde").rules
        assert rules is not None, text
        engines.append(RuleEngine(rules))
    return ExtensionOffers(
        tuple(engine.user_options({}, target="ppd", operator=True) for engine in engines)
    )


FINISHER = offers_of(FINISHER_RULES)


def finisher() -> ExtensionOffers:
    return FINISHER


def test_capabilities_are_the_union_of_what_printers_can_do(office: Capabilities) -> None:
    assert office.media == (
        "iso_a4_210x297mm",
        "iso_a3_297x420mm",
        "roll_max_36x1000in",
        "na_letter_8.5x11in",
    )
    assert office.media_default == "iso_a4_210x297mm"
    assert office.sides == ("one-sided", "two-sided-long-edge")
    assert office.color
    # Only finishings our options can carry: generic staple (4) and bind (50) are left out.
    assert office.finishings == (3, 13, 14, 20, 28, 74, 93)
    assert office.cover_types == ("no-cover", "print-front")


def test_without_printers_the_defaults_are_plain_and_sensible() -> None:
    bare = capabilities_of([])
    assert bare.media == ("iso_a4_210x297mm", "na_letter_8.5x11in")
    assert (bare.sides, bare.color_modes, bare.finishings) == (
        ("one-sided",),
        ("monochrome",),
        (3,),
    )
    assert not bare.color


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("iso_a4_210x297mm", (21000, 29700)),
        ("na_letter_8.5x11in", (21590, 27940)),
        ("a4", None),
    ],
)
def test_media_sizes_come_from_pwg_names(name: str, size: tuple[int, int] | None) -> None:
    assert media_size(name) == size


@pytest.mark.parametrize(
    ("finishing", "option", "value"),
    [
        (20, "org.savapage-finishings-staple", "20"),
        (74, "org.savapage-finishings-punch", "74"),
        (93, "org.savapage-finishings-fold", "93"),
        (14, "org.savapage-finishings-jog-offset", "14"),
        (13, "org.savapage-finishings-booklet", "toleft-totop"),
    ],
)
def test_standard_finishings_map_onto_our_extension_options(
    office: Capabilities, finishing: int, option: str, value: str
) -> None:
    template = job_template([Attribute.enum("finishings", finishing)], lambda: office, finisher)
    assert template.options == {option: value}
    assert template.unsupported == []


def test_finishings_none_adds_nothing(office: Capabilities) -> None:
    assert job_template([Attribute.enum("finishings", 3)], lambda: office, finisher).options == {}


def test_two_staplings_at_once_are_unsupported(office: Capabilities) -> None:
    template = job_template([Attribute.enum("finishings", 20, 28)], lambda: office, finisher)
    assert template.options == {}
    assert [a.name for a in template.unsupported] == ["finishings"]


def test_job_template_attributes_become_options(office: Capabilities) -> None:
    cover = Collection((Attribute.keyword("cover-type", "print-front"),))
    template = job_template(
        [
            Attribute.integer("copies", 5),
            Attribute.keyword("sides", "two-sided-long-edge"),
            Attribute.keyword("media", "iso_a3_297x420mm"),
            Attribute.keyword("print-color-mode", "color"),
            Attribute.integer("number-up", 4),
            Attribute.range_of_integer("page-ranges", RangeOfInteger(1, 3), RangeOfInteger(7, 7)),
            Attribute.collection("cover-front", cover),
            Attribute.keyword("org.savapage-finishings-punch", "74"),
            Attribute.enum("print-quality", 5),  # printer's business: accepted, not kept
        ],
        lambda: office,
        finisher,
    )
    assert template.unsupported == []
    assert template.copies == 5
    assert template.page_ranges == "1-3,7"
    assert template.options == {
        "sides": "two-sided-long-edge",
        "media": "iso_a3_297x420mm",
        "print-color-mode": "color",
        "number-up": "4",
        "org.savapage-cover-front-type": "print-front",
        "org.savapage-finishings-punch": "74",
    }


def test_job_template_asks_what_printers_can_do_once_and_only_when_needed(
    office: Capabilities,
) -> None:
    asked: list[str] = []

    def capabilities() -> Capabilities:
        asked.append("capabilities")
        return office

    def extensions() -> ExtensionOffers:
        # It reads every printer's rule file: a job without our extension options (what
        # phones and desktops send) must not pay for it.
        asked.append("extensions")
        return FINISHER

    hints = [
        Attribute.keyword("job-hold-until", "indefinite"),
        Attribute.integer("copies", 2),
        Attribute.range_of_integer("page-ranges", RangeOfInteger(1, 2)),
    ]
    assert job_template(hints, capabilities, extensions).copies == 2
    assert asked == []
    checked = [Attribute.keyword("sides", "two-sided-long-edge"), Attribute.integer("number-up", 4)]
    assert job_template(hints + checked, capabilities, extensions).unsupported == []
    assert asked == ["capabilities"]
    ours = [
        Attribute.keyword("org.savapage-finishings-punch", "74"),
        Attribute.keyword("org.savapage-finishings-staple", "20"),
    ]
    assert job_template(hints + checked + ours, capabilities, extensions).unsupported == []
    assert asked == ["capabilities", "capabilities", "extensions"]


@pytest.mark.parametrize(
    "attribute",
    [
        Attribute.integer("copies", 0),
        Attribute.integer("copies", 1000),
        Attribute.keyword("sides", "two-sided-short-edge"),
        Attribute.keyword("media", "iso_a0_841x1189mm"),
        Attribute.integer("number-up", 3),
        Attribute.range_of_integer("page-ranges", RangeOfInteger(5, 2)),
        Attribute.enum("finishings", 50),
        Attribute.keyword("output-mode", "color"),
        Attribute.out_of_band("media", ValueTag.NO_VALUE),
    ],
    ids=lambda attribute: f"{attribute.name}={attribute.display()}",
)
def test_what_the_product_cannot_honour_is_unsupported(
    office: Capabilities, attribute: Attribute
) -> None:
    template = job_template([attribute], lambda: office, finisher)
    assert template.unsupported == [attribute]
    assert template.options == {}


_A4 = Collection((Attribute.keyword("media-size-name", "iso_a4_210x297mm"),))
_A3 = Collection((Attribute.keyword("media-size-name", "iso_a3_297x420mm"),))
_PRINT_FRONT = Collection((Attribute.keyword("cover-type", "print-front"),))


@pytest.mark.parametrize(
    "attribute",
    [
        Attribute.integer("copies", 2, 3),
        Attribute.keyword("sides", "one-sided", "two-sided-long-edge"),
        Attribute.keyword("media", "iso_a4_210x297mm", "iso_a3_297x420mm"),
        Attribute.keyword("print-color-mode", "color", "monochrome"),
        Attribute.integer("number-up", 2, 4),
        Attribute.collection("media-col", _A4, _A3),
        Attribute.collection("cover-front", _PRINT_FRONT, _PRINT_FRONT),
        Attribute.collection("cover-back", _PRINT_FRONT, _PRINT_FRONT),
        Attribute.enum("orientation-requested", 3, 4),
        Attribute.enum("print-quality", 4, 5),
        Attribute.keyword("job-hold-until", "no-hold", "indefinite"),
        Attribute.keyword("sheet-collate", "collated", "collated"),
    ],
    ids=lambda attribute: attribute.name,
)
def test_several_values_of_an_attribute_taking_one_are_unsupported(
    office: Capabilities, attribute: Attribute
) -> None:
    # media-col, the covers and the hints took the first (or every) value silently.
    template = job_template([attribute], lambda: office, finisher)
    assert template.unsupported == [attribute]
    assert template.options == {}
    assert template.copies == 1


def test_the_attributes_taking_several_values_take_them(office: Capabilities) -> None:
    several = [
        Attribute.enum("finishings", 20, 74),
        Attribute.range_of_integer("page-ranges", RangeOfInteger(1, 1), RangeOfInteger(3, 4)),
        # CUPS's start and end sheet.
        Attribute.name_("job-sheets", "none", "none"),
    ]
    template = job_template(several, lambda: office, finisher)
    assert template.unsupported == []
    assert template.page_ranges == "1,3-4"


@pytest.mark.parametrize(
    "values",
    [("20", "28"), (20, 28), ("20", "20")],
    ids=["keywords", "integers", "the-same-twice"],
)
def test_an_extension_option_with_several_values_is_unsupported(
    office: Capabilities, values: tuple[str, str] | tuple[int, int]
) -> None:
    # A release sends one value of each (and refuses several): kept as a list, the preset was
    # dropped at Release-Job and the job printed unstapled.
    if isinstance(values[0], int):
        attribute = Attribute.integer("org.savapage-finishings-staple", *map(int, values))
    else:
        attribute = Attribute.keyword("org.savapage-finishings-staple", *map(str, values))
    template = job_template([attribute], lambda: office, finisher)
    assert template.unsupported == [attribute]
    assert template.options == {}


@pytest.mark.parametrize(
    "attribute",
    [
        Attribute.keyword("org.savapage-finishings-staple", "xyz"),
        Attribute.integer("org.savapage-finishings-staple", 999),
        Attribute.keyword("org.savapage-finishings-staple", "28"),  # no printer's rule file has it
        Attribute.integer("org.savapage-nonsense", 1),
        Attribute.keyword("org.savapage-cover-front-media-source", "tray-9"),
        Attribute.keyword("org.savapage-job-sheets", "job-start-sheet"),  # not offered: unpriced
    ],
    ids=lambda attribute: f"{attribute.name}={attribute.display()}",
)
def test_an_extension_option_or_value_no_printer_offers_is_unsupported(
    office: Capabilities, attribute: Attribute
) -> None:
    # Held, the job could never be released as sent ("not offered by this printer"), or the
    # option was dropped at the release unseen.
    template = job_template([attribute], lambda: office, finisher)
    assert template.unsupported == [attribute]
    assert template.options == {}


def test_extension_options_are_checked_against_the_union_of_the_printers(
    office: Capabilities,
) -> None:
    # The main tray for covers is for operators only: a job sent by anyone may ask for it
    # (the release says who may have it), as a printer the sender may not use counts too.
    stapler = FINISHER_RULES.replace(
        "*Staple TopLeft 20", "*Staple TopLeft 20\n*Staple Dual 28"
    ).replace("*by-pass-tray main", "*by-pass-tray +main")
    assert stapler.count("28") == 1
    assert "+main" in stapler
    punch_only = "*Punch org.savapage-finishings-punch\n*Punch *None 3\n*Punch DualLeft 74\n"
    both = offers_of(punch_only, stapler)
    staples = [
        Attribute.keyword("org.savapage-finishings-staple", "28"),
        # In the spelling the rule file has it or not: the release takes either.
        Attribute.keyword("org.savapage-cover-front-media-source", "Main"),
        Attribute.integer("org.savapage-finishings-punch", 74),
    ]
    template = job_template(staples, lambda: office, lambda: both)
    assert template.unsupported == []
    assert template.options == {
        "org.savapage-finishings-staple": "28",
        "org.savapage-cover-front-media-source": "Main",
        "org.savapage-finishings-punch": "74",
    }


def test_a_finishing_of_none_is_taken_where_no_printer_has_the_finishing(
    office: Capabilities,
) -> None:
    # It asks for nothing, and a release takes it (it is "none" the printer does).
    punch_only = offers_of("*Punch org.savapage-finishings-punch\n*Punch *None 3\n")
    none = Attribute.integer("org.savapage-finishings-staple", 3)
    assert job_template([none], lambda: office, lambda: punch_only).unsupported == []
    # Without any printer nothing is released at all: every extension option is unsupported.
    nothing = ExtensionOffers(())
    assert job_template([none], lambda: office, lambda: nothing).unsupported == [none]


def test_media_col_is_matched_by_size_in_either_unit(office: Capabilities) -> None:
    letter = Collection(
        (
            Attribute.collection(
                "media-size",
                Collection(
                    (
                        Attribute.integer("x-dimension", 21590),
                        Attribute.integer("y-dimension", 27940),
                    )
                ),
            ),
        )
    )
    assert job_template(
        [Attribute.collection("media-col", letter)], lambda: office, finisher
    ).options == {"media": "na_letter_8.5x11in"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Basic ZGFuYTpzM2NyZXQ6d2l0aDpjb2xvbnM=", ("dana", "s3cret:with:colons")),
        ("basic ZGFuYTo=", ("dana", "")),
        ("Bearer abc", None),
        ("Basic !!!", None),
        ("Basic bm9jb2xvbg==", None),
        (None, None),
    ],
)
def test_basic_credentials_are_parsed_strictly(
    header: str | None, expected: tuple[str, str] | None
) -> None:
    assert basic_credentials(header) == expected
