"""Spec §4: media per side with the duplex formula, sheet, copy, set; refusals; rounding."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from printmgmt.ppde import RuleEngine, SidePrices, SidePriceTable, parse_bytes

from .helpers import engine

SEED_EXAMPLES = Path(__file__).parent / "corpus" / "valid-seed-examples.ppde"
A4 = "iso_a4_210x297mm"
A3 = "iso_a3_297x420mm"

MEDIA = """
*SPJobTicket/Media/Cost: 0.10 a4-simplex media/iso_a4_210x297mm sides/one-sided
*SPJobTicket/Media/Cost: 0.07 a4-duplex media/iso_a4_210x297mm sides/two-sided-long-edge
*SPJobTicket/Media/Cost: 0.20 a3-any media/iso_a3_297x420mm
*SPJobTicket/Sheet/Cost: 0.01 a3-sheet media/iso_a3_297x420mm
*SPJobTicket/Sheet/Cost: 0.50 never-reached media/iso_a3_297x420mm
*SPJobTicket/Set/Cost: 1.00 handling media/!none
*SPJobTicket/Set/Cost: 0.25 start-sheet org.savapage-job-sheets/job-start-sheet
"""


def seed_engine() -> RuleEngine:
    result = parse_bytes(SEED_EXAMPLES.read_bytes(), filename=SEED_EXAMPLES.name)
    assert result.rules is not None
    return RuleEngine(result.rules)


# ---------------------------------------------------------------------- the seed's examples


@pytest.mark.parametrize(
    ("media", "copies", "total"),
    [(A4, 1, "0.02"), (A4, 10, "0.20"), (A3, 1, "0.04"), (A3, 25, "1.00")],
)
def test_seed_cover_prices(media: str, copies: int, total: str) -> None:
    job = {"org.savapage-cover-front-type": "print-none", "media": media}
    price = seed_engine().price(job, pages=4, copies=copies)
    assert price.total == Decimal(total)
    (part,) = price.parts
    assert part.mnemonic == ("cost-cover-front-A4" if media == A4 else "cost-cover-front-A3")
    assert part.line == (18 if media == A4 else 22)
    assert part.unit_price == Decimal("0.0200" if media == A4 else "0.0400")


def test_seed_no_cover_is_free() -> None:
    job = {"org.savapage-cover-front-type": "no-cover", "media": A4}
    price = seed_engine().price(job, pages=4, copies=3)
    assert (price.total, price.parts, price.refusal) == (Decimal("0.00"), (), None)


def test_seed_cover_on_unpriced_media_is_refused_naming_the_option() -> None:
    job = {"org.savapage-cover-front-type": "print-front", "media": "iso_a5_148x210mm"}
    price = seed_engine().price(job, pages=4)
    assert price.total is None
    assert price.refusal is not None
    assert price.refusal.option == "org.savapage-cover-front-type"
    assert price.refusal.message == (
        "no copy cost rule prices org.savapage-cover-front-type=print-front for this job"
    )


def test_negation_on_an_absent_attribute_differs_between_spextra_and_cost_rules() -> None:
    # The same condition, `org.savapage-cover-front-type/!no-cover`, with the attribute absent:
    rules = seed_engine()
    job = {"org.savapage-cover-front-media-source": "tray-3", "media": A4}
    # ...a cost rule does not match (every named attribute must be present, spec §4)...
    assert rules.price(job, pages=1).parts == ()
    # ...while an SPExtra condition holds. (The cover source itself is dropped without a
    # cover type, so we test the SPExtra reading on a rule keyed on media.)
    extra = engine("*SPExtra/media/a4: x org.savapage-cover-front-type/!no-cover *Cover/On")
    assert extra.translate({"media": "a4"}, target="ppd").attributes["Cover"].plain() == "On"
    cost = engine("*SPJob/Copy/Cost: 1 x org.savapage-cover-front-type/!no-cover media/a4")
    assert cost.price({"media": "a4"}, pages=1).parts == ()


# ---------------------------------------------------------------------- media, duplex formula


@pytest.mark.parametrize(
    ("pages", "number_up", "two_sided", "one_sided"),
    [
        (1, 1, 0, 1),
        (2, 1, 2, 0),
        (7, 1, 6, 1),
        (7, 2, 4, 0),  # ceil(7/2)=4 sides
        (9, 2, 4, 1),  # ceil(9/2)=5 sides
        (5, 4, 2, 0),  # ceil(5/4)=2 sides
        (0, 1, 0, 0),
    ],
)
def test_duplex_formula(pages: int, number_up: int, two_sided: int, one_sided: int) -> None:
    job = {"media": A4, "sides": "two-sided-long-edge", "number-up": str(number_up)}
    price = engine(MEDIA).price(job, pages=pages, copies=3)
    media = [p for p in price.parts if p.scope == "media"]
    assert [(p.mnemonic, p.quantity) for p in media] == [
        (name, count * 3)
        for name, count in (("a4-duplex", two_sided), ("a4-simplex", one_sided))
        if count
    ]
    assert price.sides_per_copy == two_sided + one_sided
    assert price.sheets_per_copy == two_sided // 2 + one_sided


def test_one_sided_prices_every_side_single() -> None:
    price = engine(MEDIA).price({"media": A4, "sides": "one-sided"}, pages=7, copies=2)
    assert [(p.mnemonic, p.quantity, p.amount) for p in price.parts] == [
        ("a4-simplex", 14, Decimal("1.40")),
        ("handling", 1, Decimal("1.00")),
    ]
    assert price.total == Decimal("2.40")


def test_media_absent_sides_means_one_sided() -> None:
    price = engine(MEDIA).price({"media": A4}, pages=3)
    assert [p.mnemonic for p in price.parts if p.scope == "media"] == ["a4-simplex"]


def test_first_sheet_rule_wins_and_counts_sheets_of_all_copies() -> None:
    job = {"media": A3, "sides": "two-sided-long-edge"}
    price = engine(MEDIA).price(job, pages=5, copies=2)
    assert [(p.scope, p.mnemonic, p.quantity) for p in price.parts] == [
        ("media", "a3-any", 8),
        ("media", "a3-any", 2),
        ("sheet", "a3-sheet", 6),
        ("set", "handling", 1),
    ]
    assert price.exact_total == Decimal("2.00") + Decimal("0.06") + Decimal("1.00")


def test_set_rules_sum_once_per_job() -> None:
    job = {"media": A3, "org.savapage-job-sheets": "job-start-sheet"}
    price = engine(MEDIA).price(job, pages=0, copies=9)
    assert [(p.mnemonic, p.quantity) for p in price.parts] == [("handling", 1), ("start-sheet", 1)]
    assert price.total == Decimal("1.25")


def test_no_matching_media_rule_is_refused_naming_media() -> None:
    price = engine(MEDIA).price({"media": "iso_a5_148x210mm"}, pages=1)
    assert price.total is None
    assert price.refusal is not None
    assert price.refusal.option == "media"
    assert price.refusal.message == (
        "no media cost rule prices one-sided sides of media=iso_a5_148x210mm, sides=one-sided"
    )


def test_refusal_for_the_two_sided_price() -> None:
    rules = engine("*SPJobTicket/Media/Cost: 0.1 simplex-only media/a sides/one-sided")
    price = rules.price({"media": "a", "sides": "two-sided-long-edge"}, pages=2)
    assert price.refusal is not None
    assert price.refusal.message.startswith("no media cost rule prices two-sided sides")


def test_copy_rules_sum_all_matches_from_both_directives() -> None:
    rules = engine(
        "*SPJob/Copy/Cost: 0.05 staple org.savapage-finishings-staple/20\n"
        "*SPJobTicket/Copy/Cost: 0.50 bind org.savapage-finishings-ext/bind\n"
        "*SPJob/Copy/Cost: 0.01 staple-a4 org.savapage-finishings-staple/20 media/a4\n"
    )
    job = {
        "org.savapage-finishings-staple": "20",
        "org.savapage-finishings-ext": "bind",
        "media": "a4",
    }
    price = rules.price(job, pages=3, copies=4)
    assert [(p.mnemonic, p.quantity, p.amount) for p in price.parts] == [
        ("staple", 4, Decimal("0.20")),
        ("staple-a4", 4, Decimal("0.04")),
        ("bind", 4, Decimal("2.00")),
    ]
    assert price.total == Decimal("2.24")


def test_a_file_with_copy_rules_refuses_every_finishing_or_cover_it_does_not_price() -> None:
    rules = engine("*SPJob/Copy/Cost: 0.05 staple org.savapage-finishings-staple/20")
    refused = rules.price({"org.savapage-finishings-staple": "28"}, pages=1)
    assert refused.refusal is not None
    assert refused.refusal.option == "org.savapage-finishings-staple"
    assert rules.price({"org.savapage-finishings-staple": "3"}, pages=1).refusal is None
    # Named by no copy rule, still chosen: refused too (spec section 4), never done for free.
    for name, value in (
        ("org.savapage-finishings-punch", "74"),
        ("org.savapage-finishings-fold", "93"),
        ("org.savapage-cover-front-type", "print-none"),
    ):
        unnamed = rules.price({name: value}, pages=1)
        assert unnamed.refusal is not None, name
        assert unnamed.refusal.message == f"no copy cost rule prices {name}={value} for this job"
        assert (
            rules.price({name: "none" if "cover" not in name else "no-cover"}, pages=1).refusal
            is None
        )
    # A file without copy rules prices no finishing: none is refused.
    free = engine("*SPJobTicket/Media/Cost: 0.10 any media/a4")
    assert (
        free.price({"org.savapage-finishings-fold": "93", "media": "a4"}, pages=1).refusal is None
    )


def test_cover_pages_are_not_media_sides() -> None:
    rules = engine(
        "*SPJobTicket/Media/Cost: 0.10 any media/a4\n"
        "*SPJob/Copy/Cost: 0.30 cover org.savapage-cover-front-type/!no-cover\n"
        "*SPJob/Copy/Cost: 0.30 back org.savapage-cover-back-type/!no-cover\n"
    )
    job = {
        "media": "a4",
        "org.savapage-cover-front-type": "print-both",
        "org.savapage-cover-back-type": "print-front",
    }
    price = rules.price(job, pages=10, copies=2)
    assert price.sides_per_copy == 7  # 10 pages, 2 on the front cover, 1 on the back
    assert price.cover_sides_per_copy == 3
    assert price.total == Decimal("1.40") + Decimal("1.20")
    assert rules.price(job, pages=2).sides_per_copy == 0
    assert rules.price(job, pages=2).cover_sides_per_copy == 2


def test_negative_rules_give_discounts() -> None:
    rules = engine(
        "*SPJobTicket/Media/Cost: 0.10 any media/a4\n"
        "*SPJobTicket/Set/Cost: -0.25 loyalty media/a4\n"
    )
    price = rules.price({"media": "a4"}, pages=1)
    assert price.exact_total == Decimal("-0.15")
    # Down to nothing: a discount larger than the price never pays the job's owner.
    assert price.total == Decimal("0.00")
    assert rules.price({"media": "a4"}, pages=4).total == Decimal("0.15")


# ---------------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    ("exponent", "total"), [(2, "0.13"), (0, "0"), (3, "0.125"), (4, "0.1250")]
)
def test_rounding_half_up_once_to_the_minor_unit(exponent: int, total: str) -> None:
    rules = engine("*SPJobTicket/Media/Cost: 0.0125 any media/a4")
    price = rules.price({"media": "a4"}, pages=10, minor_unit_exponent=exponent)
    assert price.exact_total == Decimal("0.1250")
    assert str(price.total) == total


def test_rounding_happens_once_not_per_part() -> None:
    rules = engine(
        "*SPJobTicket/Set/Cost: 0.004 a media/a4\n*SPJobTicket/Set/Cost: 0.004 b media/a4\n"
    )
    # Per part each would round to 0.00; once at the end 0.008 rounds to 0.01.
    assert rules.price({"media": "a4"}, pages=1).total == Decimal("0.01")


# ---------------------------------------------------------------------- the printer's table


TABLE = SidePriceTable(
    {
        (A4, False, None): SidePrices(Decimal("0.05"), Decimal("0.04")),
        (A4, True, None): SidePrices(Decimal("0.20"), Decimal("0.18")),
        (A4, False, "manual"): SidePrices(Decimal("0.50"), Decimal("0.45")),
    }
)


def test_fallback_table_per_side_colour_and_tray() -> None:
    rules = engine("")
    grey = {"media": A4, "print-color-mode": "monochrome", "sides": "two-sided-long-edge"}
    price = rules.price(grey, pages=3, fallback=TABLE)
    assert [(p.mnemonic, p.line, p.unit_price, p.quantity) for p in price.parts] == [
        ("printer price table", 0, Decimal("0.04"), 2),
        ("printer price table", 0, Decimal("0.05"), 1),
    ]
    assert rules.price(
        {**grey, "media-source": "manual"}, pages=1, fallback=TABLE
    ).total == Decimal("0.50")
    assert rules.price(
        {**grey, "media-source": "tray-1"}, pages=1, fallback=TABLE
    ).total == Decimal("0.05")
    assert rules.price({"media": A4}, pages=1, fallback=TABLE).total == Decimal("0.20")


def test_fallback_table_without_the_media_is_refused() -> None:
    price = engine("").price(
        {"media": A3, "print-color-mode": "monochrome"}, pages=1, fallback=TABLE
    )
    assert price.refusal is not None
    assert price.refusal.message == f"the printer has no grey price for media {A3}"


def test_media_rules_take_precedence_over_the_table() -> None:
    price = engine(MEDIA).price({"media": A4}, pages=1, fallback=TABLE)
    assert [p.mnemonic for p in price.parts] == ["a4-simplex", "handling"]


def test_no_rules_and_no_table_is_free() -> None:
    assert RuleEngine().price({"media": A4}, pages=100).total == Decimal("0.00")


# ---------------------------------------------------------------------- bad input


def test_bad_number_up_is_refused() -> None:
    price = engine(MEDIA).price({"media": A4, "number-up": "0"}, pages=1)
    assert price.refusal is not None
    assert price.refusal.option == "number-up"


def test_negative_pages_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        RuleEngine().price({}, pages=-1)


def test_setof_value_with_repeats_charges_a_rule_once() -> None:
    rules = engine("*SPJobTicket/Set/Cost: 1 a media-color/red")
    assert rules.price({"media-color": ("red", "red", "blue")}, pages=1).total == Decimal("1.00")


def test_the_largest_price_a_file_may_have_is_computed_for_a_large_job() -> None:
    # A larger price is refused when the file is read (test_parser); up to it, every job
    # is priced: a 28-digit price made every price of its file fail to compute.
    rules = engine(
        "*SPJobTicket/Media/Cost: 99999999.99999999 side media/iso_a4_210x297mm\n"
        "*SPJobTicket/Set/Cost: -99999999.99999999 discount media/iso_a4_210x297mm\n"
    )
    price = rules.price({"media": A4}, pages=100_000, copies=999)
    assert price.total == Decimal("9989999899999999.00")


@pytest.mark.parametrize(("pages", "sides"), [(1, 2), (4, 2), (6, 4), (8, 4), (9, 6)])
def test_a_booklet_is_priced_by_whole_folded_sheets_of_four_pages(pages: int, sides: int) -> None:
    # Priced here, so Explain says what a release charges: a 6-page booklet was explained as
    # three sides, one at the one-sided price (0.38 on demo-finisher), where the release
    # charged the four sides it prints (0.41).
    rules = engine(
        "*SPJobTicket/Media/Cost: 0.05 one media/iso_a4_210x297mm sides/one-sided\n"
        "*SPJobTicket/Media/Cost: 0.04 two media/iso_a4_210x297mm sides/two-sided-short-edge\n"
    )
    job = {
        "media": A4,
        "sides": "two-sided-short-edge",
        "number-up": "2",
        "org.savapage-finishings-booklet": "toleft-totop",
    }
    price = rules.price(job, pages=pages)
    assert price.sides_per_copy == sides
    assert price.total == Decimal("0.04") * sides
    assert [p.note for p in price.parts] == ["two-sided sides"]


# ------------------------------------------------------- documents printed separately

SEPARATE = (
    "*SPJobTicket/Media/Cost: 0.10 one media/iso_a4_210x297mm sides/one-sided\n"
    "*SPJobTicket/Media/Cost: 0.06 two media/iso_a4_210x297mm sides/two-sided-long-edge\n"
    "*SPJobTicket/Sheet/Cost: 0.01 sheet media/iso_a4_210x297mm\n"
    "*SPJob/Copy/Cost: 0.05 staple org.savapage-finishings-staple/20\n"
    "*SPJob/Copy/Cost: 0.30 cover org.savapage-cover-front-type/!no-cover\n"
    "*SPJobTicket/Set/Cost: 1.00 handling media/iso_a4_210x297mm\n"
)


def test_documents_printed_separately_start_on_sheets_of_their_own() -> None:
    # 3 + 3 pages two-sided: each document leaves its last back blank, 4 sheets (not the 3 of
    # one 6-page document); each is stapled as a set of its own; the job is handled once.
    job = {"media": A4, "sides": "two-sided-long-edge", "org.savapage-finishings-staple": "20"}
    price = engine(SEPARATE).price(job, pages=6, copies=2, documents=(3, 3))
    assert (price.sides_per_copy, price.sheets_per_copy) == (6, 4)
    amounts = {part.mnemonic: (part.quantity, part.amount) for part in price.parts}
    assert amounts == {
        "two": (8, Decimal("0.48")),  # 2 × (2 two-sided sides) per copy, 2 copies
        "one": (4, Decimal("0.40")),  # each document's last page alone on its sheet
        "sheet": (8, Decimal("0.08")),
        "staple": (4, Decimal("0.20")),  # 2 documents × 2 copies
        "handling": (1, Decimal("1.00")),
    }
    one_document = engine(SEPARATE).price(job, pages=6, copies=2)
    assert (one_document.sheets_per_copy, one_document.total) == (3, Decimal("1.88"))
    assert price.total == Decimal("2.16")


def test_each_separately_printed_document_has_its_own_cover_and_booklet_sheets() -> None:
    job = {
        "media": A4,
        "org.savapage-cover-front-type": "print-front",
        "org.savapage-finishings-booklet": "toleft-totop",
        "sides": "two-sided-long-edge",
    }
    # 2 and 5 pages become booklets of 4 and 8; the cover takes a page of each.
    price = engine(SEPARATE).price(job, pages=7, documents=(2, 5))
    assert (price.sides_per_copy, price.cover_sides_per_copy) == (3 + 7, 2)
    covers = [part for part in price.parts if part.mnemonic == "cover"]
    assert [(part.quantity, part.amount) for part in covers] == [(2, Decimal("0.60"))]


def test_one_document_listed_alone_is_priced_as_the_job() -> None:
    job = {"media": A4, "sides": "two-sided-long-edge"}
    rules = engine(SEPARATE)
    assert rules.price(job, pages=5, documents=(5,)) == rules.price(job, pages=5)


@pytest.mark.parametrize("documents", [(2, 2), (3, -1)])
def test_documents_that_do_not_add_up_to_the_pages_are_a_programming_error(
    documents: tuple[int, ...],
) -> None:
    with pytest.raises(ValueError, match="pages"):
        engine(SEPARATE).price({"media": A4}, pages=2, documents=documents)
