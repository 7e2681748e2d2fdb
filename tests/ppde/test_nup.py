"""The n-up table: derived geometry, driver direction, custom rows first."""

from __future__ import annotations

from pathlib import Path

import pytest

from printmgmt.ppde.model import LandscapeOrientation, NupRule
from printmgmt.ppde.nup import PageGeometry, builtin_decision, cells_lie_across, nup_decision

PLUS90 = LandscapeOrientation.PLUS90
MINUS90 = LandscapeOrientation.MINUS90
NUP_MD = Path(__file__).parents[2] / "printmgmt" / "ppde" / "NUP.md"


def test_cells_lie_across_the_sheet_for_the_familiar_cups_cases() -> None:
    assert [n for n in (1, 2, 3, 4, 6, 8, 9, 16) if cells_lie_across(n)] == [2, 3, 6, 8]


def test_single_portrait_page_sends_nothing() -> None:
    decision = nup_decision(PLUS90, PageGeometry(), number_up=1, rotate180=False)
    assert (decision.orientation_requested, decision.number_up_layout) == (None, None)
    assert decision.landscape_sheet is False
    assert decision.rule is None


@pytest.mark.parametrize(("driver", "expected"), [(PLUS90, 5), (MINUS90, 4)])
def test_landscape_page_is_turned_clockwise_whatever_the_driver(
    driver: LandscapeOrientation, expected: int
) -> None:
    # Both choices give the house "Minus90" result on the sheet: a clockwise turn.
    decision = nup_decision(driver, PageGeometry("landscape"), number_up=1, rotate180=False)
    assert decision.orientation_requested == expected
    assert decision.landscape_sheet is True


@pytest.mark.parametrize(("driver", "expected"), [(PLUS90, 4), (MINUS90, 5)])
def test_rotate180_marker_turns_the_other_way(driver: LandscapeOrientation, expected: int) -> None:
    decision = nup_decision(driver, PageGeometry("landscape"), number_up=1, rotate180=True)
    assert decision.orientation_requested == expected


def test_rotate180_on_portrait_page_is_reverse_portrait() -> None:
    assert (
        nup_decision(PLUS90, PageGeometry(), number_up=1, rotate180=True).orientation_requested == 6
    )


@pytest.mark.parametrize(
    "geometry",
    [
        PageGeometry("portrait", rotation=90),
        PageGeometry("portrait", content_rotation=270),
        PageGeometry("portrait", user_rotate=90),
        PageGeometry("landscape", rotation=180),
    ],
)
def test_odd_quarter_turns_make_a_portrait_box_viewed_landscape(geometry: PageGeometry) -> None:
    assert nup_decision(PLUS90, geometry, number_up=1, rotate180=False).landscape_sheet is True


def test_two_portrait_pages_per_sheet_read_landscape_with_layout() -> None:
    decision = nup_decision(PLUS90, PageGeometry(), number_up=2, rotate180=False)
    assert (decision.orientation_requested, decision.number_up_layout) == (5, "rlbt")
    assert decision.landscape_sheet is True


def test_four_landscape_pages_per_sheet() -> None:
    decision = nup_decision(MINUS90, PageGeometry("landscape"), number_up=4, rotate180=False)
    assert (decision.orientation_requested, decision.number_up_layout) == (4, "tbrl")


def test_every_row_obeys_the_derivation_invariants() -> None:
    # Layouts only for N > 1; portrait (3) is never sent; the sheet is read landscape
    # exactly when the viewed page and the cell disagree.
    for driver in LandscapeOrientation:
        for number_up in range(1, 17):
            for viewed in (False, True):
                for half in (False, True):
                    d = builtin_decision(
                        driver, viewed_landscape=viewed, number_up=number_up, half_turn=half
                    )
                    assert (d.number_up_layout is None) or number_up > 1
                    assert d.orientation_requested in (None, 4, 5, 6)
                    assert d.landscape_sheet == (viewed != cells_lie_across(number_up))


def rule(inputs: tuple[tuple[str, str], ...], orientation: int | None, line: int) -> NupRule:
    return NupRule(f"r{line}", inputs, orientation, "btlr", True, line)


def test_first_matching_custom_row_wins_and_dash_matches_anything() -> None:
    rules = [
        rule((("number-up", "4"),), 3, 1),
        rule((("number-up", "2"), ("pdf-orientation", "-")), 6, 2),
        rule((("number-up", "2"),), 4, 3),
    ]
    decision = nup_decision(
        PLUS90, PageGeometry(), number_up=2, rotate180=False, custom_rules=rules
    )
    assert decision.rule is rules[1]
    assert (decision.orientation_requested, decision.number_up_layout) == (6, "btlr")


def test_rotate180_marker_is_matched_as_user_rotation() -> None:
    rules = [rule((("user-rotate", "180"),), 3, 1)]
    assert (
        nup_decision(PLUS90, PageGeometry(), number_up=1, rotate180=False, custom_rules=rules).rule
        is None
    )
    hit = nup_decision(PLUS90, PageGeometry(), number_up=1, rotate180=True, custom_rules=rules)
    assert hit.rule is rules[0]


def test_table_in_nup_md_is_the_code() -> None:
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in NUP_MD.read_text(encoding="utf-8").splitlines()
        if line.startswith("| Plus90") or line.startswith("| Minus90")
    ]
    assert len(rows) == 48
    for driver, n, viewed, half, orientation, layout, sheet in rows:
        d = builtin_decision(
            LandscapeOrientation(driver),
            viewed_landscape=viewed == "landscape",
            number_up=int(n),
            half_turn=half == "yes",
        )
        assert (orientation, layout, sheet) == (
            str(d.orientation_requested or "-"),
            d.number_up_layout or "-",
            "landscape" if d.landscape_sheet else "portrait",
        )
