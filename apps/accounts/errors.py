"""Typed errors of the money layer. Each message names the value and the rule it broke.

Views, commands and tasks catch `AccountError` (or a subclass) and show `str(error)`; nothing
has been written when one of these is raised. The refusals staff meet when they print (not
enough money, an account they may not charge) are in the request's language.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext


class AccountError(Exception):
    """Base of every refusal by the money layer."""


class AmountError(AccountError, ValueError):
    """A malformed, negative (where not allowed), non-finite or too precise amount."""


class AccountNotFound(AccountError, LookupError):
    """No account (personal or shared) answers to the given name or id."""


class AmbiguousAccount(AccountError, LookupError):
    """A name is both a username and a shared account's name."""


class AccountPermissionDenied(AccountError, PermissionError):
    """The acting user lacks the right (manage_accounts, or membership to charge)."""


class InsufficientFunds(AccountError):
    """The movement would take the balance below minus the credit limit.

    `missing` is how much more money the account would need for the movement to succeed.
    """

    def __init__(self, account_label: str, amount: Decimal, available: Decimal) -> None:
        self.account_label = account_label
        self.amount = amount
        self.available = available
        self.missing = amount - available
        super().__init__(
            gettext(
                "%(account)s: %(amount)s is more than the %(available)s available "
                "(balance plus credit limit); %(missing)s missing."
            )
            % {
                "account": account_label,
                "amount": amount,
                "available": available,
                "missing": self.missing,
            }
        )


class BalanceOutOfRange(AccountError):
    """The movement would leave a balance with more digits than the database keeps exactly."""


class NoChargeForJob(AccountError, LookupError):
    """A refund was asked for a job that was never charged."""


class RefundExceedsCharge(AccountError):
    """A refund would make the job's refunds larger than its charge."""


class InvalidLimit(AccountError, ValueError):
    """A credit limit that is negative or below what the account already owes."""
