"""Money values: Decimal with exactly CURRENCY_DECIMALS places, never float.

`parse_amount` is the single door for text (command line, forms, API); `money` checks a value
that code hands to a service. Both refuse, with a message naming the value and the rule:
malformed text, NaN and infinities, negative amounts where they are not allowed, more decimals
than the currency has, and amounts too large for the database to keep exactly.

Pages show and take amounts as people of the active language write them (`format_money_for_people`,
`parse_amount(..., localized=True)`): 1,234.50 in English, 1.234,50 in German. Commands, logs,
exports and stored text keep the plain notation of `format_money` ("1234.50").
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils.formats import get_format, number_format
from django.utils.translation import gettext as _

from apps.accounts.errors import AccountError, AmountError, InsufficientFunds

# Database columns hold 18 digits, 4 after the point (CURRENCY_DECIMALS is at most 4), so the
# column never changes with a site's currency; services store exactly CURRENCY_DECIMALS places.
MAX_DIGITS = 18
STORED_DECIMALS = 4
MAX_WHOLE_DIGITS = MAX_DIGITS - STORED_DECIMALS
# SQLite keeps a decimal as a double, which gives back 15 significant digits exactly; with more,
# Django reads a rounded value or, near the column's limit, none at all (InvalidOperation).
EXACT_DIGITS = 15

# ASCII digits only: \d would take "١٢" or "１２" for 12.
_AMOUNT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_NON_FINITE = re.compile(r"[+-]?(?:nan|snan|inf|infinity)", re.IGNORECASE)


def decimals() -> int:
    return int(settings.CURRENCY_DECIMALS)


def quantum() -> Decimal:
    """The smallest amount of the site's currency: 0.01 for EUR, 1 for JPY."""
    return Decimal(1).scaleb(-decimals())


def max_whole_digits() -> int:
    """How many digits an amount or a balance may have before the point, so that every
    database keeps it exactly at the currency's places: 13 for EUR, 14 for JPY."""
    return min(MAX_WHOLE_DIGITS, EXACT_DIGITS - decimals())


def largest_amount() -> Decimal:
    """The largest amount, and balance, the database keeps exactly: 9999999999999.99 for EUR."""
    return Decimal(10) ** max_whole_digits() - quantum()


def too_large(value: Decimal, whole_digits: int | None = None) -> bool:
    """Whether `value` has more digits before the point than `whole_digits` (by default
    max_whole_digits())."""
    limit = max_whole_digits() if whole_digits is None else whole_digits
    return value != 0 and value.adjusted() >= limit


def _checked(
    value: Decimal, shown: str, *, negative: bool, label: str, whole_digits: int | None
) -> Decimal:
    named = {"label": label, "value": shown}
    if not value.is_finite():
        raise AmountError(_("%(label)s %(value)s is not a finite amount.") % named)
    if value < 0 and not negative:
        raise AmountError(_("%(label)s %(value)s is negative; it must be zero or more.") % named)
    exponent = value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if places > decimals():
        raise AmountError(
            _("%(label)s %(value)s has %(places)d decimals; %(currency)s has at most %(most)d.")
            % {**named, "places": places, "currency": settings.CURRENCY, "most": decimals()}
        )
    limit = max_whole_digits() if whole_digits is None else whole_digits
    if too_large(value, limit):
        raise AmountError(
            _("%(label)s %(value)s is too large: at most %(digits)d digits before the point.")
            % {**named, "digits": limit}
        )
    quantized = value.quantize(quantum())
    # Normalise -0 to 0 so that stored amounts and their text compare as people expect.
    return quantized if quantized != 0 else abs(quantized)


def parse_amount(
    text: str,
    *,
    negative: bool = False,
    label: str = "amount",
    whole_digits: int | None = None,
    localized: bool = False,
) -> Decimal:
    """The amount written in `text` (e.g. "12.50"), with exactly CURRENCY_DECIMALS places.

    Only plain decimal notation is accepted: no exponent, no thousands separator, no currency
    sign, so what a person typed is what is stored. `localized` (the portal's forms) takes the
    decimal mark of the active language instead of the point: "12,50" in German, where a point
    is refused rather than guessed at ("1.500" is 1500 to a German reader).
    """
    stripped = text.strip()
    shown = repr(text)
    named = {"label": label, "value": shown}
    if _NON_FINITE.fullmatch(stripped):
        raise AmountError(_("%(label)s %(value)s is not a finite amount.") % named)
    mark = decimal_mark() if localized else "."
    # A point where the language writes another mark is refused, not guessed at.
    typed_point = mark != "." and "." in stripped
    stripped = stripped.replace(mark, ".")
    if typed_point or not _AMOUNT.fullmatch(stripped):
        raise AmountError(
            _("%(label)s %(value)s is not an amount: write digits like %(example)s.")
            % {**named, "example": f"12{mark}50"}
        )
    try:
        value = Decimal(stripped)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
        raise AmountError(_("%(label)s %(value)s is not an amount.") % named) from None
    return _checked(value, shown, negative=negative, label=label, whole_digits=whole_digits)


def decimal_mark() -> str:
    """The decimal mark of the active language: "." in English, "," in German."""
    return str(get_format("DECIMAL_SEPARATOR"))


def money(
    value: object,
    *,
    negative: bool = False,
    label: str = "amount",
    whole_digits: int | None = None,
) -> Decimal:
    """Check an amount handed to a service by code: a Decimal (or int), never a float or text."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise AmountError(
            f"{label} {value!r} must be a Decimal, not {type(value).__name__}: "
            "money is never a float."
        )
    return _checked(
        Decimal(value), str(value), negative=negative, label=label, whole_digits=whole_digits
    )


def exact_money(amount: Decimal) -> Decimal:
    """The amount with the currency's places, never rounded: one stored with more (before the
    site lowered CURRENCY_DECIMALS) keeps them, so that shown parts add up to the shown sum.
    Beyond the places a column stores there is only the noise of a database that sums in
    floating point (SQLite), which goes."""
    stored = amount.quantize(Decimal(1).scaleb(-STORED_DECIMALS))
    shown = stored.quantize(quantum())
    return shown if shown == stored else stored


def format_money(amount: Decimal) -> str:
    """The amount with the currency's places, e.g. "12.50" (the currency is shown apart)."""
    return str(amount.quantize(quantum()))


def format_money_for_people(amount: Decimal, *, grouped: bool = True) -> str:
    """The amount as the active language writes it, with the currency's places and its
    thousands grouped: "1,234.50" in English, "1.234,50" in German (the currency apart).
    Ungrouped ("1234,50") to fill a form: `parse_amount` refuses thousands separators."""
    return number_format(
        amount.quantize(quantum()), decimal_pos=decimals(), use_l10n=True, force_grouping=grouped
    )


def refusal_for_people(error: AccountError) -> str:
    """A refusal of the money layer as a page shows it. Not enough money is worded here, with
    its amounts as the reader writes money and the currency ("29,70 EUR" in German): its own
    message keeps the plain notation of commands and logs (errors.py cannot import this
    module). Any other refusal says what it says."""
    if not isinstance(error, InsufficientFunds):
        return str(error)
    return _(
        "%(account)s: %(amount)s is more than the %(available)s available "
        "(balance plus credit limit); %(missing)s missing."
    ) % {
        "account": error.account_label,
        "amount": _with_currency(error.amount),
        "available": _with_currency(error.available),
        "missing": _with_currency(error.missing),
    }


def _with_currency(amount: Decimal) -> str:
    return f"{format_money_for_people(amount)} {settings.CURRENCY}"
