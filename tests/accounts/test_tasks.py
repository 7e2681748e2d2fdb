"""The periodic tasks: the ledger audit finds drift; allowances through a real worker count
once however often they run."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from apps.accounts.choices import EntryKind
from apps.accounts.models import Account, Allowance, LedgerEntry, User
from apps.accounts.movements import account_deposit
from apps.accounts.services import personal_account_ensure
from apps.accounts.tasks import allowances_apply_due, ledger_audit
from tests.accounts.conftest import fresh, ledger_sum, on_embedded_sqlite
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


@pytest.mark.django_db
def test_audit_sees_a_drift_of_one_cent_and_none_where_the_sum_is_exact(
    make_user: MakeUser,
) -> None:
    account = personal_account_ensure(make_user("alice"))
    for amount in ("16.44", "2.78"):  # 19.220000000000002 in doubles
        account_deposit(account.pk, Decimal(amount), actor=None)
    assert ledger_audit() == []
    Account.objects.filter(pk=account.pk).update(balance=Decimal("19.23"))
    assert [(drift["ledger_sum"], drift["difference"]) for drift in ledger_audit()] == [
        ("19.22", "0.01")
    ]


SQLITE_AUDIT = """
import logging
from decimal import Decimal
from io import StringIO
from django.core.management import call_command
from django.core.management.base import CommandError
from apps.accounts.models import Account
from apps.accounts.movements import account_deposit
from apps.accounts.services import user_create
from apps.accounts.tasks import ledger_audit
class Shown(logging.Handler):
    def emit(self, record):
        print(record.levelname, record.getMessage())
logging.getLogger("apps.accounts.tasks").addHandler(Shown(logging.ERROR))
account = user_create("alice", "pw-not-used-1").personal_account
for amount in ("16.44", "2.78"):
    account_deposit(account.pk, Decimal(amount), actor=None)
def audit():
    out = StringIO()
    try:
        call_command("account", "audit", stdout=out)
    except CommandError as error:
        out.write(f"error: {error}")
    print(out.getvalue().strip().replace("\\n", " | "))
    print([(drift["ledger_sum"], drift["difference"]) for drift in ledger_audit()])
audit()
Account.objects.filter(pk=account.pk).update(balance=Decimal("19.23"))
audit()
"""


def test_on_the_embedded_sqlite_the_audit_is_exact(tmp_path: Path) -> None:
    # SQLite adds the ledger up as doubles, 19.220000000000002, which is no drift; one cent is.
    output = on_embedded_sqlite(tmp_path, SQLITE_AUDIT)
    assert output.splitlines() == [
        "every balance equals the sum of its ledger",
        "[]",
        "personal account of alice: balance 19.23 but ledger sums to 19.22 | "
        "error: 1 account(s) differ from their ledger.",
        "ERROR ledger drift account=1 (personal account of alice) balance=19.23 "
        "ledger_sum=19.22 difference=0.01",
        "[('19.22', '0.01')]",
    ]


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
