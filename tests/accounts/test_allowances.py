"""Periodic allowances: once per period per account, never beyond the cap."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.test.utils import override_settings

from apps.accounts.allowances import allowance_period_key, allowances_apply
from apps.accounts.choices import AllowancePeriod, EntryKind
from apps.accounts.models import Allowance, AllowanceGrant, LedgerEntry, User
from apps.accounts.movements import account_deposit
from apps.accounts.services import personal_account_ensure
from tests.accounts.conftest import fresh, ledger_sum

pytestmark = pytest.mark.django_db

MakeUser = Callable[..., User]
MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "moment", "key"),
    [
        (AllowancePeriod.DAILY, datetime(2026, 11, 21, 23, 59, tzinfo=UTC), "2026-11-21"),
        (AllowancePeriod.WEEKLY, datetime(2026, 11, 21, 12, 0, tzinfo=UTC), "2026-W47"),
        (AllowancePeriod.WEEKLY, datetime(2027, 1, 1, 12, 0, tzinfo=UTC), "2026-W53"),
        (AllowancePeriod.MONTHLY, datetime(2026, 12, 31, 12, 0, tzinfo=UTC), "2026-12"),
    ],
)
def test_period_keys(period: str, moment: datetime, key: str) -> None:
    assert allowance_period_key(period, moment) == key


@override_settings(TIME_ZONE="Europe/Amsterdam")
def test_period_key_follows_the_site_time_zone() -> None:
    # 23:30 UTC on the 21st is already the 22nd in Amsterdam.
    late = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)
    assert allowance_period_key(AllowancePeriod.DAILY, late) == "2026-11-22"


def test_allowance_counts_once_per_period_and_again_the_next(
    make_user: MakeUser, staff_group: Group
) -> None:
    alice = make_user("alice")
    Allowance.objects.create(group=staff_group, amount=Decimal("1.50"), period="daily")
    assert allowances_apply(MONDAY).granted == 1
    again = allowances_apply(MONDAY.replace(hour=23))
    assert (again.granted, again.skipped) == (0, 1)
    assert allowances_apply(MONDAY.replace(day=17)).granted == 1
    account = personal_account_ensure(alice)
    assert fresh(account).balance == Decimal("3.00") == ledger_sum(account)
    entries = LedgerEntry.objects.filter(account=account, kind=EntryKind.ALLOWANCE)
    assert sorted(entry.reason for entry in entries) == [
        "daily allowance 2026-11-16 (Staff)",
        "daily allowance 2026-11-17 (Staff)",
    ]
    assert all(entry.user is None for entry in entries)


def test_cap_tops_up_to_the_cap_and_no_further(make_user: MakeUser, staff_group: Group) -> None:
    account = personal_account_ensure(make_user("alice"))
    account_deposit(account.pk, Decimal("3.25"), actor=None)
    Allowance.objects.create(
        group=staff_group, amount=Decimal("1.00"), period="daily", cap=Decimal("4.00")
    )
    allowances_apply(MONDAY)
    assert fresh(account).balance == Decimal("4.00")
    allowances_apply(MONDAY.replace(day=17))
    assert fresh(account).balance == Decimal("4.00")
    grants = AllowanceGrant.objects.order_by("period_key")
    assert [(grant.period_key, grant.amount) for grant in grants] == [
        ("2026-11-16", Decimal("0.75")),
        ("2026-11-17", Decimal("0.00")),
    ]
    assert grants[1].entry is None  # nothing added, yet the period counts as done
    assert fresh(account).balance == ledger_sum(account)


def test_a_grant_that_would_not_fit_one_balance_is_refused_there_and_the_others_get_theirs(
    make_user: MakeUser, staff_group: Group, caplog: pytest.LogCaptureFixture
) -> None:
    full = personal_account_ensure(make_user("alice"))
    account_deposit(full.pk, Decimal("9999999999999.00"), actor=None)
    other = personal_account_ensure(make_user("bob"))
    Allowance.objects.create(group=staff_group, amount=Decimal("5.00"), period="daily")
    run = allowances_apply(MONDAY)
    assert (run.granted, run.skipped, run.refused) == (1, 0, 1)
    assert fresh(full).balance == Decimal("9999999999999.00") == ledger_sum(full)
    assert fresh(other).balance == Decimal("5.00")
    assert not AllowanceGrant.objects.filter(account=full).exists()  # tried again next run
    assert "personal account of alice: allowance 5.00 would take the balance" in caplog.text


def test_inactive_allowances_and_users_get_nothing(make_user: MakeUser, staff_group: Group) -> None:
    alice = make_user("alice")
    alice.is_active = False
    alice.save()
    Allowance.objects.create(group=staff_group, amount=Decimal("1"), period="monthly")
    Allowance.objects.create(
        group=staff_group, amount=Decimal("5"), period="monthly", is_active=False
    )
    assert allowances_apply(MONDAY).granted == 0
    assert not LedgerEntry.objects.filter(kind=EntryKind.ALLOWANCE).exists()


def test_database_refuses_a_second_grant_for_a_period(
    make_user: MakeUser, staff_group: Group
) -> None:
    account = personal_account_ensure(make_user("alice"))
    allowance = Allowance.objects.create(group=staff_group, amount=Decimal("1"), period="daily")
    AllowanceGrant.objects.create(
        allowance=allowance, account=account, period_key="2026-11-16", amount=Decimal(0)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        AllowanceGrant.objects.create(
            allowance=allowance, account=account, period_key="2026-11-16", amount=Decimal(0)
        )


def test_of_two_active_allowances_of_one_group_and_period_only_the_older_grants(
    make_user: MakeUser, staff_group: Group, caplog: pytest.LogCaptureFixture
) -> None:
    """Two made before a second one was refused (a Create clicked twice) granted twice."""
    alice = make_user("alice")
    older = Allowance.objects.create(group=staff_group, amount=Decimal("5.00"), period="monthly")
    twin = Allowance.objects.create(group=staff_group, amount=Decimal("5.00"), period="monthly")
    Allowance.objects.create(group=staff_group, amount=Decimal("1.00"), period="weekly")
    run = allowances_apply(MONDAY)
    assert run.granted == 2
    account = personal_account_ensure(alice)
    assert fresh(account).balance == Decimal("6.00") == ledger_sum(account)
    assert not AllowanceGrant.objects.filter(allowance=twin).exists()
    assert AllowanceGrant.objects.filter(allowance=older).count() == 1
    assert f"allowance={twin.pk} is a second active monthly allowance of group Staff" in caplog.text
