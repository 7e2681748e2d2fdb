"""The admin shows money but changes it only through services; settings and forms refuse
amounts the currency cannot hold."""

from __future__ import annotations

import html
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.test.utils import override_settings

from apps.accounts.admin import AccountAdmin
from apps.accounts.checks import initial_credit_check
from apps.accounts.models import Account, Allowance, LedgerEntry, User
from apps.accounts.movements import account_deposit
from apps.accounts.selectors import ledger_drifts
from apps.accounts.services import personal_account_ensure, shared_account_create
from apps.accounts.tasks import allowances_apply_due

MakeUser = Callable[..., User]


@pytest.mark.django_db
def test_ledger_admin_lists_but_cannot_add_change_or_delete(
    client: Client, make_user: MakeUser
) -> None:
    account = personal_account_ensure(make_user("alice"))
    entry = account_deposit(account.pk, Decimal("1.00"), actor=None, reason="cash")
    client.force_login(User.objects.create_superuser("root", password="pw-not-used-1"))
    assert client.get("/admin/accounts/ledgerentry/").status_code == 200
    assert client.get("/admin/accounts/ledgerentry/add/").status_code == 403
    response = client.post(
        f"/admin/accounts/ledgerentry/{entry.pk}/change/", {"reason": "tampered"}
    )
    assert response.status_code == 403
    assert client.post(f"/admin/accounts/ledgerentry/{entry.pk}/delete/").status_code == 403
    assert client.get("/admin/accounts/account/add/").status_code == 403
    assert LedgerEntry.objects.get(pk=entry.pk).reason == "cash"


@override_settings(INITIAL_CREDIT=Decimal("1.005"))
def test_initial_credit_with_too_many_places_fails_the_system_check() -> None:
    (error,) = initial_credit_check()
    assert error.id == "accounts.E001"
    assert "INITIAL_CREDIT 1.005 has 3 decimals; EUR has at most 2" in error.msg


def test_initial_credit_check_passes_by_default() -> None:
    assert initial_credit_check() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "cap", "field", "message"),
    [
        (Decimal("1.001"), None, "amount", "has 3 decimals"),
        (Decimal("0"), None, "amount", "must be more than zero"),
        (Decimal("1"), Decimal("-1"), "cap", "cap -1 is negative"),
        (Decimal("1E9"), None, "amount", "too large: at most 9 digits before the point"),
    ],
)
def test_allowance_form_values_are_checked(
    amount: Decimal, cap: Decimal | None, field: str, message: str
) -> None:
    allowance = Allowance(
        group=Group.objects.get(name="Staff"), amount=amount, period="daily", cap=cap
    )
    with pytest.raises(ValidationError) as error:
        allowance.full_clean()
    assert any(message in text for text in error.value.message_dict[field])


@pytest.mark.django_db
def test_allowance_task_reports_counts(make_user: MakeUser) -> None:
    make_user("alice")
    Allowance.objects.create(
        group=Group.objects.get(name="Staff"), amount=Decimal("1"), period="daily"
    )
    assert allowances_apply_due() == {"granted": 1, "skipped": 0, "refused": 0}
    assert allowances_apply_due() == {"granted": 0, "skipped": 1, "refused": 0}


@pytest.mark.django_db
def test_saving_an_account_in_the_admin_keeps_money_moved_meanwhile(
    rf: RequestFactory, make_user: MakeUser
) -> None:
    account = personal_account_ensure(make_user("alice"))
    opened = Account.objects.get(pk=account.pk)  # as the change form read it
    account_deposit(account.pk, Decimal("5.00"), actor=None, reason="cash at the desk")
    opened.description = "Alice's own account"
    model_admin = AccountAdmin(Account, admin.site)
    model_admin.save_model(rf.post("/"), opened, form=None, change=True)
    saved = Account.objects.get(pk=account.pk)
    assert saved.description == "Alice's own account"
    assert saved.balance == account.balance + Decimal("5.00")
    assert ledger_drifts() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "a shared account needs a name."),
        ("  ", "a shared account needs a name."),
        ("dept", "a shared account named &#x27;dept&#x27; exists already."),
        ("a:b", "may not contain &#x27;:&#x27; or start with &#x27;@&#x27;"),
        ("@b", "may not contain &#x27;:&#x27; or start with &#x27;@&#x27;"),
    ],
)
def test_the_admin_refuses_a_shared_account_name_the_services_refuse(
    client: Client, name: str, message: str
) -> None:
    shared_account_create("Dept", actor=None)
    physics = shared_account_create("Physics", actor=None)
    client.force_login(User.objects.create_superuser("root", password="pw-not-used-1"))
    url = f"/admin/accounts/account/{physics.pk}/change/"
    response = client.post(url, {"name": name, "description": "x"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Account.objects.get(pk=physics.pk).name == "Physics"
    renamed = client.post(url, {"name": " Physics Dept ", "description": "x"})
    assert renamed.status_code == 302
    assert Account.objects.get(pk=physics.pk).name == "Physics Dept"


@pytest.mark.django_db
def test_a_personal_accounts_description_is_edited_in_the_admin_its_name_is_not(
    client: Client, make_user: MakeUser
) -> None:
    account = personal_account_ensure(make_user("alice"))
    client.force_login(User.objects.create_superuser("root", password="pw-not-used-1"))
    url = f"/admin/accounts/account/{account.pk}/change/"
    response = client.post(url, {"name": "alice2", "description": "Alice's own"})
    assert response.status_code == 302
    saved = Account.objects.get(pk=account.pk)
    assert (saved.name, saved.description) == ("", "Alice's own")


@pytest.mark.django_db
def test_the_admin_refuses_a_second_active_allowance_in_the_readers_language(
    client: Client,
) -> None:
    """It said "this group has an active monthly allowance already" in English to a German
    admin, and saved past the services (no lock, no history of who made it)."""
    staff = Group.objects.get(name="Staff")
    client.force_login(User.objects.create_superuser("root", password="pw-not-used-1"))
    form = {"group": staff.pk, "amount": "1234.50", "period": "monthly", "cap": "",
            "is_active": "on"}  # fmt: skip
    created = client.post("/admin/accounts/allowance/add/", form, HTTP_ACCEPT_LANGUAGE="de")
    assert created.status_code == 302
    allowance = Allowance.objects.get()
    assert LogEntry.objects.filter(
        object_id=str(allowance.pk), change_message__startswith="created: 1234.50 monthly"
    ).exists()
    again = client.post("/admin/accounts/allowance/add/", form, HTTP_ACCEPT_LANGUAGE="de")
    assert again.status_code == 200
    assert (
        "Staff hat schon ein aktives Kontingent (monatlich) von 1.234,50: ändern oder beenden "
        "Sie dieses; nichts wurde gespeichert."
    ) in html.unescape(again.content.decode())
    assert Allowance.objects.count() == 1
    nothing = client.post(
        "/admin/accounts/allowance/add/", {**form, "amount": "0"}, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert "Betrag 0 muss größer als null sein." in html.unescape(nothing.content.decode())
    ended = client.post(
        f"/admin/accounts/allowance/{allowance.pk}/change/",
        {**form, "amount": "1234.50", "is_active": ""},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert ended.status_code == 302
    assert not Allowance.objects.get().is_active
    # Ended, it no longer stands in the way of a new one.
    assert client.post("/admin/accounts/allowance/add/", form).status_code == 302
