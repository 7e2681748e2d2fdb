"""The primitives every write to an account goes through; the services build on these.

Money rules kept here (and backed by database constraints):

- every change of an account's balance is a LedgerEntry written in the same transaction, and
  the stored balance is the sum of the account's entries;
- a movement out of an account locks the account row first (SELECT ... FOR UPDATE) and is
  refused with InsufficientFunds when it would take the balance below minus the credit limit;
- no movement leaves a balance the database cannot keep exactly (BalanceOutOfRange): each
  amount fits, but their sum need not.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext

from apps.accounts.choices import EntryKind
from apps.accounts.errors import (
    AccountNotFound,
    AccountPermissionDenied,
    BalanceOutOfRange,
    InsufficientFunds,
)
from apps.accounts.models import Account, LedgerEntry, User
from apps.accounts.money import format_money, largest_amount, too_large
from apps.accounts.roles import MANAGE_ACCOUNTS, permission_name
from printmgmt.translatable import Text


def lock_account(account_id: int) -> Account:
    """The account row, locked until the end of the transaction."""
    try:
        return Account.objects.select_for_update().get(pk=account_id)
    except Account.DoesNotExist:
        raise AccountNotFound(f"no account has id {account_id}.") from None


def record_entry(
    account: Account,
    kind: EntryKind,
    amount: Decimal,
    *,
    user: User | None,
    reason: str | Text,
    job_id: int | None = None,
    key: str = "",
    counter: Account | None = None,
) -> LedgerEntry:
    """Append a ledger row and move the (locked) account's balance by its amount, atomically.

    A `reason` the product writes is a Text, kept in English and as its msgid and parameters,
    so that each reader sees it in their language; one a person typed is a str, kept as typed.

    The row is inserted first: if a unique constraint refuses it, the balance is untouched.
    Raises BalanceOutOfRange, before writing anything, when the new balance would not fit.
    """
    new_balance = account.balance + amount
    if too_large(new_balance):
        raise BalanceOutOfRange(
            f"{account.label}: {kind.replace('_', ' ')} {format_money(amount)} would take the "
            f"balance from {format_money(account.balance)} to {format_money(new_balance)}, "
            f"beyond the ±{format_money(largest_amount())} an account can hold; "
            "nothing was recorded."
        )
    with transaction.atomic():
        entry = LedgerEntry.objects.create(
            account=account,
            kind=kind,
            amount=amount,
            balance_after=new_balance,
            user=user,
            reason=str(reason),
            reason_text=reason.to_json() if isinstance(reason, Text) else None,
            job_id=job_id,
            idempotency_key=key,
            counter_account=counter,
        )
        account.balance = new_balance
        account.save(update_fields=["balance"])
    return entry


def require_funds(account: Account, amount: Decimal) -> None:
    if account.balance - amount < -account.credit_limit:
        raise InsufficientFunds(account.label_for_people, amount, account.available)


def require_manage(actor: User | None, what: str) -> None:
    """None is the system (a task, or the command line run by the site's operator). `what` is
    marked with gettext_noop and said in the active language with the refusal."""
    if actor is not None and not actor.has_perm(permission_name(MANAGE_ACCOUNTS)):
        raise AccountPermissionDenied(
            gettext("%(user)s may not %(what)s: that needs the %(permission)s permission.")
            % {"user": actor.username, "what": gettext(what), "permission": MANAGE_ACCOUNTS}
        )


def actor_name(actor: User | None) -> str:
    """Who made a change, for the log: "system" when no user did."""
    return actor.username if actor is not None else "system"
