"""What a printed job did not get, and the part of its price that is theirs: pure, on the
shipped rule files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from apps.jobs.not_done import (
    END_SHEET_NOT_PRINTED,
    NotDone,
    ignored_options,
    not_done_price,
    read,
    reason,
    refunded_message,
    stored,
    without,
)
from printmgmt.ppde import RuleEngine, SidePrices, SidePriceTable, parse_bytes
from printmgmt.ppde.model import COVER_FRONT_TYPE, FINISHINGS_STAPLE
from tests.ppde.helpers import engine as engine_of

ROOT = Path(__file__).resolve().parents[2]
STAPLE = NotDone(FINISHINGS_STAPLE, "20", "finishings")
A4 = "iso_a4_210x297mm"
TABLE = SidePriceTable(
    {(A4, False, None): SidePrices(Decimal("0.10"), Decimal("0.08"))},
)


def _shipped(name: str) -> RuleEngine:
    result = parse_bytes((ROOT / "ppdrules" / name).read_bytes(), filename=name)
    assert result.rules is not None
    return RuleEngine(result.rules)


def _price(
    engine: RuleEngine,
    options: dict[str, str | tuple[str, ...]],
    *,
    pages: int = 10,
    copies: int = 1,
) -> str:
    total = engine.price(options, pages=pages, copies=copies, fallback=TABLE).total
    return str(total)


def _back(
    engine: RuleEngine,
    options: dict[str, str | tuple[str, ...]],
    not_done: list[NotDone],
    *,
    pages: int,
    copies: int = 1,
) -> Decimal:
    return not_done_price(
        engine,
        options,
        not_done,
        pages=pages,
        copies=copies,
        fallback=TABLE,
        minor_unit_exponent=2,
    )


def test_the_end_sheet_not_printed_gives_back_its_set_price_once_whatever_the_copies() -> None:
    shop = _shipped("job-ticket-copy-shop.ppde")
    options: dict[str, str | tuple[str, ...]] = {
        "media": A4,
        "print-color-mode": "monochrome",
        "sides": "one-sided",
        "org.savapage-job-sheets": ("job-start-sheet", "job-end-sheet"),
    }
    assert _price(shop, options, copies=3) == "1.85"  # 30 sides × 0.025, 1.00, two sheets
    back = not_done_price(
        shop,
        options,
        [END_SHEET_NOT_PRINTED],
        pages=10,
        copies=3,
        fallback=None,
        minor_unit_exponent=2,
    )
    assert back == Decimal("0.05")
    # Only the end sheet is taken out: the start sheet printed.
    assert without(options, [END_SHEET_NOT_PRINTED])["org.savapage-job-sheets"] == (
        "job-start-sheet"
    )
    alone = {**options, "org.savapage-job-sheets": "job-end-sheet"}
    assert without(alone, [END_SHEET_NOT_PRINTED])["org.savapage-job-sheets"] == "none"


def test_a_staple_and_a_cover_the_printer_ignored_give_back_their_price_per_copy() -> None:
    driverless = _shipped("driverless-ipp-everywhere.ppde")
    options: dict[str, str | tuple[str, ...]] = {
        "media": A4,
        "print-color-mode": "monochrome",
        "sides": "one-sided",
        FINISHINGS_STAPLE: "20",
        COVER_FRONT_TYPE: "print-front",
    }
    cover = NotDone(COVER_FRONT_TYPE, "print-front", "cover-front")
    assert _back(driverless, options, [STAPLE], pages=10, copies=2) == Decimal("0.08")
    # Without its cover, page 1 printed on the paper: its side is charged, the cover not.
    assert _back(driverless, options, [cover], pages=10, copies=2) == Decimal("0.50")
    assert _back(driverless, options, [STAPLE, cover], pages=10, copies=2) == Decimal("0.58")


def test_what_maps_to_no_option_of_ours_gives_nothing_back() -> None:
    driverless = _shipped("driverless-ipp-everywhere.ppde")
    options: dict[str, str | tuple[str, ...]] = {"media": A4, FINISHINGS_STAPLE: "20"}
    back = not_done_price(
        driverless,
        options,
        [NotDone(attribute="media-col")],
        pages=4,
        copies=1,
        fallback=TABLE,
        minor_unit_exponent=2,
    )
    assert back == 0


def test_a_discount_that_came_with_it_gives_nothing_back() -> None:
    rules = engine_of(
        "*SPJobTicket/Set: org.savapage-job-sheets *none job-end-sheet\n"
        "*SPJobTicket/Set/Cost: 0.05 end-sheet org.savapage-job-sheets/job-end-sheet\n"
        "*SPJobTicket/Set/Cost: -0.10 sheet-discount org.savapage-job-sheets/job-end-sheet\n"
    )
    options: dict[str, str | tuple[str, ...]] = {
        "media": A4,
        "print-color-mode": "monochrome",
        "org.savapage-job-sheets": "job-end-sheet",
    }
    assert _price(rules, options, pages=2) == "0.15"  # two sides, less 0.05 for the sheet
    assert _price(rules, without(options, [END_SHEET_NOT_PRINTED]), pages=2) == "0.20"
    assert _back(rules, options, [END_SHEET_NOT_PRINTED], pages=2) == 0


def test_a_price_refused_without_it_gives_nothing_back() -> None:
    rules = engine_of(
        "*SPJobTicket/Set: org.savapage-job-sheets *none job-end-sheet\n"
        "*SPJobTicket/Set/Cost: 0.05 end-sheet org.savapage-job-sheets/job-end-sheet\n"
    )
    options: dict[str, str | tuple[str, ...]] = {
        "org.savapage-job-sheets": "job-end-sheet",
        "media": "iso_a3_297x420mm",  # no side price for A3 either way
    }
    assert _back(rules, options, [END_SHEET_NOT_PRINTED], pages=2) == 0


@pytest.mark.parametrize(
    ("ignored", "expected"),
    [
        # finishings naming its values: those finishings alone.
        ([("finishings", (20,))], [STAPLE]),
        ([("finishings", (74,))], [NotDone("org.savapage-finishings-punch", "74", "finishings")]),
        # finishings without values (or out-of-band), finishings-col: all sent as finishings.
        (
            [("finishings", ())],
            [STAPLE, NotDone("org.savapage-finishings-punch", "74", "finishings")],
        ),
        (
            [("finishings-col", ())],
            [
                NotDone(FINISHINGS_STAPLE, "20", "finishings-col"),
                NotDone("org.savapage-finishings-punch", "74", "finishings-col"),
            ],
        ),
        ([("cover-front", ())], [NotDone(COVER_FRONT_TYPE, "print-front", "cover-front")]),
        # No back cover was asked for; media-col, sides are no option of ours that is priced.
        ([("cover-back", ())], [NotDone(attribute="cover-back")]),
        ([("media-col", ())], [NotDone(attribute="media-col")]),
        ([("sides", ("two-sided-long-edge",))], [NotDone(attribute="sides")]),
        # A finishing number we did not send.
        ([("finishings", (93,))], [NotDone(attribute="finishings")]),
    ],
)
def test_what_a_driverless_printer_ignored_maps_back_to_our_options(
    ignored: list[tuple[str, tuple[object, ...]]], expected: list[NotDone]
) -> None:
    sent: dict[str, str | tuple[str, ...]] = {
        FINISHINGS_STAPLE: "20",
        "org.savapage-finishings-punch": "74",
        "org.savapage-finishings-fold": "3",
        COVER_FRONT_TYPE: "print-front",
        "org.savapage-cover-back-type": "no-cover",
        "media": A4,
    }
    assert ignored_options(ignored, sent, target="ipp") == expected


def test_a_booklet_maker_that_ignored_the_booklet_gives_nothing_back() -> None:
    sent = {"org.savapage-finishings-booklet": "toleft-totop"}
    found = ignored_options([("finishings", (13,))], sent, target="ipp")
    assert found == [NotDone(attribute="finishings")]
    assert not any(item.refundable for item in found)


def test_a_ppd_option_ignored_maps_back_through_the_rule_files_mapping() -> None:
    office = _shipped("office-mfp-ppd.ppde")
    sent: dict[str, str | tuple[str, ...]] = {
        FINISHINGS_STAPLE: "20",
        "org.savapage-finishings-punch": "3",
        COVER_FRONT_TYPE: "print-front",
        "org.savapage-cover-front-media-source": "tray-3",
    }
    mappings = office.rules.mappings
    # CUPS options are case-insensitive.
    assert ignored_options([("stapleLocation", ())], sent, target="ppd", mappings=mappings) == [
        NotDone(FINISHINGS_STAPLE, "20", "stapleLocation")
    ]
    # Punch was not chosen; a switch an SPExtra adds for the cover stands for several options.
    assert ignored_options(
        [("PunchHoles", ()), ("CoverFront", ())], sent, target="ppd", mappings=mappings
    ) == [NotDone(attribute="PunchHoles"), NotDone(attribute="CoverFront")]
    # A standard name means nothing sent to a CUPS queue as a PPD option.
    assert ignored_options([("finishings", ())], sent, target="ppd", mappings=mappings) == [
        NotDone(attribute="finishings")
    ]


def test_what_was_not_done_is_stored_and_read_back_as_it_was() -> None:
    items = [END_SHEET_NOT_PRINTED, STAPLE, NotDone(attribute="media-col"), STAPLE]
    kept = stored(items)
    assert kept == [
        {"option": "org.savapage-job-sheets", "value": "job-end-sheet"},
        {"option": FINISHINGS_STAPLE, "value": "20", "attribute": "finishings"},
        {"attribute": "media-col"},
    ]
    assert read(kept) == [END_SHEET_NOT_PRINTED, STAPLE, NotDone(attribute="media-col")]
    # Rows edited by hand are left out, and refund nothing.
    assert read([{"option": 3}, {"other": "x"}, "staple", {}]) == []
    assert read(None) == []


def test_the_ledger_and_the_user_are_told_what_was_not_done_in_words() -> None:
    assert str(reason([END_SHEET_NOT_PRINTED])) == "not printed: the end sheet"
    cover = NotDone(COVER_FRONT_TYPE, "print-front", "cover-front")
    assert str(reason([STAPLE, cover])) == "not done by the printer: staple, front cover"
    assert str(reason([END_SHEET_NOT_PRINTED, STAPLE, NotDone(attribute="media-col")])) == (
        "not printed: the end sheet; not done by the printer: staple"
    )
    assert reason([NotDone(attribute="media-col")]) is None
    assert str(refunded_message([END_SHEET_NOT_PRINTED, STAPLE])) == (
        "refunded for what was not done: the end sheet, staple"
    )
    assert refunded_message([NotDone(attribute="media-col")]) is None
