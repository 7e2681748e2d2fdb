"""Writes that concern users, roles, accounts and money. Views, commands and tasks call these,
never the ORM.

Money rules kept here (and backed by database constraints):

- every change of an account's balance is a LedgerEntry written in the same transaction, and
  the stored balance is the sum of the account's entries;
- a movement out of an account locks the account row first (SELECT ... FOR UPDATE) and is
  refused with InsufficientFunds when it would take the balance below minus the credit limit;
- when two accounts are involved, rows are locked in primary-key order (as Saleor does), so
  concurrent transfers never deadlock;
- a job is charged at most once and refunded at most its charge, whatever retries happen.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.choices import AccountKind, AllowancePeriod, EntryKind
from apps.accounts.errors import (
    AccountError,
    AccountNotFound,
    AccountPermissionDenied,
    AmountError,
    InsufficientFunds,
    InvalidLimit,
    NoChargeForJob,
    RefundExceedsCharge,
)
from apps.accounts.models import Account, Allowance, AllowanceGrant, LedgerEntry, User
from apps.accounts.money import format_money, money
from apps.accounts.roles import (
    FINANCE,
    MANAGE_ACCOUNTS,
    PRINTER_ADMIN,
    STAFF,
    Role,
    permission_name,
)
from apps.accounts.selectors import job_refunded, user_may_charge

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role | None
    superuser: bool = False


DEMO_USERS = (
    DemoUser("alice", STAFF),
    DemoUser("bob", STAFF),
    DemoUser("pat", PRINTER_ADMIN),
    DemoUser("fin", FINANCE),
    DemoUser("root", None, superuser=True),
)


@dataclass(frozen=True)
class CreatedUser:
    username: str
    password: str
    role_name: str


def user_create(
    username: str, password: str, *, role: Role | None = None, superuser: bool = False
) -> User:
    """Create a user with a password, in a role group (or as superuser)."""
    with transaction.atomic():
        if superuser:
            user = User.objects.create_superuser(username=username, password=password)
        else:
            user = User.objects.create_user(username=username, password=password)
        if role is not None:
            user.groups.add(Group.objects.get(name=role.group_name))
        personal_account_ensure(user)
    return user


def demo_users_ensure() -> list[CreatedUser]:
    """Create the demo users that do not exist yet; return those created, with passwords.

    Passwords are random and shown once: a demo site must not ship a known password.
    """
    created = []
    existing = set(
        User.objects.filter(username__in=[demo.username for demo in DEMO_USERS]).values_list(
            "username", flat=True
        )
    )
    for demo in DEMO_USERS:
        if demo.username in existing:
            continue
        password = secrets.token_urlsafe(9)
        user_create(demo.username, password, role=demo.role, superuser=demo.superuser)
        role_name = demo.role.group_name if demo.role else "Superuser"
        created.append(CreatedUser(demo.username, password, role_name))
    return created


# ---------------------------------------------------------------- accounts


def personal_account_ensure(user: User) -> Account:
    """The user's personal account, opened now (with INITIAL_CREDIT as an "initial" ledger
    entry when that is not zero) if the user has none yet. Safe to call concurrently."""
    existing = Account.objects.filter(owner=user).first()
    if existing is not None:
        return existing
    credit = money(settings.INITIAL_CREDIT, label="INITIAL_CREDIT")
    try:
        with transaction.atomic():
            account = Account.objects.create(kind=AccountKind.PERSONAL, owner=user)
            if credit:
                _record(account, EntryKind.INITIAL, credit, user=None, reason="initial credit")
    except IntegrityError:
        # Another transaction opened it at the same moment: use theirs.
        return Account.objects.get(owner=user)
    logger.info("account opened: personal user=%s credit=%s", user.username, credit)
    return account


def shared_account_create(
    name: str,
    *,
    actor: User | None,
    users: Iterable[User] = (),
    groups: Iterable[Group] = (),
    credit_limit: Decimal = Decimal(0),
    description: str = "",
) -> Account:
    """Open a shared account (department, project, cost centre) with its members."""
    _require_manage(actor, "open shared accounts")
    clean = name.strip()
    if not clean:
        raise AccountError("a shared account needs a name.")
    if ":" in clean or clean.startswith("@"):
        raise AccountError(
            f"shared account name {name!r} may not contain ':' or start with '@' "
            "(the command line uses them to tell users, groups and accounts apart)."
        )
    if len(clean) > Account._meta.get_field("name").max_length:  # type: ignore[operator]
        raise AccountError(f"shared account name {name!r} is too long: at most 150 characters.")
    limit = money(credit_limit, label="credit limit")
    if Account.objects.filter(kind=AccountKind.SHARED, name__iexact=clean).exists():
        raise AccountError(f"a shared account named {clean!r} exists already.")
    try:
        with transaction.atomic():
            account = Account.objects.create(
                kind=AccountKind.SHARED, name=clean, credit_limit=limit, description=description
            )
            account.member_users.set(list(users))
            account.member_groups.set(list(groups))
            if limit:
                _record(
                    account,
                    EntryKind.LIMIT,
                    Decimal(0),
                    user=actor,
                    reason=f"credit limit {format_money(limit)} when opened",
                )
    except IntegrityError:
        raise AccountError(f"a shared account named {clean!r} exists already.") from None
    logger.info("account opened: shared name=%s by=%s", clean, _who(actor))
    return account


def shared_account_members_add(
    account_id: int, *, actor: User | None, users: Iterable[User] = (), groups: Iterable[Group] = ()
) -> Account:
    """Let more users or groups charge a shared account."""
    _require_manage(actor, "change shared account members")
    with transaction.atomic():
        account = _lock(account_id)
        if account.kind != AccountKind.SHARED:
            raise AccountError(f"{account.label} is personal: it has no members.")
        account.member_users.add(*users)
        account.member_groups.add(*groups)
    return account


# ---------------------------------------------------------------- money movements


def account_charge(
    account_id: int, amount: Decimal, *, job_id: int, user: User, reason: str = ""
) -> LedgerEntry:
    """Charge a print job to an account, exactly once.

    Returns the charge entry; a retry for a job that is already charged returns the existing
    entry and changes nothing (also when it was charged to another account). Raises
    AccountPermissionDenied when `user` may not charge the account, InsufficientFunds (with
    `.missing`) when the account lacks the money, AmountError for a bad amount, AccountNotFound.
    """
    amount = money(amount)
    with transaction.atomic():
        account = _lock(account_id)
        # Checked under the account's lock: a concurrent charge of the same job to this account
        # has committed by now and is seen here.
        existing = _existing_charge(job_id)
        if existing is not None:
            _log_retry(existing, account_id, amount)
            return existing
        if not user_may_charge(user, account):
            raise AccountPermissionDenied(
                f"{user.username} may not charge {account.label}: it is neither their personal "
                "account nor a shared account they or one of their groups is a member of."
            )
        _require_funds(account, amount)
        try:
            entry = _record(
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
    reason: str,
    user: User | None = None,
    key: str = "",
) -> LedgerEntry | None:
    """Give back (part of) a job's charge to the account it was charged to, once.

    `amount=None` refunds all that was charged and not yet refunded. A call with a `key` that
    was used before for this job (the default key "" included) returns that earlier refund and
    changes nothing, so running the same refund twice refunds once; partial refunds with
    distinct keys add up to at most the charge (RefundExceedsCharge otherwise). Returns None
    when nothing is left to refund. Raises NoChargeForJob if the job was never charged.
    """
    if amount is not None:
        amount = money(amount)
    if len(key) > 64:
        raise AccountError(f"refund key {key!r} is too long: at most 64 characters.")
    with transaction.atomic():
        charge = _existing_charge(job_id)
        if charge is None:
            raise NoChargeForJob(f"job {job_id} was never charged: there is nothing to refund.")
        account = _lock(charge.account_id)
        existing = _existing_refund(job_id, key)
        if existing is not None:
            logger.info("refund retry job=%s key=%r: refunded already", job_id, key)
            return existing
        remaining = -charge.amount - job_refunded(job_id)
        if amount is None:
            amount = remaining
        elif amount > remaining:
            raise RefundExceedsCharge(
                f"refund {format_money(amount)} for job {job_id} is more than the "
                f"{format_money(remaining)} of its charge not refunded yet."
            )
        if amount == 0:
            return None
        try:
            entry = _record(
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


def account_deposit(
    account_id: int, amount: Decimal, *, actor: User | None, reason: str = ""
) -> LedgerEntry:
    """Put money into an account (cash at the desk, a top-up). Needs manage_accounts."""
    _require_manage(actor, "deposit money")
    amount = money(amount)
    if amount <= 0:
        raise AmountError(f"deposit {amount} must be more than zero.")
    with transaction.atomic():
        account = _lock(account_id)
        entry = _record(account, EntryKind.DEPOSIT, amount, user=actor, reason=reason)
    logger.info("deposit account=%s amount=%s by=%s", account.pk, amount, _who(actor))
    return entry


def account_adjust(
    account_id: int, amount: Decimal, *, actor: User | None, reason: str
) -> LedgerEntry:
    """Correct a balance up (positive) or down (negative), with a reason. Needs
    manage_accounts; never below minus the credit limit (InsufficientFunds)."""
    _require_manage(actor, "adjust balances")
    amount = money(amount, negative=True)
    if not reason.strip():
        raise AccountError("an adjustment needs a reason.")
    if amount == 0:
        raise AmountError("adjustment 0 changes nothing: give a positive or negative amount.")
    with transaction.atomic():
        account = _lock(account_id)
        if amount < 0:
            _require_funds(account, -amount)
        entry = _record(account, EntryKind.ADJUSTMENT, amount, user=actor, reason=reason.strip())
    logger.info("adjustment account=%s amount=%s by=%s", account.pk, amount, _who(actor))
    return entry


def account_set_credit_limit(
    account_id: int, limit: Decimal, *, actor: User | None, reason: str = ""
) -> LedgerEntry:
    """Set how far below zero the balance may go; recorded as a zero-amount "limit" entry.
    Needs manage_accounts; refused (InvalidLimit) below what the account already owes."""
    _require_manage(actor, "change credit limits")
    limit = money(limit, label="credit limit")
    with transaction.atomic():
        account = _lock(account_id)
        if account.balance < -limit:
            raise InvalidLimit(
                f"credit limit {format_money(limit)} is less than the "
                f"{format_money(-account.balance)} {account.label} owes already."
            )
        old = account.credit_limit
        account.credit_limit = limit
        account.save(update_fields=["credit_limit"])
        text = f"credit limit {format_money(old)} → {format_money(limit)}"
        entry = _record(
            account,
            EntryKind.LIMIT,
            Decimal(0),
            user=actor,
            reason=f"{text}: {reason.strip()}" if reason.strip() else text,
        )
    logger.info("credit limit account=%s limit=%s by=%s", account.pk, limit, _who(actor))
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
    _require_manage(actor, "transfer money")
    amount = money(amount)
    if amount <= 0:
        raise AmountError(f"transfer {amount} must be more than zero.")
    if from_account_id == to_account_id:
        raise AccountError("a transfer needs two different accounts.")
    with transaction.atomic():
        locked = {pk: _lock(pk) for pk in sorted((from_account_id, to_account_id))}
        source, target = locked[from_account_id], locked[to_account_id]
        _require_funds(source, amount)
        out = _record(
            source, EntryKind.TRANSFER_OUT, -amount, user=actor, reason=reason, counter=target
        )
        into = _record(
            target, EntryKind.TRANSFER_IN, amount, user=actor, reason=reason, counter=source
        )
    logger.info("transfer from=%s to=%s amount=%s by=%s", source.pk, target.pk, amount, _who(actor))
    return out, into


# ---------------------------------------------------------------- allowances


def allowance_period_key(period: str, now: datetime) -> str:
    """The period `now` falls in, in the site's time zone: 2026-11-21, 2026-W47 or 2026-11."""
    day = timezone.localtime(now).date()
    if period == AllowancePeriod.DAILY:
        return day.isoformat()
    if period == AllowancePeriod.WEEKLY:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == AllowancePeriod.MONTHLY:
        return f"{day.year}-{day.month:02d}"
    raise ValueError(f"unknown allowance period {period!r}")


@dataclass(frozen=True)
class AllowanceRun:
    granted: int  # grants written in this run
    skipped: int  # accounts that had this period's allowance already


def allowances_apply(now: datetime | None = None) -> AllowanceRun:
    """Apply every active allowance to the personal account of each active member of its
    group, once for the current period. Running it again in the same period adds nothing."""
    moment = now or timezone.now()
    granted = skipped = 0
    for allowance in Allowance.objects.filter(is_active=True).select_related("group"):
        key = allowance_period_key(allowance.period, moment)
        for user in allowance.group.user_set.filter(is_active=True).order_by("pk"):
            account = personal_account_ensure(user)
            if allowance_apply(allowance.pk, account.pk, key) is None:
                skipped += 1
            else:
                granted += 1
    return AllowanceRun(granted=granted, skipped=skipped)


def allowance_apply(allowance_id: int, account_id: int, period_key: str) -> AllowanceGrant | None:
    """Grant one allowance to one account for one period; None if it was granted already.

    With a cap the amount is cut so the balance does not pass the cap (possibly to zero: the
    grant is still recorded, so the period counts as done)."""
    with transaction.atomic():
        account = _lock(account_id)
        allowance = Allowance.objects.get(pk=allowance_id)
        if AllowanceGrant.objects.filter(
            allowance=allowance, account=account, period_key=period_key
        ).exists():
            return None
        amount = allowance.amount
        if allowance.cap is not None:
            amount = max(Decimal(0), min(amount, allowance.cap - account.balance))
        balance_before = account.balance
        try:
            with transaction.atomic():
                entry = None
                if amount > 0:
                    entry = _record(
                        account,
                        EntryKind.ALLOWANCE,
                        amount,
                        user=None,
                        reason=f"{allowance.get_period_display()} allowance {period_key} "
                        f"({allowance.group.name})",
                    )
                grant = AllowanceGrant.objects.create(
                    allowance=allowance,
                    account=account,
                    period_key=period_key,
                    amount=amount,
                    entry=entry,
                )
        except IntegrityError:
            account.balance = balance_before
            return None
    logger.info(
        "allowance=%s account=%s period=%s amount=%s", allowance.pk, account.pk, period_key, amount
    )
    return grant


# ---------------------------------------------------------------- internals


def _lock(account_id: int) -> Account:
    """The account row, locked until the end of the transaction."""
    try:
        return Account.objects.select_for_update().get(pk=account_id)
    except Account.DoesNotExist:
        raise AccountNotFound(f"no account has id {account_id}.") from None


def _record(
    account: Account,
    kind: EntryKind,
    amount: Decimal,
    *,
    user: User | None,
    reason: str,
    job_id: int | None = None,
    key: str = "",
    counter: Account | None = None,
) -> LedgerEntry:
    """Append a ledger row and move the (locked) account's balance by its amount, atomically.

    The row is inserted first: if a unique constraint refuses it, the balance is untouched.
    """
    new_balance = account.balance + amount
    with transaction.atomic():
        entry = LedgerEntry.objects.create(
            account=account,
            kind=kind,
            amount=amount,
            balance_after=new_balance,
            user=user,
            reason=reason,
            job_id=job_id,
            idempotency_key=key,
            counter_account=counter,
        )
        account.balance = new_balance
        account.save(update_fields=["balance"])
    return entry


def _require_funds(account: Account, amount: Decimal) -> None:
    if account.balance - amount < -account.credit_limit:
        raise InsufficientFunds(account.label, amount, account.available)


def _require_manage(actor: User | None, what: str) -> None:
    """None is the system (a task, or the command line run by the site's operator)."""
    if actor is not None and not actor.has_perm(permission_name(MANAGE_ACCOUNTS)):
        raise AccountPermissionDenied(
            f"{actor.username} may not {what}: that needs the {MANAGE_ACCOUNTS} permission."
        )


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


def _who(actor: User | None) -> str:
    return actor.username if actor is not None else "system"
