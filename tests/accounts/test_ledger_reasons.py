"""The reasons the product writes in the ledger are shown in the reader's language (the
portal's account pages, the Django admin), kept in English too (commands, exports, logs); a
reason a person typed, and one written before reasons were kept for translation, are shown
as written."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.test.utils import override_settings
from django.utils import translation

from apps.accounts.allowances import allowances_apply
from apps.accounts.choices import EntryKind
from apps.accounts.models import Account, Allowance, LedgerEntry, User
from apps.accounts.money import format_money
from apps.accounts.movements import account_deposit, account_set_credit_limit
from apps.accounts.services import (
    personal_account_ensure,
    shared_account_create,
    shared_account_members_add,
    shared_account_members_remove,
)
from printmgmt.translatable import Text

MakeUser = Callable[..., User]


def shown(entry: LedgerEntry, language: str) -> str:
    with translation.override(language):
        return entry.reason_shown


def written_by_the_product(entry: LedgerEntry) -> Text:
    """The entry's reason as kept for translation: the English of `reason` in both."""
    text = Text.from_json(entry.reason_text)
    assert text is not None, f"kept in English only: {entry.reason}"
    assert str(text) == entry.reason == shown(entry, "en")
    return text


def zero_entry(
    account: Account, kind: EntryKind, reason: str, reason_text: object = None
) -> LedgerEntry:
    """A row written straight to the table (as a migration or an older version wrote it)."""
    return LedgerEntry.objects.create(
        account=account,
        kind=kind,
        amount=Decimal(0),
        balance_after=Account.objects.get(pk=account.pk).balance,
        reason=reason,
        reason_text=reason_text,
    )


@override_settings(INITIAL_CREDIT=Decimal("5.00"))
def test_the_initial_credit_is_named_in_the_readers_language(make_user: MakeUser) -> None:
    entry = LedgerEntry.objects.get(
        account=personal_account_ensure(make_user("ann")), kind=EntryKind.INITIAL
    )
    written_by_the_product(entry)
    assert entry.reason == "initial credit"
    assert shown(entry, "de") == "Startguthaben"


def test_a_shared_accounts_members_and_limit_are_recorded_in_the_readers_language(
    make_user: MakeUser, staff_group: Group
) -> None:
    carol, dave = make_user("carol"), make_user("dave")
    admin = make_user("root", admin=True)
    physics = shared_account_create(
        "physics", actor=admin, users=[carol], groups=[staff_group], credit_limit=Decimal(5)
    )
    opened = {entry.kind: entry for entry in LedgerEntry.objects.filter(account=physics)}
    for entry in opened.values():
        written_by_the_product(entry)
    assert opened[EntryKind.MEMBERS].reason == "members when opened: carol, @Staff"
    assert shown(opened[EntryKind.MEMBERS], "de") == "Mitglieder bei Eröffnung: carol, @Staff"
    limit = format_money(Decimal(5))
    assert shown(opened[EntryKind.LIMIT], "de") == f"Kreditrahmen {limit} bei Eröffnung"

    added = shared_account_members_add(physics.pk, actor=admin, users=[dave])
    removed = shared_account_members_remove(physics.pk, actor=admin, groups=[staff_group])
    assert (added.reason, removed.reason) == ("members added: dave", "members removed: @Staff")
    assert shown(added, "de") == "Mitglieder hinzugefügt: dave"
    assert shown(removed, "de") == "Mitglieder entfernt: @Staff"


def test_a_credit_limit_change_is_translated_and_the_typed_reason_kept_as_typed(
    make_user: MakeUser,
) -> None:
    admin = make_user("root", admin=True)
    account = personal_account_ensure(make_user("erin"))
    plain = account_set_credit_limit(account.pk, Decimal(2), actor=admin)
    typed = account_set_credit_limit(account.pk, Decimal(3), actor=admin, reason=" exam week ")
    written_by_the_product(plain)
    text = written_by_the_product(typed)
    assert text.params["reason"] == "exam week"
    zero, two, three = (format_money(Decimal(amount)) for amount in (0, 2, 3))
    assert typed.reason == f"credit limit {two} → {three}: exam week"
    assert shown(plain, "de") == f"Kreditrahmen {zero} → {two}"
    assert shown(typed, "de") == f"Kreditrahmen {two} → {three}: exam week"


def test_an_allowance_grant_names_its_period_in_the_readers_language(
    make_user: MakeUser, staff_group: Group
) -> None:
    account = personal_account_ensure(make_user("fay"))
    for period in ("daily", "weekly", "monthly"):
        Allowance.objects.create(group=staff_group, amount=Decimal(1), period=period)
    allowances_apply(datetime(2026, 11, 16, 9, tzinfo=UTC))
    grants = LedgerEntry.objects.filter(account=account, kind=EntryKind.ALLOWANCE)
    for entry in grants:
        written_by_the_product(entry)
    assert sorted(entry.reason for entry in grants) == [
        "daily allowance 2026-11-16 (Staff)",
        "monthly allowance 2026-11 (Staff)",
        "weekly allowance 2026-W47 (Staff)",
    ]
    assert sorted(shown(entry, "de") for entry in grants) == [
        "Monatskontingent 2026-11 (Staff)",
        "Tageskontingent 2026-11-16 (Staff)",
        "Wochenkontingent 2026-W47 (Staff)",
    ]


def test_a_typed_reason_and_one_written_before_reasons_were_kept_are_shown_as_written(
    make_user: MakeUser,
) -> None:
    admin = make_user("root", admin=True)
    account = personal_account_ensure(make_user("gus"))
    typed = account_deposit(account.pk, Decimal(1), actor=admin, reason="cash at the desk")
    assert typed.reason_text is None
    assert shown(typed, "de") == "cash at the desk"
    # As migration 0004 wrote the initial credit of users who existed before it.
    before = zero_entry(account, EntryKind.INITIAL, "initial credit")
    assert shown(before, "de") == "initial credit"


@pytest.mark.parametrize(
    "stored", [{"msgid": 7, "params": {}}, {"msgid": "%(gone)s", "params": {}}]
)
def test_a_stored_reason_that_cannot_be_read_is_shown_in_english(
    make_user: MakeUser, stored: object
) -> None:
    account = personal_account_ensure(make_user("hal"))
    entry = zero_entry(account, EntryKind.DEPOSIT, "demo credit", reason_text=stored)
    assert shown(entry, "de") == "demo credit"


def test_the_account_page_shows_the_ledger_in_the_browsers_language(make_user: MakeUser) -> None:
    user = make_user("ida")
    account = personal_account_ensure(user)
    account_set_credit_limit(account.pk, Decimal(2), actor=make_user("root", admin=True))
    client = Client()
    client.force_login(user)
    german = client.get("/account/", headers={"Accept-Language": "de"}).content.decode()
    change = f"{format_money(Decimal(0))} → {format_money(Decimal(2))}"
    assert f"Kreditrahmen {change}" in html.unescape(re.sub(r"<[^>]+>", " ", german))
    english = client.get("/account/", headers={"Accept-Language": "en"}).content.decode()
    assert f"credit limit {change}" in html.unescape(english)
