"""The periodic tasks: the ledger audit finds drift; allowances through a real worker count
once however often they run."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from apps.accounts.choices import EntryKind
from apps.accounts.models import Account, Allowance, LedgerEntry, User
from apps.accounts.movements import account_deposit
from apps.accounts.services import personal_account_ensure
from apps.accounts.tasks import allowances_apply_due, ledger_audit
from tests.accounts.conftest import fresh, ledger_sum
from tests.workers import WorkerProcess

MakeUser = Callable[..., User]


@pytest.mark.django_db
def test_audit_finds_an_injected_drift_and_only_that(
    make_user: MakeUser, caplog: pytest.LogCaptureFixture
) -> None:
    good = personal_account_ensure(make_user("alice"))
    bad = personal_account_ensure(make_user("bob"))
    for account in (good, bad):
        account_deposit(account.pk, Decimal("5.00"), actor=None)
    assert ledger_audit() == []

    # A balance changed behind the services' back (no ledger row).
    Account.objects.filter(pk=bad.pk).update(balance=Decimal("6.50"))

    drifts = ledger_audit()
    assert drifts == [
        {
            "account_id": bad.pk,
            "account": "personal account of bob",
            "balance": "6.50",
            "ledger_sum": "5.00",
            "difference": "1.50",
        }
    ]
    assert "ledger drift" in caplog.text
    assert f"account={bad.pk}" in caplog.text


@pytest.mark.django_db
def test_audit_sees_an_account_without_entries_but_with_a_balance(make_user: MakeUser) -> None:
    account = personal_account_ensure(make_user("alice"))
    Account.objects.filter(pk=account.pk).update(balance=Decimal("1.00"))
    assert [drift["ledger_sum"] for drift in ledger_audit()] == ["0.00"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_allowance_task_twice_counting_once(
    celery_worker: WorkerProcess, make_user: MakeUser
) -> None:
    alice = make_user("alice")
    account = personal_account_ensure(alice)
    account_deposit(account.pk, Decimal("5"), actor=None)
    Allowance.objects.create(
        group=Group.objects.get(name="Staff"), amount=Decimal("0.50"), period="monthly"
    )
    for _ in range(2):
        allowances_apply_due.delay()

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if LedgerEntry.objects.filter(kind=EntryKind.ALLOWANCE).exists():
            break
        time.sleep(0.1)
    time.sleep(1.0)  # let the duplicate run too
    assert LedgerEntry.objects.filter(kind=EntryKind.ALLOWANCE).count() == 1
    assert fresh(account).balance == Decimal("5.50") == ledger_sum(account)
