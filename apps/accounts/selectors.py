"""Reads about accounts and the ledger. Views, commands and services call these."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import connections
from django.db.models import DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from apps.accounts.choices import AccountKind, EntryKind
from apps.accounts.errors import AccountNotFound, AmbiguousAccount
from apps.accounts.models import Account, LedgerEntry, User
from apps.accounts.money import MAX_DIGITS, STORED_DECIMALS, exact_money
from apps.accounts.roles import RELEASE_OWN_JOBS, permission_name

_ZERO = Value(
    Decimal(0), output_field=DecimalField(max_digits=MAX_DIGITS, decimal_places=STORED_DECIMALS)
)


def account_get(account_id: int) -> Account:
    try:
        return Account.objects.select_related("owner").get(pk=account_id)
    except Account.DoesNotExist:
        raise AccountNotFound(f"no account has id {account_id}.") from None


def personal_account_of(user: User) -> Account | None:
    return Account.objects.filter(owner=user).first()


def account_resolve(name: str) -> Account:
    """The account NAME means on the command line: a username's personal account or a shared
    account's name (case-insensitive). `user:NAME` and `shared:NAME` say which when both exist.
    Refused in the active language: the request's in the report forms, the site's (English
    unless LANGUAGE_CODE says otherwise) on the command line.
    """
    text = name.strip()
    if not text:
        raise AccountNotFound(gettext("no account name given."))
    prefix, _, rest = text.partition(":")
    if rest and prefix in {"user", "shared"}:
        matches = _personal_named(rest) if prefix == "user" else _shared_named(rest)
        if matches is None:
            missing = (
                gettext("no user named %(name)r has an account.")
                if prefix == "user"
                else gettext("no shared account named %(name)r has an account.")
            )
            raise AccountNotFound(missing % {"name": rest})
        return matches
    personal = _personal_named(text)
    shared = _shared_named(text)
    if personal is not None and shared is not None:
        raise AmbiguousAccount(
            gettext(
                "%(name)r is both a user's personal account and a shared account: write "
                "user:%(name)s or shared:%(name)s."
            )
            % {"name": text}
        )
    found = personal or shared
    if found is None:
        raise AccountNotFound(
            gettext(
                "no account named %(name)r: it is neither a username with a personal account "
                "nor a shared account."
            )
            % {"name": text}
        )
    return found


def _personal_named(username: str) -> Account | None:
    return (
        Account.objects.select_related("owner")
        .filter(kind=AccountKind.PERSONAL, owner__username=username)
        .first()
    )


def _shared_named(name: str) -> Account | None:
    return Account.objects.filter(kind=AccountKind.SHARED, name__iexact=name).first()


def printing_refusal(user: User) -> str | None:
    """Why `user` may not have jobs held for them (None when they may), for the ways in that
    act for a user (the IPP printer, `lp -U`): a job held for someone who cannot log in, or may
    not release it, would wait in an inbox nobody sees until it expires."""
    name = user.get_username()
    if not user.is_active:
        return f"{name} may not print: the user is deactivated"
    if not user.has_perm(permission_name(RELEASE_OWN_JOBS)):
        return f"{name} may not print: no role of theirs gives the right to (Staff does)"
    return None


def charge_refusal(user: User, account: Account) -> str | None:
    """Why `user` may not charge `account`, or None when they may: their own personal account,
    and shared accounts that list them or one of their groups as a member. Inactive users
    charge nothing."""
    if not user.is_active:
        return gettext("%(user)s is deactivated: nothing can be charged to their name.") % {
            "user": user.username
        }
    if account.kind == AccountKind.PERSONAL:
        member = account.owner_id == user.pk
    else:
        member = (
            account.member_users.filter(pk=user.pk).exists()
            or account.member_groups.filter(user=user).exists()
        )
    if member:
        return None
    return gettext(
        "%(user)s may not charge %(account)s: it is neither their personal account nor a shared "
        "account they or one of their groups is a member of."
    ) % {"user": user.username, "account": account.label_for_people}


def user_may_charge(user: User, account: Account) -> bool:
    return charge_refusal(user, account) is None


def accounts_chargeable_by(user: User) -> QuerySet[Account]:
    """Every account the user may charge (for the portal's account picker)."""
    if not user.is_active:
        return Account.objects.none()
    groups = Group.objects.filter(user=user)
    return (
        Account.objects.filter(
            Q(kind=AccountKind.PERSONAL, owner=user)
            | Q(kind=AccountKind.SHARED, member_users=user)
            | Q(kind=AccountKind.SHARED, member_groups__in=groups)
        )
        .distinct()
        .order_by("kind", "name")
    )


def account_entries(account: Account) -> QuerySet[LedgerEntry]:
    """All of the account's ledger rows, newest first."""
    return (
        LedgerEntry.objects.filter(account=account)
        .select_related("user")
        .order_by("-created", "-id")
    )


def account_transactions(account: Account, limit: int = 20) -> list[LedgerEntry]:
    """The account's latest ledger rows, newest first."""
    return list(account_entries(account)[:limit])


def job_charge(job_id: int) -> LedgerEntry | None:
    """The charge of a print job, if it was charged."""
    return LedgerEntry.objects.filter(kind=EntryKind.CHARGE, job_id=job_id).first()


def job_refunded(job_id: int) -> Decimal:
    """How much of a job's charge was refunded so far."""
    total = LedgerEntry.objects.filter(kind=EntryKind.REFUND, job_id=job_id).aggregate(
        total=Coalesce(Sum("amount"), _ZERO)
    )["total"]
    return Decimal(total)


@dataclass(frozen=True)
class Drift:
    """An account whose stored balance differs from the sum of its ledger rows."""

    account_id: int
    account: str
    balance: Decimal
    ledger_sum: Decimal

    @property
    def difference(self) -> Decimal:
        return self.balance - self.ledger_sum


def ledger_drifts() -> list[Drift]:
    """Every account whose stored balance is not the sum of its ledger, found in one query:
    exactly on PostgreSQL, whose numeric adds up exactly. SQLite adds decimals up as doubles
    (16.44 + 2.78 is 19.220000000000002 there), so the query also finds accounts whose
    amounts agree: their ledger is added up again, exactly, before they are reported."""
    accounts = (
        Account.objects.select_related("owner")
        .annotate(ledger_sum=Coalesce(Sum("entries__amount"), _ZERO))
        .exclude(balance=F("ledger_sum"))
        .order_by("pk")
    )
    exact_again = connections[accounts.db].vendor == "sqlite"
    drifts = []
    for account in accounts:
        ledger_sum = _ledger_sum(account) if exact_again else Decimal(account.ledger_sum)
        if ledger_sum != account.balance:
            drifts.append(Drift(account.pk, account.label, account.balance, ledger_sum))
    return drifts


def _ledger_sum(account: Account) -> Decimal:
    """The sum of the account's ledger, added up in Python: each amount reads back exactly."""
    amounts = LedgerEntry.objects.filter(account=account).values_list("amount", flat=True)
    return exact_money(sum(amounts, Decimal(0)))
