"""Money values: Decimal with exactly CURRENCY_DECIMALS places, never float.

`parse_amount` is the single door for text (command line, forms, API); `money` checks a value
that code hands to a service. Both refuse, with a message naming the value and the rule:
malformed text, NaN and infinities, negative amounts where they are not allowed, more decimals
than the currency has, and amounts too large for the database column.
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

# ASCII digits only: \d would take "١٢" or "１２" for 12.
_AMOUNT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_NON_FINITE = re.compile(r"[+-]?(?:nan|snan|inf|infinity)", re.IGNORECASE)


def decimals() -> int:
    return int(settings.CURRENCY_DECIMALS)


def quantum() -> Decimal:
    """The smallest amount of the site's currency: 0.01 for EUR, 1 for JPY."""
    return Decimal(1).scaleb(-decimals())


def largest_amount() -> Decimal:
    """The largest amount, and balance, a column holds at the currency's places:
    99999999999999.99 for EUR."""
    return Decimal(10) ** MAX_WHOLE_DIGITS - quantum()


def too_large(value: Decimal, whole_digits: int = MAX_WHOLE_DIGITS) -> bool:
    """Whether `value` has more than `whole_digits` digits before the point."""
    return value != 0 and value.adjusted() >= whole_digits


def _checked(
    value: Decimal, shown: str, *, negative: bool, label: str, whole_digits: int
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
    if too_large(value, whole_digits):
        raise AmountError(
            f"{label} {shown} is too large: at most {whole_digits} digits before the point."
        )
    quantized = value.quantize(quantum())
    # Normalise -0 to 0 so that stored amounts and their text compare as people expect.
    return quantized if quantized != 0 else abs(quantized)


def parse_amount(
    text: str,
    *,
    negative: bool = False,
    label: str = "amount",
    whole_digits: int = MAX_WHOLE_DIGITS,
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
    whole_digits: int = MAX_WHOLE_DIGITS,
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
