"""Amounts: Decimal with exactly the currency's places; every bad input refused by name."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test.utils import override_settings
from django.utils import translation

from apps.accounts.errors import AmountError
from apps.accounts.money import (
    format_money,
    format_money_for_people,
    largest_amount,
    money,
    parse_amount,
    quantum,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.5", "12.50"),
        ("12.50", "12.50"),
        (" 3 ", "3.00"),
        ("0", "0.00"),
        (".5", "0.50"),
        ("7.", "7.00"),
        ("+1.25", "1.25"),
        ("1.500", "1.50"),  # trailing zeros lose nothing: the value has two places
        ("9999999999999.99", "9999999999999.99"),
    ],
)
def test_parse_amount_gives_decimal_with_currency_places(text: str, expected: str) -> None:
    value = parse_amount(text)
    assert isinstance(value, Decimal)
    assert str(value) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-1", r"^amount '-1' is negative; it must be zero or more\.$"),
        ("1.234", r"^amount '1\.234' has 3 decimals; EUR has at most 2\.$"),
        ("0.001", r"^amount '0\.001' has 3 decimals"),
        ("NaN", r"^amount 'NaN' is not a finite amount\.$"),
        ("-Infinity", r"^amount '-Infinity' is not a finite amount\.$"),
        ("inf", r"not a finite amount"),
        ("sNaN", r"not a finite amount"),
        ("1e3", r"^amount '1e3' is not an amount: write digits"),
        ("1,50", r"^amount '1,50' is not an amount"),
        ("€5", r"is not an amount"),
        ("", r"^amount '' is not an amount"),
        ("--1", r"is not an amount"),
        ("1 000", r"is not an amount"),
        ("0x10", r"is not an amount"),
        ("١٢", r"is not an amount"),  # Arabic-Indic digits
        ("１２", r"is not an amount"),  # full-width digits
        ("12345678901234", r"is too large: at most 13 digits before the point"),
        ("1" + "0" * 40, r"is too large"),
    ],
)
def test_parse_amount_refuses_bad_text_naming_value_and_rule(text: str, message: str) -> None:
    with pytest.raises(AmountError, match=message):
        parse_amount(text)


def test_negative_amounts_only_where_allowed() -> None:
    assert parse_amount("-4.20", negative=True) == Decimal("-4.20")
    assert str(parse_amount("-0", negative=True)) == "0.00"
    with pytest.raises(AmountError, match="credit limit '-1' is negative"):
        parse_amount("-1", label="credit limit")


@override_settings(CURRENCY="JPY", CURRENCY_DECIMALS=0)
def test_currency_without_minor_unit_refuses_any_fraction() -> None:
    assert str(parse_amount("120")) == "120"
    assert quantum() == Decimal(1)
    with pytest.raises(AmountError, match="has 1 decimals; JPY has at most 0"):
        parse_amount("120.5")


@override_settings(CURRENCY="KWD", CURRENCY_DECIMALS=3)
def test_three_place_currency() -> None:
    assert str(parse_amount("1.234")) == "1.234"
    assert format_money(Decimal("2")) == "2.000"


@pytest.mark.parametrize(
    ("currency", "places", "largest"),
    [("JPY", 0, "99999999999999"), ("EUR", 2, "9999999999999.99"), ("KWD", 3, "999999999999.999")],
)
def test_the_largest_amount_has_15_digits_at_most_14_before_the_point(
    currency: str, places: int, largest: str
) -> None:
    with override_settings(CURRENCY=currency, CURRENCY_DECIMALS=places):
        assert str(largest_amount()) == largest
        assert str(parse_amount(largest)) == largest
        with pytest.raises(AmountError, match="is too large"):
            parse_amount(str(Decimal(largest) + 1))


def test_money_refuses_floats_and_text_from_code() -> None:
    assert money(Decimal("1.5")) == Decimal("1.50")
    assert money(3) == Decimal("3.00")
    with pytest.raises(AmountError, match="must be a Decimal, not float: money is never a float"):
        money(0.1)
    with pytest.raises(AmountError, match="not str"):
        money("1.00")
    with pytest.raises(AmountError, match="not bool"):
        money(True)
    with pytest.raises(AmountError, match="not a finite amount"):
        money(Decimal("NaN"))
    with pytest.raises(AmountError, match="has 3 decimals"):
        money(Decimal("0.005"))
    with pytest.raises(AmountError, match="is negative"):
        money(Decimal("-0.01"))
    with pytest.raises(AmountError, match="is too large"):
        money(Decimal("1E+30"))


def test_pages_take_amounts_with_the_decimal_mark_of_their_language() -> None:
    with translation.override("de"):
        assert parse_amount("12,5", localized=True) == Decimal("12.50")
        assert parse_amount("-2,50", negative=True, localized=True) == Decimal("-2.50")
        # "1.500" is fifteen hundred to a German reader: refused, never read as 1.50.
        with pytest.raises(AmountError, match=r"ist kein Betrag: schreiben Sie Ziffern wie 12,50"):
            parse_amount("1.500", label="Betrag", localized=True)
        with pytest.raises(AmountError, match="kein Betrag"):
            parse_amount("1,234,50", localized=True)
        # Commands and stored text keep the point whatever the language.
        assert parse_amount("12.50") == Decimal("12.50")
    with translation.override("en"):
        assert parse_amount("12.50", localized=True) == Decimal("12.50")
        with pytest.raises(AmountError, match=r"write digits like 12\.50"):
            parse_amount("12,50", localized=True)


def test_pages_show_amounts_as_their_language_writes_them() -> None:
    with translation.override("de"):
        assert format_money_for_people(Decimal("1234.5")) == "1.234,50"
        assert format_money_for_people(Decimal("1234.5"), grouped=False) == "1234,50"
    with translation.override("en"):
        assert format_money_for_people(Decimal("1234.5")) == "1,234.50"
        assert format_money_for_people(Decimal("-0.5")) == "-0.50"
    # Whatever a page shows to fill a form, the form takes back unchanged.
    with translation.override("de"):
        shown = format_money_for_people(Decimal("9876.54"), grouped=False)
        assert parse_amount(shown, localized=True) == Decimal("9876.54")
