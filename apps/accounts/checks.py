"""System checks for the money settings (run by `manage.py check` and at start)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from apps.accounts.errors import AmountError
from apps.accounts.money import money


@register()
def initial_credit_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """INITIAL_CREDIT must be an amount of the site's currency (no more places than it has)."""
    try:
        money(settings.INITIAL_CREDIT, label="INITIAL_CREDIT")
    except AmountError as error:
        return [
            Error(
                str(error),
                hint=f"Set INITIAL_CREDIT with at most {settings.CURRENCY_DECIMALS} decimals.",
                id="accounts.E001",
            )
        ]
    return []
