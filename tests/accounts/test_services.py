"""The money services one call at a time: every movement a ledger row, every refusal typed and
leaving nothing written."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction
from django.test.utils import override_settings
from django.utils import translation

from apps.accounts.choices import AccountKind, EntryKind
from apps.accounts.errors import (
    AccountError,
    AccountNotFound,
    AccountPermissionDenied,
    AmbiguousAccount,
    AmountError,
    BalanceOutOfRange,
    InsufficientFunds,
    InvalidLimit,
    NoChargeForJob,
    RefundExceedsCharge,
)
from apps.accounts.models import Account, AppendOnlyError, LedgerEntry, User
from apps.accounts.movements import (
    account_adjust,
    account_charge,
    account_deposit,
    account_refund,
    account_set_credit_limit,
    account_transfer,
)
from apps.accounts.selectors import (
    account_resolve,
    accounts_chargeable_by,
    job_refunded,
    ledger_drifts,
    user_may_charge,
)
from apps.accounts.services import personal_account_ensure, shared_account_create, user_create
from tests.accounts.conftest import fresh, ledger_sum, on_embedded_sqlite

pytestmark = pytest.mark.django_db

MakeUser = Callable[..., User]


def funded(user: User, amount: str) -> Account:
    account = personal_account_ensure(user)
    account_deposit(account.pk, Decimal(amount), actor=None, reason="test money")
    return fresh(account)


def snapshot() -> tuple[int, list[tuple[int, Decimal, Decimal]]]:
    """Everything a refused call must leave unchanged."""
    return LedgerEntry.objects.count(), list(
        Account.objects.order_by("pk").values_list("pk", "balance", "credit_limit")
    )


# ---------------------------------------------------------------- personal and shared accounts


@override_settings(INITIAL_CREDIT=Decimal("5.00"))
def test_user_create_opens_personal_account_with_initial_credit_entry() -> None:
    user = user_create("carol", "pw-not-used-1")
    account = Account.objects.get(owner=user)
    assert account.kind == AccountKind.PERSONAL
    assert account.balance == Decimal("5.00")
    assert account.currency == "EUR"
    (entry,) = LedgerEntry.objects.filter(account=account)
    assert entry.kind == "initial"
    assert entry.amount == entry.balance_after == Decimal("5.00")
    assert entry.created.tzinfo is not None


def test_no_initial_entry_when_initial_credit_is_zero(make_user: MakeUser) -> None:
    account = personal_account_ensure(make_user("dave"))
    assert account.balance == 0
    assert not LedgerEntry.objects.filter(account=account).exists()


@override_settings(INITIAL_CREDIT=Decimal("1.00"))
def test_personal_account_ensure_opens_once_for_existing_users() -> None:
    user = User.objects.create_user("legacy", password="pw-not-used-1")
    assert not Account.objects.filter(owner=user).exists()
    first = personal_account_ensure(user)
    second = personal_account_ensure(user)
    assert first.pk == second.pk
    assert LedgerEntry.objects.filter(account=first).count() == 1
    assert fresh(first).balance == Decimal("1.00")


def test_user_create_rolls_back_the_account_with_the_user() -> None:
    user_create("erin", "pw-not-used-1")
    with pytest.raises(IntegrityError):
        user_create("erin", "pw-not-used-1")
    assert Account.objects.filter(owner__username="erin").count() == 1


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("bad name!", "username 'bad name!': Enter a valid username."),
        ("a/b", "username 'a/b': Enter a valid username."),
        ("@Staff", "username '@Staff' may not start with '@' or contain ':'"),
        ("shared:x", "username 'shared:x' may not start with '@' or contain ':'"),
        ("", "a user needs a username."),
        ("x" * 151, "is too long: at most 150 characters."),
    ],
)
def test_user_create_refuses_usernames_django_or_the_command_line_cannot_use(
    username: str, message: str
) -> None:
    with pytest.raises(AccountError) as error:
        user_create(username, "pw-not-used-1")
    assert message in str(error.value)
    assert not User.objects.exists()
    assert user_create("anna.b+2@home-x_y", "pw-not-used-1").username == "anna.b+2@home-x_y"


def test_shared_account_members_by_user_and_by_group(
    make_user: MakeUser, staff_group: Group
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    outsider = User.objects.create_user("outsider", password="pw-not-used-1")
    physics = shared_account_create("Physics", actor=None, users=[alice])
    library = shared_account_create("Library", actor=None, groups=[staff_group])
    assert user_may_charge(alice, physics)
    assert not user_may_charge(bob, physics)
    assert user_may_charge(bob, library)  # through the Staff group
    assert not user_may_charge(outsider, library)
    assert not user_may_charge(alice, personal_account_ensure(bob))
    chargeable = {account.pk for account in accounts_chargeable_by(alice)}
    assert chargeable == {personal_account_ensure(alice).pk, physics.pk, library.pk}
    alice.is_active = False
    alice.save()
    assert not user_may_charge(alice, physics)


def test_shared_account_names_are_unique_ignoring_case(make_user: MakeUser) -> None:
    shared_account_create("Physics", actor=None)
    with pytest.raises(AccountError, match="a shared account named 'PHYSICS' exists already"):
        shared_account_create("PHYSICS", actor=None)
    with pytest.raises(AccountError, match="needs a name"):
        shared_account_create("  ", actor=None)
    with pytest.raises(AccountError, match="may not contain ':'"):
        shared_account_create("user:x", actor=None)
    with pytest.raises(AccountPermissionDenied, match="bob may not open shared accounts"):
        shared_account_create("Chemistry", actor=make_user("bob"))
    assert Account.objects.filter(kind=AccountKind.SHARED).count() == 1


def test_resolve_names_and_ambiguity(make_user: MakeUser) -> None:
    make_user("alice")
    make_user("physics")
    shared = shared_account_create("Physics", actor=None)
    assert account_resolve("alice").owner.username == "alice"  # type: ignore[union-attr]
    with pytest.raises(AmbiguousAccount, match="write user:physics or shared:physics"):
        account_resolve("physics")
    assert account_resolve("shared:physics").pk == shared.pk
    assert account_resolve("user:physics").kind == AccountKind.PERSONAL
    with pytest.raises(AccountNotFound, match="no account named 'nobody'"):
        account_resolve("nobody")
    with pytest.raises(AccountNotFound, match="no shared account named 'alice'"):
        account_resolve("shared:alice")


# ---------------------------------------------------------------- charges


def test_charge_moves_balance_and_records_entry(make_user: MakeUser) -> None:
    alice = make_user("alice")
    account = funded(alice, "10.00")
    entry = account_charge(account.pk, Decimal("2.35"), job_id=1, user=alice, reason="3 pages")
    assert entry.kind == "charge"
    assert entry.amount == Decimal("-2.35")
    assert entry.balance_after == Decimal("7.65")
    assert entry.job_id == 1
    assert entry.user == alice
    assert fresh(account).balance == Decimal("7.65") == ledger_sum(account)


def test_charge_down_to_exactly_minus_the_credit_limit(make_user: MakeUser) -> None:
    alice = make_user("alice")
    account = funded(alice, "1.00")
    account_set_credit_limit(account.pk, Decimal("2.00"), actor=None)
    account_charge(account.pk, Decimal("3.00"), job_id=1, user=alice)
    assert fresh(account).balance == Decimal("-2.00")
    with pytest.raises(InsufficientFunds) as refused:
        account_charge(account.pk, Decimal("0.01"), job_id=2, user=alice)
    assert refused.value.missing == Decimal("0.01")


def test_insufficient_funds_carries_missing_amount_and_writes_nothing(make_user: MakeUser) -> None:
    alice = make_user("alice")
    account = funded(alice, "1.00")
    before = snapshot()
    with pytest.raises(InsufficientFunds, match=r"1\.50 missing") as refused:
        account_charge(account.pk, Decimal("2.50"), job_id=9, user=alice)
    assert refused.value.missing == Decimal("1.50")
    assert refused.value.available == Decimal("1.00")
    assert snapshot() == before
    # The job was not charged, so it may be charged later once money arrived.
    account_deposit(account.pk, Decimal("5"), actor=None)
    assert account_charge(account.pk, Decimal("2.50"), job_id=9, user=alice).amount == -2.5


def test_charge_retry_returns_the_first_entry(make_user: MakeUser) -> None:
    alice = make_user("alice")
    account = funded(alice, "10.00")
    first = account_charge(account.pk, Decimal("1.00"), job_id=5, user=alice)
    again = account_charge(account.pk, Decimal("1.00"), job_id=5, user=alice)
    other_amount = account_charge(account.pk, Decimal("4.00"), job_id=5, user=alice)
    assert first.pk == again.pk == other_amount.pk
    assert fresh(account).balance == Decimal("9.00")
    assert LedgerEntry.objects.filter(job_id=5).count() == 1


def test_database_refuses_a_second_charge_row_for_a_job(make_user: MakeUser) -> None:
    account = funded(make_user("alice"), "10.00")
    LedgerEntry.objects.create(
        account=account,
        kind=EntryKind.CHARGE,
        amount=Decimal(-1),
        balance_after=Decimal(9),
        job_id=3,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            account=account,
            kind=EntryKind.CHARGE,
            amount=Decimal(-1),
            balance_after=Decimal(8),
            job_id=3,
        )


def test_charging_an_account_one_may_not_is_refused(
    make_user: MakeUser, staff_group: Group
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    bobs = funded(bob, "10.00")
    physics = shared_account_create("Physics", actor=None, users=[bob])
    account_deposit(physics.pk, Decimal("10"), actor=None)
    before = snapshot()
    with pytest.raises(AccountPermissionDenied, match="alice may not charge personal account of"):
        account_charge(bobs.pk, Decimal("1"), job_id=1, user=alice)
    with pytest.raises(AccountPermissionDenied, match="alice may not charge shared account Phys"):
        account_charge(physics.pk, Decimal("1"), job_id=1, user=alice)
    assert snapshot() == before
    # A group membership is enough.
    physics.member_groups.add(staff_group)
    assert account_charge(physics.pk, Decimal("1"), job_id=1, user=alice).account_id == physics.pk


def test_refusals_met_when_printing_speak_the_users_language(make_user: MakeUser) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    alices = funded(alice, "1.00")
    with translation.override("de"):
        with pytest.raises(InsufficientFunds) as poor:
            account_charge(alices.pk, Decimal("2.50"), job_id=1, user=alice)
        with pytest.raises(AccountPermissionDenied) as not_hers:
            account_charge(alices.pk, Decimal("1"), job_id=2, user=bob)
    assert str(poor.value) == (
        "persönliches Konto von alice: 2.50 ist mehr als die verfügbaren 1.00 "
        "(Kontostand plus Kreditrahmen); es fehlen 1.50."
    )
    assert str(not_hers.value).startswith("bob darf persönliches Konto von alice nicht belasten")
    # What is stored and logged stays in one language.
    assert alices.label == "personal account of alice"


@pytest.mark.parametrize("bad", [Decimal("-1"), Decimal("0.001"), Decimal("NaN"), 1.5])
def test_charge_refuses_bad_amounts_and_writes_nothing(make_user: MakeUser, bad: object) -> None:
    alice = make_user("alice")
    account = funded(alice, "10.00")
    before = snapshot()
    with pytest.raises(AmountError):
        account_charge(account.pk, bad, job_id=1, user=alice)  # type: ignore[arg-type]
    assert snapshot() == before


def test_charge_unknown_account(make_user: MakeUser) -> None:
    with pytest.raises(AccountNotFound, match="no account has id 999999"):
        account_charge(999999, Decimal("1"), job_id=1, user=make_user("alice"))


# ---------------------------------------------------------------- refunds


def test_refund_all_gives_back_the_charge_once(make_user: MakeUser) -> None:
    alice = make_user("alice")
    account = funded(alice, "10.00")
    account_charge(account.pk, Decimal("4.00"), job_id=7, user=alice)
    first = account_refund(7, reason="printer jammed")
    second = account_refund(7, reason="printer jammed")
    assert first is not None
    assert second is not None
    assert first.pk == second.pk
    assert first.amount == Decimal("4.00")
    assert fresh(account).balance == Decimal("10.00") == ledger_sum(account)


def test_partial_refunds_never_exceed_the_charge(make_user: MakeUser) -> None:
    alice = make_user("alice")
    account = funded(alice, "10.00")
    account_charge(account.pk, Decimal("4.00"), job_id=7, user=alice)
    account_refund(7, Decimal("1.50"), reason="2 sheets not printed", key="unprinted")
    # The same partial refund again (a retry) refunds nothing more.
    account_refund(7, Decimal("1.50"), reason="2 sheets not printed", key="unprinted")
    assert job_refunded(7) == Decimal("1.50")
    before = snapshot()
    with pytest.raises(RefundExceedsCharge, match=r"refund 3\.00 for job 7 is more than the 2\.50"):
        account_refund(7, Decimal("3.00"), reason="too much", key="admin")
    assert snapshot() == before
    rest = account_refund(7, reason="the rest")
    assert rest is not None
    assert rest.amount == Decimal("2.50")
    assert account_refund(7, reason="nothing left", key="later") is None
    assert job_refunded(7) == Decimal("4.00")
    assert fresh(account).balance == Decimal("10.00") == ledger_sum(account)


def test_refund_of_a_job_never_charged() -> None:
    with pytest.raises(NoChargeForJob, match="job 404 was never charged"):
        account_refund(404, reason="x")


# ---------------------------------------------------------------- deposits, adjustments, limits


def test_deposit_needs_manage_accounts(make_user: MakeUser) -> None:
    alice, pat = make_user("alice"), make_user("pat", admin=True)
    account = personal_account_ensure(alice)
    before = snapshot()
    with pytest.raises(AccountPermissionDenied, match="alice may not deposit money: that needs"):
        account_deposit(account.pk, Decimal("5"), actor=alice)
    with pytest.raises(AccountPermissionDenied):
        account_adjust(account.pk, Decimal("5"), actor=alice, reason="x")
    with pytest.raises(AccountPermissionDenied):
        account_set_credit_limit(account.pk, Decimal("5"), actor=alice)
    with pytest.raises(AccountPermissionDenied):
        account_transfer(account.pk, personal_account_ensure(pat).pk, Decimal(1), actor=alice)
    assert snapshot() == before
    entry = account_deposit(account.pk, Decimal("5"), actor=pat, reason="cash")
    assert entry.user == pat
    assert fresh(account).balance == Decimal("5.00")


@pytest.mark.parametrize("bad", [Decimal("0"), Decimal("-5"), Decimal("1.001")])
def test_deposit_refuses_zero_negative_and_too_precise(make_user: MakeUser, bad: Decimal) -> None:
    account = personal_account_ensure(make_user("alice"))
    with pytest.raises(AmountError):
        account_deposit(account.pk, bad, actor=None)
    assert not LedgerEntry.objects.filter(account=account).exists()


def test_adjustment_needs_reason_and_respects_the_limit(make_user: MakeUser) -> None:
    account = funded(make_user("alice"), "3.00")
    with pytest.raises(AccountError, match="needs a reason"):
        account_adjust(account.pk, Decimal("-1"), actor=None, reason="  ")
    with pytest.raises(InsufficientFunds, match=r"1\.00 missing"):
        account_adjust(account.pk, Decimal("-4"), actor=None, reason="wrong deposit")
    entry = account_adjust(account.pk, Decimal("-3"), actor=None, reason="wrong deposit")
    assert (entry.kind, entry.amount, entry.reason) == ("adjustment", Decimal(-3), "wrong deposit")
    assert fresh(account).balance == 0


def test_one_form_sent_again_moves_money_once_and_refuses_a_changed_one(
    make_user: MakeUser,
) -> None:
    account = funded(make_user("alice"), "3.00")
    first = account_adjust(account.pk, Decimal("-1"), actor=None, reason=" jam ", key="form-1")
    again = account_adjust(account.pk, Decimal("-1"), actor=None, reason="jam", key="form-1")
    assert again.pk == first.pk
    with pytest.raises(AccountError, match=r"this form was sent already: it recorded -1\.00"):
        account_adjust(account.pk, Decimal("-1"), actor=None, reason="paper jam", key="form-1")
    account_deposit(account.pk, Decimal("2"), actor=None, key="form-2")
    with pytest.raises(AccountError, match="sent already"):
        account_deposit(account.pk, Decimal("3"), actor=None, key="form-2")
    assert fresh(account).balance == Decimal("4.00")


def test_credit_limit_change_is_recorded_and_cannot_go_below_debt(make_user: MakeUser) -> None:
    alice = make_user("alice")
    account = personal_account_ensure(alice)
    entry = account_set_credit_limit(account.pk, Decimal("5"), actor=None, reason="staff")
    assert (entry.kind, entry.amount) == ("limit", Decimal(0))
    assert entry.reason == "credit limit 0.00 → 5.00: staff"
    account_charge(account.pk, Decimal("4"), job_id=1, user=alice)
    with pytest.raises(InvalidLimit, match=r"less than the 4\.00 personal account of alice owes"):
        account_set_credit_limit(account.pk, Decimal("3"), actor=None)
    with pytest.raises(AmountError, match="credit limit -1 is negative"):
        account_set_credit_limit(account.pk, Decimal("-1"), actor=None)
    assert fresh(account).credit_limit == Decimal("5.00")


def test_transfer_writes_two_rows_and_checks_funds(make_user: MakeUser) -> None:
    alice = make_user("alice")
    source = funded(alice, "5.00")
    target = shared_account_create("Physics", actor=None)
    out, into = account_transfer(source.pk, target.pk, Decimal("2"), actor=None, reason="move")
    assert (out.kind, out.counter_account_id) == ("transfer_out", target.pk)
    assert (into.kind, into.counter_account_id) == ("transfer_in", source.pk)
    assert -out.amount == into.amount == Decimal("2.00")
    before = snapshot()
    with pytest.raises(InsufficientFunds, match=r"2\.00 missing"):
        account_transfer(source.pk, target.pk, Decimal("5"), actor=None)
    with pytest.raises(AccountError, match="two different accounts"):
        account_transfer(source.pk, source.pk, Decimal("1"), actor=None)
    assert snapshot() == before
    assert ledger_drifts() == []


def test_no_movement_takes_a_balance_beyond_what_the_column_holds(make_user: MakeUser) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    full = funded(alice, "9999999999998.99")
    account_charge(full.pk, Decimal("1.00"), job_id=8, user=alice)
    account_deposit(full.pk, Decimal("2.00"), actor=None, reason="to the brim")
    other = funded(bob, "5.00")
    before = snapshot()
    with pytest.raises(
        BalanceOutOfRange,
        match=r"^personal account of alice: deposit 0\.01 would take the balance from "
        r"9999999999999\.99 to 10000000000000\.00, beyond the ±9999999999999\.99 an "
        r"account can hold; nothing was recorded\.$",
    ):
        account_deposit(full.pk, Decimal("0.01"), actor=None, reason="one cent more")
    with pytest.raises(BalanceOutOfRange, match=r"adjustment 1\.00 would take"):
        account_adjust(full.pk, Decimal("1"), actor=None, reason="correction")
    with pytest.raises(BalanceOutOfRange, match=r"refund 1\.00 would take"):
        account_refund(8, reason="jammed")
    # The other account's transfer out, written first, goes back with the refused one.
    with pytest.raises(BalanceOutOfRange, match=r"transfer in 5\.00 would take"):
        account_transfer(other.pk, full.pk, Decimal("5"), actor=None, reason="move")
    assert snapshot() == before
    assert ledger_drifts() == []


SQLITE_LARGEST_BALANCE = """
from decimal import Decimal
from apps.accounts.errors import BalanceOutOfRange
from apps.accounts.models import Account, LedgerEntry
from apps.accounts.movements import account_deposit
from apps.accounts.services import user_create
account = user_create("alice", "pw-not-used-1").personal_account
account_deposit(account.pk, Decimal("9999999999999.98"), actor=None)
account_deposit(account.pk, Decimal("0.01"), actor=None)
try:
    account_deposit(account.pk, Decimal("0.01"), actor=None)
except BalanceOutOfRange:
    pass
amounts = LedgerEntry.objects.values_list("amount", flat=True)
print(Account.objects.get(pk=account.pk).balance, *amounts)
"""


def test_on_the_embedded_sqlite_the_largest_balance_reads_back_exactly(tmp_path: Path) -> None:
    output = on_embedded_sqlite(tmp_path, SQLITE_LARGEST_BALANCE)
    assert output == "9999999999999.99 0.01 9999999999999.98"


# ---------------------------------------------------------------- append-only ledger


def test_ledger_rows_cannot_be_changed_or_deleted(make_user: MakeUser) -> None:
    entry = funded(make_user("alice"), "5.00").entries.get()
    entry.reason = "tampered"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=100)
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.all().delete()
    # Below the ORM, the database trigger refuses it too.
    for sql in ("UPDATE accounts_ledgerentry SET amount = 100", "DELETE FROM accounts_ledgerentry"):
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert LedgerEntry.objects.get(pk=entry.pk).amount == Decimal("5.00")


def test_database_refuses_a_balance_below_the_credit_limit(make_user: MakeUser) -> None:
    account = personal_account_ensure(make_user("alice"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(balance=Decimal("-0.01"))


def test_adjustment_rows_need_a_reason_in_the_database(make_user: MakeUser) -> None:
    account = personal_account_ensure(make_user("alice"))
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            account=account,
            kind=EntryKind.ADJUSTMENT,
            amount=Decimal(1),
            balance_after=Decimal(1),
        )
