"""Members of shared accounts: added and removed through the services, the command line and
the portal, every change a zero-amount "members" ledger row saying who changed what."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from apps.accounts.choices import EntryKind
from apps.accounts.errors import AccountError, AccountPermissionDenied
from apps.accounts.models import Account, LedgerEntry, User
from apps.accounts.selectors import user_may_charge
from apps.accounts.services import (
    personal_account_ensure,
    shared_account_create,
    shared_account_members_add,
    shared_account_members_remove,
)
from tests.accounts.conftest import on_embedded_sqlite

pytestmark = pytest.mark.django_db

MakeUser = Callable[..., User]


def member_rows(account: Account) -> list[tuple[str | None, str]]:
    """(who, what) of the account's membership changes, oldest first."""
    entries = LedgerEntry.objects.filter(account=account, kind=EntryKind.MEMBERS)
    return [
        (entry.user.username if entry.user else None, entry.reason)
        for entry in entries.select_related("user").order_by("created", "id")
    ]


def test_adding_and_removing_members_is_recorded_and_takes_effect(
    make_user: MakeUser, staff_group: Group
) -> None:
    alice, bob, pat = make_user("alice"), make_user("bob"), make_user("pat", admin=True)
    physics = shared_account_create("Physics", actor=pat, users=[alice])
    shared_account_members_add(physics.pk, actor=None, users=[bob, bob], groups=[staff_group])
    assert user_may_charge(bob, physics)
    entry = shared_account_members_remove(physics.pk, actor=pat, users=[alice, bob])
    assert (entry.amount, entry.balance_after, entry.user) == (Decimal(0), Decimal(0), pat)
    assert list(physics.member_users.all()) == []
    assert user_may_charge(bob, physics)  # still through @Staff
    shared_account_members_remove(physics.pk, actor=pat, groups=[staff_group])
    assert not user_may_charge(bob, physics)
    assert not user_may_charge(alice, physics)
    assert member_rows(physics) == [
        ("pat", "members when opened: alice"),
        (None, "members added: bob, @Staff"),
        ("pat", "members removed: alice, bob"),
        ("pat", "members removed: @Staff"),
    ]
    assert Account.objects.get(pk=physics.pk).balance == Decimal(0)


def test_membership_changes_that_make_no_sense_are_refused_and_write_nothing(
    make_user: MakeUser, staff_group: Group
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    physics = shared_account_create("Physics", actor=None, users=[alice])
    before = (LedgerEntry.objects.count(), list(physics.member_users.all()))
    refusals: list[tuple[Callable[[], object], str]] = [
        (
            lambda: shared_account_members_add(physics.pk, actor=None, users=[alice, bob]),
            "shared account Physics: alice is a member already; nothing was changed.",
        ),
        (
            lambda: shared_account_members_remove(
                physics.pk, actor=None, users=[bob], groups=[staff_group]
            ),
            "shared account Physics: bob, @Staff are not members; nothing was changed.",
        ),
        (
            lambda: shared_account_members_remove(physics.pk, actor=None),
            "name at least one user or group.",
        ),
        (
            lambda: shared_account_members_add(
                personal_account_ensure(bob).pk, actor=None, users=[alice]
            ),
            "personal account of bob is personal: it has no members.",
        ),
    ]
    for call, message in refusals:
        with pytest.raises(AccountError) as error:
            call()
        assert str(error.value) == message
    with pytest.raises(AccountPermissionDenied, match="bob may not change shared account members"):
        shared_account_members_remove(physics.pk, actor=bob, users=[alice])
    assert (LedgerEntry.objects.count(), list(physics.member_users.all())) == before


def test_the_command_removes_members_and_show_lists_the_changes(make_user: MakeUser) -> None:
    make_user("alice")
    make_user("pat", admin=True)

    def run(*args: str) -> str:
        out = StringIO()
        call_command("account", *args, stdout=out, stderr=StringIO())
        return out.getvalue()

    run("shared", "create", "Physics", "--member", "alice", "--member", "@Staff")
    out = run(
        "shared", "remove-members", "physics", "--member", "alice", "--member", "@Staff",
        "--by", "pat",
    )  # fmt: skip
    assert out.strip() == "shared account Physics: members removed: alice, @Staff"
    physics = Account.objects.get(name="Physics")
    assert not physics.member_users.exists()
    assert not physics.member_groups.exists()
    shown = run("show", "physics")
    assert "members" in shown
    assert "pat  members removed: alice, @Staff" in shown
    with pytest.raises(CommandError, match="alice is not a member; nothing was changed"):
        run("shared", "remove-members", "physics", "--member", "alice")
    with pytest.raises(CommandError, match="give at least one --member"):
        run("shared", "remove-members", "physics")


def test_the_admin_shows_members_and_their_changes_but_leaves_changing_them_to_services(
    client: Client, make_user: MakeUser
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    root = User.objects.create_superuser("root", password="pw-not-used-1")
    physics = shared_account_create("Physics", actor=root, users=[alice])
    shared_account_members_remove(physics.pk, actor=None, users=[alice])
    client.force_login(root)
    url = f"/admin/accounts/account/{physics.pk}/change/"
    page = client.get(url).content.decode()
    assert "root: members when opened: alice" in page
    assert "system: members removed: alice" in page
    saved = client.post(url, {"name": "Physics", "description": "", "member_users": [bob.pk]})
    assert saved.status_code == 302
    assert not physics.member_users.exists()


SQLITE_CHECK = """
from decimal import Decimal
from django.db import connection
from apps.accounts.movements import account_deposit
from apps.accounts.services import shared_account_create, shared_account_members_remove, user_create
alice = user_create("alice", "pw-not-used-1")
physics = shared_account_create("Physics", actor=None, users=[alice])
shared_account_members_remove(physics.pk, actor=None, users=[alice])
account_deposit(physics.pk, Decimal("1"), actor=None)
try:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_ledgerentry SET reason = 'tampered'")
except Exception as error:
    print(error)
"""


def test_on_the_embedded_sqlite_the_ledger_stays_append_only_after_the_migrations(
    tmp_path: Path,
) -> None:
    output = on_embedded_sqlite(tmp_path, SQLITE_CHECK)
    assert output == "ledger entries are append-only: UPDATE refused"
