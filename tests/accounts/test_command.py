"""`manage.py account`: what it prints, what it writes, and one-line refusals that write nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.accounts.models import Account, LedgerEntry, User
from apps.accounts.movements import account_charge
from apps.accounts.roles import FINANCE
from apps.accounts.services import personal_account_ensure, user_create

pytestmark = pytest.mark.django_db

MakeUser = Callable[..., User]


def run(*args: str) -> str:
    out = StringIO()
    call_command("account", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def refused(*args: str) -> str:
    """The one-line message of a refusal; asserts that nothing was written."""
    before = (
        LedgerEntry.objects.count(),
        list(Account.objects.order_by("pk").values_list("pk", "balance", "credit_limit", "name")),
    )
    with pytest.raises(CommandError) as error:
        run(*args)
    after = (
        LedgerEntry.objects.count(),
        list(Account.objects.order_by("pk").values_list("pk", "balance", "credit_limit", "name")),
    )
    assert after == before
    message = str(error.value)
    assert "\n" not in message
    return message


def test_deposit_adjust_limit_and_show_json(make_user: MakeUser) -> None:
    alice = make_user("alice")
    out = run("deposit", "alice", "12.5", "--reason", "cash at the desk")
    assert out.strip() == "personal account of alice: deposit +12.50, balance 12.50 EUR"
    run("adjust", "alice", "-2.25", "--reason", "wrong deposit")
    run("limit", "alice", "5")
    account = personal_account_ensure(alice)
    account_charge(account.pk, Decimal("1.00"), job_id=42, user=alice, reason="2 pages")

    shown = json.loads(run("show", "alice", "--json"))

    assert shown["balance"] == "9.25"
    assert shown["credit_limit"] == "5.00"
    assert shown["available"] == "14.25"
    assert shown["currency"] == "EUR"
    transactions = shown["transactions"]
    assert [(t["kind"], t["amount"], t["reason"]) for t in transactions] == [
        ("charge", "-1.00", "2 pages"),
        ("limit", "0.00", "credit limit 0.00 → 5.00"),
        ("adjustment", "-2.25", "wrong deposit"),
        ("deposit", "12.50", "cash at the desk"),
    ]
    assert transactions[0]["job_id"] == 42
    assert all(t["created"].endswith("+00:00") for t in transactions)
    assert sum(Decimal(t["amount"]) for t in transactions) == Decimal(shown["balance"])


def test_show_text(make_user: MakeUser) -> None:
    make_user("alice")
    run("deposit", "alice", "3", "--reason", "cash")
    out = run("show", "alice")
    assert out.splitlines()[0] == "personal account of alice (EUR)"
    assert "balance               3.00" in out
    assert "deposit" in out
    assert "cash" in out


def test_shared_create_with_members_and_transfer(make_user: MakeUser) -> None:
    alice = make_user("alice")
    make_user("bob")
    out = run("shared", "create", "Physics", "--member", "alice", "--member", "@Finance")
    assert out.strip() == "opened shared account Physics; members: alice, @Finance"
    physics = Account.objects.get(name="Physics")
    assert list(physics.member_users.all()) == [alice]
    assert [group.name for group in physics.member_groups.all()] == ["Finance"]
    run("shared", "add-members", "physics", "--member", "bob")
    assert physics.member_users.count() == 2
    run("deposit", "alice", "5", "--reason", "cash")
    run("transfer", "alice", "Physics", "2", "--reason", "project budget")
    assert json.loads(run("show", "physics", "--json"))["balance"] == "2.00"
    assert json.loads(run("show", "alice", "--json"))["balance"] == "3.00"


def test_ambiguous_names_are_refused_and_can_be_qualified(make_user: MakeUser) -> None:
    make_user("physics")
    run("shared", "create", "Physics")
    message = refused("deposit", "physics", "1", "--reason", "x")
    assert "write user:physics or shared:physics" in message
    run("deposit", "shared:physics", "1", "--reason", "x")
    assert json.loads(run("show", "shared:Physics", "--json"))["balance"] == "1.00"
    assert json.loads(run("show", "user:physics", "--json"))["balance"] == "0.00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("deposit", "alice", "-5", "--reason", "x"), "amount '-5' is negative"),
        (("deposit", "alice", "five", "--reason", "x"), "amount 'five' is not an amount"),
        (("deposit", "alice", "1.005", "--reason", "x"), "has 3 decimals; EUR has at most 2"),
        (("deposit", "alice", "NaN", "--reason", "x"), "amount 'NaN' is not a finite amount"),
        (("deposit", "alice", "0", "--reason", "x"), "deposit 0.00 must be more than zero"),
        (("deposit", "nobody", "1", "--reason", "x"), "no account named 'nobody'"),
        (("deposit", "alice", "1", "--reason", "x", "--by", "bob"), "bob may not deposit money"),
        (("deposit", "alice", "1", "--reason", "x", "--by", "ghost"), "--by 'ghost': no such user"),
        (("deposit", "alice", "1"), "the following arguments are required: --reason"),
        (("adjust", "alice", "-1", "--reason", "x"), "1.00 is more than the 0.00 available"),
        (("adjust", "alice", "1", "--reason", " "), "an adjustment needs a reason"),
        (("limit", "alice", "-1"), "credit limit '-1' is negative"),
        (("show", "nobody"), "no account named 'nobody'"),
        (("show", "alice", "--limit", "-1"), "argument --limit: -1 is not from 0 to 100000"),
        (
            ("show", "alice", "--limit", "99999999999999999999"),
            "argument --limit: 99999999999999999999 is not from 0 to 100000",
        ),
        (("show", "alice", "--limit", "ten"), "argument --limit: 'ten' is not a whole number"),
        (("shared", "create", "X", "--member", "ghost"), "--member 'ghost': no user"),
        (("shared", "create", "X", "--member", "@Ghosts"), "no group named 'Ghosts'"),
        (("shared", "create", "X", "--credit-limit", "1.111"), "credit limit '1.111' has 3"),
        (("shared", "create", "X", "--by", "bob"), "bob may not open shared accounts"),
        (("transfer", "alice", "bob", "1", "--reason", "x"), "0.00 available"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_input_is_refused_in_one_line_and_writes_nothing(
    make_user: MakeUser, args: tuple[str, ...], message: str
) -> None:
    make_user("alice")
    make_user("bob")
    assert message in refused(*args)


def test_a_deposit_that_would_overflow_the_balance_is_refused(make_user: MakeUser) -> None:
    make_user("alice")
    run("deposit", "alice", "9999999999999.99", "--reason", "cash")
    message = refused("deposit", "alice", "9999999999999.99", "--reason", "cash")
    assert "would take the balance from 9999999999999.99 to 19999999999999.98" in message
    assert json.loads(run("show", "alice", "--json"))["balance"] == "9999999999999.99"


def test_audit_reports_drift(make_user: MakeUser) -> None:
    make_user("alice")
    run("deposit", "alice", "2", "--reason", "cash")
    assert run("audit").strip() == "every balance equals the sum of its ledger"
    Account.objects.filter(owner__username="alice").update(balance=Decimal("7.00"))
    with pytest.raises(CommandError, match="1 account"):
        run("audit")


def test_a_user_made_without_the_service_gets_an_account_on_first_use() -> None:
    User.objects.create_superuser("admin", password="pw-not-used-1")
    run("deposit", "admin", "2", "--reason", "cash")
    assert json.loads(run("show", "admin", "--json"))["balance"] == "2.00"
    assert "no shared account named 'admin'" in refused("show", "shared:admin")


def test_refund_a_job_once_per_key_and_never_more_than_its_charge(make_user: MakeUser) -> None:
    alice = make_user("alice")
    account = personal_account_ensure(alice)
    run("deposit", "alice", "5", "--reason", "cash")
    account_charge(account.pk, Decimal("2.00"), job_id=4711, user=alice)
    assert "refund +0.50, balance 3.50 EUR" in run("refund", "4711", "0.50", "--reason", "jam")
    again = run("refund", "4711", "0.50", "--reason", "jam")
    assert "refunded already with key 'by hand'" in again
    run("refund", "4711", "--reason", "the rest", "--key", "rest")
    assert json.loads(run("show", "alice", "--json"))["balance"] == "5.00"
    nothing = run("refund", "4711", "--reason", "more", "--key", "more")
    assert nothing.strip() == "job 4711: nothing left to refund"
    assert "never charged" in refused("refund", "999", "--reason", "x")
    assert "more than" in refused("refund", "4711", "1", "--reason", "x", "--key", "x")
    # Zero is refused as such, not answered "nothing left to refund" (whatever is left).
    assert "must be more than zero" in refused("refund", "4711", "0", "--reason", "x", "--key", "z")


def test_refund_by_a_user_needs_manage_accounts(make_user: MakeUser) -> None:
    alice = make_user("alice")
    make_user("pat", admin=True)
    account = personal_account_ensure(alice)
    run("deposit", "alice", "5", "--reason", "cash")
    account_charge(account.pk, Decimal("2.00"), job_id=4711, user=alice)
    user_create("fin", "pw-not-used-1", role=FINANCE)  # reads money, moves none
    message = refused("refund", "4711", "--reason", "mine", "--by", "alice")
    assert message == "alice may not refund print jobs: that needs the manage_accounts permission."
    assert "fin may not refund print jobs" in refused(
        "refund", "4711", "--reason", "x", "--by", "fin"
    )
    assert "refund +2.00, balance 5.00 EUR" in run(
        "refund", "4711", "--reason", "jam", "--by", "pat"
    )
    assert LedgerEntry.objects.get(kind="refund").user == User.objects.get(username="pat")
