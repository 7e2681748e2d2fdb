"""Money values: Decimal with exactly CURRENCY_DECIMALS places, never float.

`parse_amount` is the single door for text (command line, forms, API); `money` checks a value
that code hands to a service. Both refuse, with a message naming the value and the rule:
malformed text, NaN and infinities, negative amounts where they are not allowed, more decimals
than the currency has, and amounts too large for the database to keep exactly.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.conf import settings

from apps.accounts.errors import AmountError

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
    if not value.is_finite():
        raise AmountError(f"{label} {shown} is not a finite amount.")
    if value < 0 and not negative:
        raise AmountError(f"{label} {shown} is negative; it must be zero or more.")
    exponent = value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if places > decimals():
        raise AmountError(
            f"{label} {shown} has {places} decimals; {settings.CURRENCY} has at most {decimals()}."
        )
    limit = max_whole_digits() if whole_digits is None else whole_digits
    if too_large(value, limit):
        raise AmountError(f"{label} {shown} is too large: at most {limit} digits before the point.")
    quantized = value.quantize(quantum())
    # Normalise -0 to 0 so that stored amounts and their text compare as people expect.
    return quantized if quantized != 0 else abs(quantized)


def parse_amount(
    text: str,
    *,
    negative: bool = False,
    label: str = "amount",
    whole_digits: int | None = None,
) -> Decimal:
    """The amount written in `text` (e.g. "12.50"), with exactly CURRENCY_DECIMALS places.

    Only plain decimal notation is accepted: no exponent, no thousands separator, no currency
    sign, so what a person typed is what is stored.
    """
    stripped = text.strip()
    shown = repr(text)
    if _NON_FINITE.fullmatch(stripped):
        raise AmountError(f"{label} {shown} is not a finite amount.")
    if not _AMOUNT.fullmatch(stripped):
        raise AmountError(
            f"{label} {shown} is not an amount: write digits with an optional point, such as 12.50."
        )
    try:
        value = Decimal(stripped)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
        raise AmountError(f"{label} {shown} is not an amount.") from None
    return _checked(value, shown, negative=negative, label=label, whole_digits=whole_digits)


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


def format_money(amount: Decimal) -> str:
    """The amount with the currency's places, e.g. "12.50" (the currency is shown apart)."""
    return str(amount.quantize(quantum()))
