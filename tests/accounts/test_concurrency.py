"""Money under real concurrency on PostgreSQL: threads, each with its own connection, released
together. These fail if the account row is not locked, if the lock order is not fixed, or if
idempotency rests on a check without a constraint behind it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from apps.accounts.allowances import AllowanceTerms, allowance_create, allowances_apply
from apps.accounts.choices import AllowancePeriod, EntryKind
from apps.accounts.errors import InsufficientFunds
from apps.accounts.models import Account, Allowance, AllowanceGrant, LedgerEntry, User
from apps.accounts.movements import (
    account_charge,
    account_deposit,
    account_refund,
    account_set_credit_limit,
    account_transfer,
)
from apps.accounts.selectors import ledger_drifts
from apps.accounts.services import personal_account_ensure, shared_account_create
from tests.accounts.conftest import fresh, ledger_sum, run_at_once

# The flush after each test is followed by post_migrate, which puts the role groups back.
pytestmark = pytest.mark.django_db(transaction=True)

MakeUser = Callable[..., User]


def test_fifty_charges_at_once_on_credit_for_ten(make_user: MakeUser) -> None:
    alice = make_user("alice")
    account = personal_account_ensure(alice)
    account_deposit(account.pk, Decimal("3.00"), actor=None)
    account_set_credit_limit(account.pk, Decimal("2.00"), actor=None)
    # 3.00 balance + 2.00 credit = exactly ten charges of 0.50.

    results = run_at_once(
        50,
        lambda index: account_charge(
            account.pk, Decimal("0.50"), job_id=1000 + index, user=alice, reason="one page"
        ),
    )

    charged = [result for result in results if isinstance(result, LedgerEntry)]
    refused = [result for result in results if isinstance(result, InsufficientFunds)]
    assert len(charged) == 10, [r for r in results if not isinstance(r, LedgerEntry)][:3]
    assert len(refused) == 40, [r for r in results if not isinstance(r, InsufficientFunds)][:3]
    assert all(error.missing == Decimal("0.50") for error in refused)
    account = fresh(account)
    assert account.balance == Decimal("-2.00") == ledger_sum(account)
    charges = LedgerEntry.objects.filter(account=account, kind=EntryKind.CHARGE)
    assert charges.count() == 10
    # Each charge saw the balance the one before it left: the balances after form a chain.
    afters = sorted((entry.balance_after for entry in charges), reverse=True)
    assert afters == [Decimal("2.50") - Decimal("0.50") * n for n in range(10)]
    assert min(afters) >= -account.credit_limit
    assert ledger_drifts() == []


def test_same_job_charged_twenty_times_at_once_is_charged_once(make_user: MakeUser) -> None:
    alice = make_user("alice")
    account = personal_account_ensure(alice)
    account_deposit(account.pk, Decimal("10.00"), actor=None)

    results = run_at_once(
        20, lambda _: account_charge(account.pk, Decimal("1.25"), job_id=77, user=alice)
    )

    assert all(isinstance(result, LedgerEntry) for result in results), results
    assert len({result.pk for result in results}) == 1
    assert LedgerEntry.objects.filter(kind=EntryKind.CHARGE, job_id=77).count() == 1
    assert fresh(account).balance == Decimal("8.75") == ledger_sum(account)


def test_same_job_charged_to_two_accounts_at_once_is_charged_once(make_user: MakeUser) -> None:
    alice = make_user("alice")
    personal = personal_account_ensure(alice)
    shared = shared_account_create("Physics", actor=None, users=[alice])
    for account in (personal, shared):
        account_deposit(account.pk, Decimal("10.00"), actor=None)
    targets = [personal.pk, shared.pk] * 10

    results = run_at_once(
        20, lambda index: account_charge(targets[index], Decimal("2"), job_id=5, user=alice)
    )

    assert all(isinstance(result, LedgerEntry) for result in results), results
    assert len({result.pk for result in results}) == 1
    total = sum((fresh(account).balance for account in (personal, shared)), Decimal(0))
    assert total == Decimal("18.00")
    assert ledger_drifts() == []


def test_refund_run_twice_at_once_refunds_once(make_user: MakeUser) -> None:
    alice = make_user("alice")
    account = personal_account_ensure(alice)
    account_deposit(account.pk, Decimal("10.00"), actor=None)
    account_charge(account.pk, Decimal("6.00"), job_id=8, user=alice)

    results = run_at_once(10, lambda _: account_refund(8, reason="job failed"))

    assert all(isinstance(result, LedgerEntry) for result in results), results
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND, job_id=8).count() == 1
    assert fresh(account).balance == Decimal("10.00") == ledger_sum(account)


def test_opposite_transfers_at_once_do_not_deadlock(make_user: MakeUser) -> None:
    first = personal_account_ensure(make_user("alice"))
    second = shared_account_create("Physics", actor=None)
    for account in (first, second):
        account_deposit(account.pk, Decimal("100.00"), actor=None)
    directions = [(first.pk, second.pk), (second.pk, first.pk)] * 15

    results = run_at_once(
        30,
        lambda index: account_transfer(
            *directions[index], Decimal("1.00"), actor=None, reason="swap"
        ),
    )

    # A deadlock would surface as OperationalError (deadlock detected) in some thread.
    assert all(isinstance(result, tuple) for result in results), results
    assert fresh(first).balance == fresh(second).balance == Decimal("100.00")
    assert LedgerEntry.objects.filter(kind=EntryKind.TRANSFER_OUT).count() == 30
    assert ledger_drifts() == []


def test_allowance_ticks_at_once_count_once_and_respect_the_cap(make_user: MakeUser) -> None:
    staff = Group.objects.get(name="Staff")
    users = [make_user(name) for name in ("alice", "bob", "carol")]
    rich = personal_account_ensure(users[2])
    account_deposit(rich.pk, Decimal("4.50"), actor=None)
    Allowance.objects.create(
        group=staff, amount=Decimal("2.00"), period=AllowancePeriod.WEEKLY, cap=Decimal("5.00")
    )

    results = run_at_once(6, lambda _: allowances_apply())

    assert all(not isinstance(result, Exception) for result in results), results
    assert sum(result.granted for result in results) == 3
    assert AllowanceGrant.objects.count() == 3
    balances = {
        account.owner.username: account.balance  # type: ignore[union-attr]
        for account in Account.objects.filter(owner__in=users).select_related("owner")
    }
    assert balances == {"alice": Decimal("2.00"), "bob": Decimal("2.00"), "carol": Decimal("5.00")}
    assert ledger_drifts() == []


def test_two_allowances_of_one_group_and_period_created_at_once_make_one() -> None:
    staff = Group.objects.get(name="Staff")

    def create(index: int) -> Allowance:
        terms = AllowanceTerms(group=staff, amount=Decimal(index + 1), period="weekly")
        return allowance_create(terms, actor=None)

    results = run_at_once(4, create)

    assert sorted(type(result).__name__ for result in results) == [
        "AccountError", "AccountError", "AccountError", "Allowance",
    ]  # fmt: skip
    assert Allowance.objects.filter(group=staff, period="weekly").count() == 1


def test_two_allowances_of_one_group_and_period_saved_in_the_admin_at_once_make_one() -> None:
    """The admin checked for an active twin without the services' lock: four saves at the
    same moment all passed, and the group's members were granted four times a month."""
    staff = Group.objects.get(name="Staff")
    User.objects.create_superuser("root", password="pw-not-used-1")

    def save(index: int) -> int:
        client = Client()
        client.force_login(User.objects.get(username="root"))
        form = {"group": staff.pk, "amount": f"{index + 1}.00", "period": "monthly",
                "cap": "", "is_active": "on"}  # fmt: skip
        return client.post("/admin/accounts/allowance/add/", form).status_code

    results = run_at_once(4, save)

    assert sorted(results) == [200, 200, 200, 302]  # three shown the form with the refusal
    assert Allowance.objects.filter(group=staff, period="monthly").count() == 1
