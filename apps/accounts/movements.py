"""Money movements: charging and refunding print jobs, deposits, adjustments, credit limits and
transfers. Views, commands, tasks and the job pipeline call these, never the ORM.

Besides the ledger's own rules (apps.accounts.ledger):

- when two accounts are involved, rows are locked in primary-key order (as Saleor does), so
  concurrent transfers never deadlock;
- a job is charged at most once and refunded at most its charge, whatever retries happen.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from apps.accounts.choices import EntryKind
from apps.accounts.errors import (
    AccountError,
    AccountPermissionDenied,
    AmountError,
    InvalidLimit,
    NoChargeForJob,
    RefundExceedsCharge,
)
from apps.accounts.ledger import (
    actor_name,
    lock_account,
    record_entry,
    require_funds,
    require_manage,
)
from apps.accounts.models import Account, LedgerEntry, User
from apps.accounts.money import format_money, money
from apps.accounts.selectors import charge_refusal, job_refunded
from printmgmt.translatable import Text

logger = logging.getLogger(__name__)


def account_charge(
    account_id: int, amount: Decimal, *, job_id: int, user: User, reason: str | Text = ""
) -> LedgerEntry:
    """Charge a print job to an account, exactly once.

    Returns the charge entry; a retry for a job that is already charged returns the existing
    entry and changes nothing (also when it was charged to another account). Raises
    AccountPermissionDenied when `user` may not charge the account, InsufficientFunds (with
    `.missing`) when the account lacks the money, AmountError for a bad amount, AccountNotFound.
    """
    amount = money(amount)
    with transaction.atomic():
        account = lock_account(account_id)
        # Checked under the account's lock: a concurrent charge of the same job to this account
        # has committed by now and is seen here.
        existing = _existing_charge(job_id)
        if existing is not None:
            _log_retry(existing, account_id, amount)
            return existing
        refusal = charge_refusal(user, account)
        if refusal is not None:
            raise AccountPermissionDenied(refusal)
        require_funds(account, amount)
        try:
            entry = record_entry(
                account, EntryKind.CHARGE, -amount, user=user, reason=reason, job_id=job_id
            )
        except IntegrityError:
            # The same job was charged to another account at the same moment.
            existing = _existing_charge(job_id)
            if existing is None:
                raise
            _log_retry(existing, account_id, amount)
            return existing
    logger.info(
        "charged job=%s account=%s amount=%s user=%s balance=%s",
        job_id, account.pk, amount, user.username, entry.balance_after,
    )  # fmt: skip
    return entry


def account_refund(
    job_id: int,
    amount: Decimal | None = None,
    *,
    reason: str | Text,
    user: User | None = None,
    key: str = "",
    up_to_remaining: bool = False,
    owed_in_all: bool = False,
) -> LedgerEntry | None:
    """Give back (part of) a job's charge to the account it was charged to, once.

    `amount=None` refunds all that was charged and not yet refunded. A call with a `key` that
    was used before for this job (the default key "" included) returns that earlier refund and
    changes nothing, so running the same refund twice refunds once; partial refunds with
    distinct keys add up to at most the charge (RefundExceedsCharge otherwise, or, with
    `up_to_remaining`, the refund is cut to what remains: refunds made meanwhile count).
    With `owed_in_all`, `amount` is what the job is owed in all: the refunds made before (by
    hand, while it printed) are part of it, and only the rest is refunded.
    Returns None when nothing is left to refund. Raises NoChargeForJob if the job was never
    charged. A `user` (a person refunding by hand) needs manage_accounts; the job pipeline's
    own refunds have none.
    """
    require_manage(user, gettext_noop("refund print jobs"))
    if amount is not None:
        amount = money(amount)
        if amount <= 0:
            raise AmountError(
                f"refund {format_money(amount)} must be more than zero (without an amount, all "
                "that is left is refunded)."
            )
    if len(key) > 64:
        raise AccountError(f"refund key {key!r} is too long: at most 64 characters.")
    with transaction.atomic():
        charge = _existing_charge(job_id)
        if charge is None:
            raise NoChargeForJob(f"job {job_id} was never charged: there is nothing to refund.")
        account = lock_account(charge.account_id)
        existing = _existing_refund(job_id, key)
        if existing is not None:
            logger.info("refund retry job=%s key=%r: refunded already", job_id, key)
            return existing
        refunded = job_refunded(job_id)
        remaining = -charge.amount - refunded
        if owed_in_all and amount is not None:
            amount = max(amount - refunded, Decimal(0))
        if amount is None or (up_to_remaining and amount > remaining):
            amount = remaining
        elif amount > remaining:
            raise RefundExceedsCharge(
                f"refund {format_money(amount)} for job {job_id} is more than the "
                f"{format_money(remaining)} of its charge not refunded yet."
            )
        if amount == 0:
            return None
        try:
            entry = record_entry(
                account,
                EntryKind.REFUND,
                amount,
                user=user,
                reason=reason,
                job_id=job_id,
                key=key,
            )
        except IntegrityError:
            existing = _existing_refund(job_id, key)
            if existing is None:
                raise
            return existing
    logger.info(
        "refunded job=%s account=%s amount=%s key=%r balance=%s",
        job_id, account.pk, amount, key, entry.balance_after,
    )  # fmt: skip
    return entry


def _earlier_submission(
    account: Account, kind: EntryKind, key: str, amount: Decimal, reason: str | Text
) -> LedgerEntry | None:
    """The entry an earlier submission of the same form made (a double click, a resent
    request); asked under the account's lock. The same form sent again with another amount or
    reason (changed after going back in the browser) is refused: it would otherwise say it was
    saved and change nothing."""
    if not key:
        return None
    earlier = LedgerEntry.objects.filter(account=account, kind=kind, idempotency_key=key).first()
    if earlier is not None and (earlier.amount, earlier.reason) != (amount, str(reason)):
        when = timezone.localtime(earlier.created).strftime("%Y-%m-%d %H:%M")
        raise AccountError(
            f"this form was sent already: it recorded {format_money(earlier.amount)} on "
            f"{account.label} at {when}, and nothing more was changed. Open the page again "
            "to make another one."
        )
    return earlier


def account_deposit(
    account_id: int,
    amount: Decimal,
    *,
    actor: User | None,
    reason: str | Text = "",
    key: str = "",
) -> LedgerEntry:
    """Put money into an account (cash at the desk, a top-up). Needs manage_accounts.

    A `key` names one submission: the same key again returns the first deposit and adds
    nothing."""
    require_manage(actor, gettext_noop("deposit money"))
    amount = money(amount)
    if amount <= 0:
        raise AmountError(f"deposit {amount} must be more than zero.")
    with transaction.atomic():
        account = lock_account(account_id)
        earlier = _earlier_submission(account, EntryKind.DEPOSIT, key, amount, reason)
        if earlier is not None:
            return earlier
        entry = record_entry(account, EntryKind.DEPOSIT, amount, user=actor, reason=reason, key=key)
    logger.info("deposit account=%s amount=%s by=%s", account.pk, amount, actor_name(actor))
    return entry


def account_adjust(
    account_id: int, amount: Decimal, *, actor: User | None, reason: str, key: str = ""
) -> LedgerEntry:
    """Correct a balance up (positive) or down (negative), with a reason. Needs
    manage_accounts; never below minus the credit limit (InsufficientFunds). A `key` names
    one submission, as for deposits."""
    require_manage(actor, gettext_noop("adjust balances"))
    amount = money(amount, negative=True)
    reason = reason.strip()
    if not reason:
        raise AccountError("an adjustment needs a reason.")
    if amount == 0:
        raise AmountError("adjustment 0 changes nothing: give a positive or negative amount.")
    with transaction.atomic():
        account = lock_account(account_id)
        earlier = _earlier_submission(account, EntryKind.ADJUSTMENT, key, amount, reason)
        if earlier is not None:
            return earlier
        if amount < 0:
            require_funds(account, -amount)
        entry = record_entry(
            account, EntryKind.ADJUSTMENT, amount, user=actor, reason=reason, key=key
        )
    logger.info("adjustment account=%s amount=%s by=%s", account.pk, amount, actor_name(actor))
    return entry


def account_set_credit_limit(
    account_id: int, limit: Decimal, *, actor: User | None, reason: str = ""
) -> LedgerEntry:
    """Set how far below zero the balance may go; recorded as a zero-amount "limit" entry.
    Needs manage_accounts; refused (InvalidLimit) below what the account already owes."""
    require_manage(actor, gettext_noop("change credit limits"))
    limit = money(limit, label="credit limit")
    with transaction.atomic():
        account = lock_account(account_id)
        if account.balance < -limit:
            raise InvalidLimit(
                f"credit limit {format_money(limit)} is less than the "
                f"{format_money(-account.balance)} {account.label} owes already."
            )
        old = account.credit_limit
        account.credit_limit = limit
        account.save(update_fields=["credit_limit"])
        amounts = {"old": format_money(old), "new": format_money(limit)}
        text = (
            Text(
                gettext_noop("credit limit %(old)s → %(new)s: %(reason)s"),
                {**amounts, "reason": reason.strip()},
            )
            if reason.strip()
            else Text(gettext_noop("credit limit %(old)s → %(new)s"), amounts)
        )
        entry = record_entry(account, EntryKind.LIMIT, Decimal(0), user=actor, reason=text)
    logger.info("credit limit account=%s limit=%s by=%s", account.pk, limit, actor_name(actor))
    return entry


def account_transfer(
    from_account_id: int,
    to_account_id: int,
    amount: Decimal,
    *,
    actor: User | None,
    reason: str = "",
) -> tuple[LedgerEntry, LedgerEntry]:
    """Move money between two accounts: a "transfer_out" and a "transfer_in" entry. Needs
    manage_accounts. Both rows are locked in primary-key order, so concurrent transfers in
    opposite directions never deadlock."""
    require_manage(actor, gettext_noop("transfer money"))
    amount = money(amount)
    if amount <= 0:
        raise AmountError(f"transfer {amount} must be more than zero.")
    if from_account_id == to_account_id:
        raise AccountError("a transfer needs two different accounts.")
    with transaction.atomic():
        locked = {pk: lock_account(pk) for pk in sorted((from_account_id, to_account_id))}
        source, target = locked[from_account_id], locked[to_account_id]
        require_funds(source, amount)
        out = record_entry(
            source, EntryKind.TRANSFER_OUT, -amount, user=actor, reason=reason, counter=target
        )
        into = record_entry(
            target, EntryKind.TRANSFER_IN, amount, user=actor, reason=reason, counter=source
        )
    logger.info(
        "transfer from=%s to=%s amount=%s by=%s", source.pk, target.pk, amount, actor_name(actor)
    )
    return out, into


# ---------------------------------------------------------------- internals


def _existing_charge(job_id: int) -> LedgerEntry | None:
    return LedgerEntry.objects.filter(kind=EntryKind.CHARGE, job_id=job_id).first()


def _existing_refund(job_id: int, key: str) -> LedgerEntry | None:
    return LedgerEntry.objects.filter(
        kind=EntryKind.REFUND, job_id=job_id, idempotency_key=key
    ).first()


def _log_retry(existing: LedgerEntry, account_id: int, amount: Decimal) -> None:
    if existing.account_id != account_id or -existing.amount != amount:
        logger.warning(
            "charge retry job=%s differs: charged %s to account=%s, retry asked %s on account=%s",
            existing.job_id, -existing.amount, existing.account_id, amount, account_id,
        )  # fmt: skip
    else:
        logger.info("charge retry job=%s: charged already", existing.job_id)
