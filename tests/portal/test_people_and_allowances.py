"""Allowances and users' roles in the portal: what admins change, what bad input gets, and the
history that records who changed what."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.utils import translation

from apps.accounts.allowances import (
    AllowanceTerms,
    allowance_change,
    allowance_create,
    allowance_end,
    allowances_apply,
)
from apps.accounts.errors import AccountError, AccountPermissionDenied
from apps.accounts.models import Account, Allowance, User
from apps.accounts.roles import FINANCE, PRINTER_ADMIN, STAFF
from apps.accounts.services import user_create, user_managers, user_roles_set
from tests.accounts.conftest import run_at_once
from tests.portal.accessibility import error_at, page_problems, parse
from tests.portal.conftest import People, logged_in

pytestmark = pytest.mark.django_db


def staff_group() -> Group:
    return Group.objects.get(name=STAFF.group_name)


def history_of(instance: Allowance | User) -> list[LogEntry]:
    return list(
        LogEntry.objects.filter(
            content_type__model=instance._meta.model_name, object_id=str(instance.pk)
        ).order_by("pk")
    )


# ---------------------------------------------------------------- allowances


def test_create_edit_and_end_an_allowance_with_its_history(people: People) -> None:
    client = logged_in(people.printer_admin)
    created = client.post(
        "/manage/allowances/new/",
        {"group": staff_group().pk, "amount": "2.50", "period": "weekly", "cap": "10"},
    )
    assert created.status_code == 302
    allowance = Allowance.objects.get()
    assert (allowance.amount, allowance.period, allowance.cap) == (
        Decimal("2.50"),
        "weekly",
        Decimal("10"),
    )
    assert allowance.is_active

    edit_page = client.get(f"/manage/allowances/{allowance.pk}/").content.decode()
    assert 'value="2.50"' in edit_page
    assert 'value="10.00"' in edit_page
    changed = client.post(
        f"/manage/allowances/{allowance.pk}/",
        {
            "group": staff_group().pk,
            "amount": "3",
            "period": "monthly",
            "cap": "",
            "is_active": "on",
        },
    )
    assert changed.status_code == 302
    allowance.refresh_from_db()
    assert (allowance.amount, allowance.period, allowance.cap) == (Decimal("3"), "monthly", None)

    ended = client.post(f"/manage/allowances/{allowance.pk}/end/")
    assert ended.status_code == 302
    allowance.refresh_from_db()
    assert not allowance.is_active
    listing = client.get("/manage/allowances/").content.decode()
    assert "ended" in listing

    history = history_of(allowance)
    assert [entry.action_flag for entry in history] == [ADDITION, CHANGE, CHANGE]
    assert {entry.user_id for entry in history} == {people.printer_admin.pk}
    assert "2.50 weekly for Staff, cap 10.00" in history[0].change_message
    assert "→ 3.00 monthly for Staff, no cap, active" in history[1].change_message
    assert history[2].change_message.startswith("ended:")


def test_an_allowance_is_typed_and_shown_in_german_with_a_decimal_comma(people: People) -> None:
    client = logged_in(people.printer_admin)
    client.cookies["django_language"] = "de"
    created = client.post(
        "/manage/allowances/new/",
        {"group": staff_group().pk, "amount": "2,50", "period": "weekly", "cap": "1000"},
    )
    assert created.status_code == 302
    allowance = Allowance.objects.get()
    assert (allowance.amount, allowance.cap) == (Decimal("2.50"), Decimal("1000"))
    edit_page = client.get(f"/manage/allowances/{allowance.pk}/").content.decode()
    assert 'value="2,50"' in edit_page
    assert 'value="1000,00"' in edit_page
    listing = client.get("/manage/allowances/").content.decode()
    assert "2,50 EUR" in listing


def test_create_clicked_twice_makes_one_allowance_granted_once(people: People) -> None:
    client = logged_in(people.printer_admin)
    form = {"group": staff_group().pk, "amount": "5.00", "period": "monthly", "cap": ""}
    assert client.post("/manage/allowances/new/", form).status_code == 302
    again = client.post("/manage/allowances/new/", form, follow=True)
    assert again.redirect_chain == [("/manage/allowances/", 302)]
    assert (
        "Staff has an active monthly allowance of 5.00 already: change or end that one; "
        "nothing was saved."
    ) in again.content.decode()
    assert Allowance.objects.count() == 1
    account = Account.objects.get(owner=people.staff)
    before = account.balance
    allowances_apply(datetime(2026, 11, 21, 12, tzinfo=UTC))
    account.refresh_from_db()
    assert account.balance - before == Decimal("5.00")


def test_a_second_allowance_is_refused_in_the_page_s_language(people: People) -> None:
    client = logged_in(people.printer_admin)
    client.cookies["django_language"] = "de"
    form = {"group": staff_group().pk, "amount": "1234,50", "period": "monthly", "cap": ""}
    assert client.post("/manage/allowances/new/", form).status_code == 302
    again = client.post("/manage/allowances/new/", form, follow=True)
    assert again.redirect_chain == [("/manage/allowances/", 302)]
    assert (
        "Staff hat schon ein aktives Kontingent (monatlich) von 1.234,50: ändern oder beenden "
        "Sie dieses; nichts wurde gespeichert."
    ) in again.content.decode()
    assert Allowance.objects.count() == 1


def test_an_allowance_is_refused_beside_an_active_one_of_its_group_and_period(
    people: People,
) -> None:
    group = staff_group()
    weekly = allowance_create(
        AllowanceTerms(group=group, amount=Decimal("1.00"), period="weekly"), actor=None
    )
    # Another period of the same group is another allowance.
    daily = allowance_create(
        AllowanceTerms(group=group, amount=Decimal("1.00"), period="daily"), actor=None
    )
    with pytest.raises(AccountError, match=r"Staff has an active weekly allowance of 1\.00"):
        allowance_change(
            daily.pk,
            AllowanceTerms(group=group, amount=Decimal("2.00"), period="weekly"),
            actor=None,
            is_active=True,
        )
    allowance_end(weekly.pk, actor=None)
    # Once the first has ended, a new one may take its place, but the ended one may not come
    # back beside it.
    allowance_create(
        AllowanceTerms(group=group, amount=Decimal("3.00"), period="weekly"), actor=None
    )
    with pytest.raises(AccountError, match=r"Staff has an active weekly allowance of 3\.00"):
        allowance_change(
            weekly.pk,
            AllowanceTerms(group=group, amount=Decimal("1.00"), period="weekly"),
            actor=None,
            is_active=True,
        )
    assert Allowance.objects.filter(is_active=True, period="weekly").count() == 1


def test_an_ended_allowance_grants_nothing_more(people: People) -> None:
    allowance = allowance_create(
        AllowanceTerms(group=staff_group(), amount=Decimal("1.00"), period="daily"),
        actor=people.printer_admin,
    )
    logged_in(people.printer_admin).post(f"/manage/allowances/{allowance.pk}/end/")
    run = allowances_apply(datetime(2026, 11, 21, 12, tzinfo=UTC))
    assert (run.granted, run.skipped) == (0, 0)


@pytest.mark.parametrize(
    ("amount", "period", "cap", "message"),
    [
        ("", "weekly", "", "This field is required."),
        ("0", "weekly", "", "Enter an amount more than zero."),
        ("-1", "weekly", "", "Amount &#x27;-1&#x27; is negative"),
        ("1.234", "weekly", "", "has 3 decimals; EUR has at most 2."),
        ("ten", "weekly", "", "is not an amount"),
        ("NaN", "weekly", "", "is not a finite amount"),
        ("1", "yearly", "", "Select a valid choice. yearly is not one of the available choices."),
        ("1", "weekly", "-5", "Cap &#x27;-5&#x27; is negative"),
        ("1000000000", "daily", "", "is too large: at most 9 digits before the point"),
    ],
)
def test_bad_allowance_input_is_named_and_nothing_is_written(
    people: People, amount: str, period: str, cap: str, message: str
) -> None:
    response = logged_in(people.printer_admin).post(
        "/manage/allowances/new/",
        {"group": staff_group().pk, "amount": amount, "period": period, "cap": cap},
        follow=True,
    )
    assert response.redirect_chain == [("/manage/allowances/", 302)]
    assert message in response.content.decode()
    assert not Allowance.objects.exists()
    assert not LogEntry.objects.exists()


def test_an_unknown_group_is_refused(people: People) -> None:
    response = logged_in(people.printer_admin).post(
        "/manage/allowances/new/",
        {"group": "999999", "amount": "1", "period": "daily"},
        follow=True,
    )
    assert "Select a valid choice." in response.content.decode()
    assert not Allowance.objects.exists()


def test_every_allowance_field_is_labelled(people: People) -> None:
    page = logged_in(people.printer_admin).get("/manage/allowances/").content.decode()
    for field in ("group", "amount", "period", "cap"):
        assert f'<label for="id_{field}"' in page
    assert "csrfmiddlewaretoken" in page


def test_finance_reads_allowances_and_cannot_change_them(people: People) -> None:
    allowance = allowance_create(
        AllowanceTerms(group=staff_group(), amount=Decimal("1.00"), period="daily"), actor=None
    )
    client = logged_in(people.finance)
    page = client.get("/manage/allowances/").content.decode()
    assert "1.00" in page
    assert "Create allowance" not in page
    assert client.post(f"/manage/allowances/{allowance.pk}/end/").status_code == 403
    allowance.refresh_from_db()
    assert allowance.is_active


def test_the_allowance_services_check_their_input_and_the_actor(people: People) -> None:
    terms = AllowanceTerms(group=staff_group(), amount=Decimal("1.00"), period="daily")
    with pytest.raises(AccountPermissionDenied):
        allowance_create(terms, actor=people.finance)
    with pytest.raises(AccountError, match="period 'hourly' is not one of daily, weekly, monthly"):
        allowance_create(
            AllowanceTerms(group=staff_group(), amount=Decimal(1), period="hourly"), actor=None
        )
    with pytest.raises(AccountError, match="must be more than zero"):
        allowance_create(
            AllowanceTerms(group=staff_group(), amount=Decimal(0), period="daily"), actor=None
        )
    assert not Allowance.objects.exists()


def test_the_allowance_services_refuse_in_the_readers_language(people: People) -> None:
    """Their refusals of a period, a group, an allowance and an actor were English to a German
    reader of the portal and the admin."""
    ghost = Group(pk=999_999, name="Ghost")
    refusals: list[tuple[Callable[[], object], str]] = [
        (
            lambda: allowance_create(
                AllowanceTerms(group=staff_group(), amount=Decimal(1), period="daily"),
                actor=people.finance,
            ),
            f"{people.finance.username} darf das nicht (Kontingente anlegen): dafür braucht es "
            "die Berechtigung manage_accounts.",
        ),
        (
            lambda: allowance_create(
                AllowanceTerms(group=staff_group(), amount=Decimal(1), period="hourly"), actor=None
            ),
            "der Zeitraum 'hourly' ist keiner von daily, weekly, monthly.",
        ),
        (
            lambda: allowance_create(
                AllowanceTerms(group=ghost, amount=Decimal(1), period="daily"), actor=None
            ),
            "es gibt keine Gruppe 'Ghost'.",
        ),
        (lambda: allowance_end(999_999, actor=None), "kein Kontingent hat die ID 999999."),
    ]
    for refused, message in refusals:
        with translation.override("de"), pytest.raises(AccountError) as error:
            refused()
        assert str(error.value) == message
    assert not Allowance.objects.exists()


# ---------------------------------------------------------------- users


def role_names(user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def test_change_a_users_roles_and_active_flag_with_history(people: People) -> None:
    client = logged_in(people.printer_admin)
    page = client.get(f"/manage/users/{people.staff.pk}/").content.decode()
    assert re.search(r'value="Staff"[^>]*checked', page)
    assert not re.search(r'value="Finance"[^>]*checked', page)
    response = client.post(
        f"/manage/users/{people.staff.pk}/", {"roles": ["Staff", "Finance"], "is_active": ""}
    )
    assert response.status_code == 302
    people.staff.refresh_from_db()
    assert role_names(people.staff) == ["Finance", "Staff"]
    assert not people.staff.is_active
    (entry,) = history_of(people.staff)
    assert entry.user_id == people.printer_admin.pk
    assert entry.change_message == "roles Staff → Finance, Staff; deactivated"


def test_roles_are_named_in_the_pages_language_and_other_groups_as_they_are(
    people: People,
) -> None:
    people.printer_admin.groups.add(Group.objects.create(name="Physik"))
    client = logged_in(people.printer_admin)
    client.cookies["django_language"] = "de"
    home = client.get("/").content.decode()
    assert "<li>Drucker-Admin</li>" in home
    assert "<li>Physik</li>" in home
    listing = client.get("/manage/users/").content.decode()
    assert re.search(r"<td>(Drucker-Admin, Physik|Physik, Drucker-Admin)</td>", listing)
    assert re.search(r'value="Staff"[^>]*>\s*Mitarbeitende', listing)
    edit = client.get(f"/manage/users/{people.staff.pk}/").content.decode()
    assert re.search(r'value="Finance"[^>]*>\s*Finanzen', edit)
    allowances = client.get("/manage/allowances/").content.decode()
    assert re.search(r"<option[^>]*>Mitarbeitende</option>", allowances)
    assert re.search(r"<option[^>]*>Physik</option>", allowances)


def test_other_groups_stay_when_roles_change(people: People) -> None:
    physics = Group.objects.create(name="Physics")
    people.staff.groups.add(physics)
    logged_in(people.printer_admin).post(
        f"/manage/users/{people.staff.pk}/", {"roles": ["Finance"], "is_active": "on"}
    )
    assert role_names(people.staff) == ["Finance", "Physics"]


def test_the_last_user_manager_cannot_remove_their_own_role(people: People) -> None:
    client = logged_in(people.printer_admin)
    response = client.post(
        f"/manage/users/{people.printer_admin.pk}/",
        {"roles": ["Staff"], "is_active": "on"},
        follow=True,
    )
    assert response.redirect_chain == [(f"/manage/users/{people.printer_admin.pk}/", 302)]
    assert "pat is the last active user who may manage users" in response.content.decode()
    assert role_names(people.printer_admin) == ["Printer admin"]
    deactivated = client.post(
        f"/manage/users/{people.printer_admin.pk}/", {"roles": ["Printer admin"]}, follow=True
    )
    assert "the last active user who may manage users" in deactivated.content.decode()
    people.printer_admin.refresh_from_db()
    assert people.printer_admin.is_active
    assert not LogEntry.objects.exists()


def test_with_a_second_manager_an_admin_may_step_down(people: People) -> None:
    user_roles_set(people.finance.pk, actor=None, roles=[FINANCE, PRINTER_ADMIN], is_active=True)
    response = logged_in(people.printer_admin).post(
        f"/manage/users/{people.printer_admin.pk}/", {"roles": ["Staff"], "is_active": "on"}
    )
    assert response.status_code == 302
    assert list(user_managers()) == [people.finance]


def test_a_superuser_counts_as_a_user_manager(people: People) -> None:
    User.objects.create_superuser("root", password="x")
    user_roles_set(people.printer_admin.pk, actor=None, roles=[STAFF], is_active=True)
    assert [u.username for u in user_managers()] == ["root"]


def test_only_a_superuser_changes_a_superuser(people: People) -> None:
    root = User.objects.create_superuser("root", password="x")
    response = logged_in(people.printer_admin).post(
        f"/manage/users/{root.pk}/", {"roles": ["Staff"]}, follow=True
    )
    assert "root is a superuser: only a superuser may change them." in response.content.decode()
    root.refresh_from_db()
    assert root.is_active
    assert role_names(root) == []
    other_root = User.objects.create_superuser("admin2", password="x")
    user_roles_set(root.pk, actor=other_root, roles=[STAFF], is_active=True)
    assert role_names(root) == ["Staff"]


def test_only_user_managers_change_roles(people: People) -> None:
    with pytest.raises(AccountPermissionDenied):
        user_roles_set(people.staff.pk, actor=people.finance, roles=[FINANCE], is_active=True)
    response = logged_in(people.finance).post(
        f"/manage/users/{people.staff.pk}/", {"roles": ["Finance"], "is_active": "on"}
    )
    assert response.status_code == 403
    assert role_names(people.staff) == ["Staff"]


def test_an_unknown_role_or_user_is_refused(people: People) -> None:
    client = logged_in(people.printer_admin)
    response = client.post(f"/manage/users/{people.staff.pk}/", {"roles": ["Emperor"]}, follow=True)
    assert "Select a valid choice. Emperor is not one of the available choices." in (
        response.content.decode()
    )
    assert role_names(people.staff) == ["Staff"]
    assert client.get("/manage/users/999999/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin() -> None:
    first = user_create("ada", "a long enough password", role=PRINTER_ADMIN)
    second = user_create("ben", "a long enough password", role=PRINTER_ADMIN)
    pairs = ((first, second), (second, first))

    results = run_at_once(
        2,
        lambda index: user_roles_set(
            pairs[index][1].pk, actor=pairs[index][0], roles=[STAFF], is_active=True
        ),
    )

    refused = [result for result in results if isinstance(result, AccountError)]
    assert len(refused) == 1, results
    # Overlapping, the second finds its target the last manager; run one after the other (a
    # loaded machine), the second finds its actor no manager any more. Either way one stays.
    assert re.search(
        r"is the last active user who may manage users|may not change users", str(refused[0])
    ), refused[0]
    assert user_managers().count() == 1


# ---------------------------------------------------------------- refused forms


@dataclass(frozen=True)
class RefusedForm:
    """A form of allowances or users sent with something wrong: `path` (under /manage/) with
    `sent` is refused with `why` at `field`, and the page it leads back to keeps what `kept`
    finds in its HTML."""

    path: str
    sent: dict[str, object]
    field: str
    why: str
    kept: str


def refused_forms(people: People, allowance: Allowance) -> dict[str, RefusedForm]:
    staff = str(staff_group().pk)
    return {
        "new allowance of nothing": RefusedForm(
            "allowances/new/",
            {"group": staff, "amount": "0", "period": "weekly", "cap": "7"},
            "amount",
            "Enter an amount more than zero.",
            'name="cap" value="7"',
        ),
        "allowance with a negative cap": RefusedForm(
            f"allowances/{allowance.pk}/",
            {"group": staff, "amount": "3", "period": "monthly", "cap": "-5", "is_active": "on"},
            "cap",
            "Cap '-5' is negative",
            'name="amount" value="3"',
        ),
        "new user with a taken name": RefusedForm(
            "users/",
            {"username": "sam", "password": "a long enough password", "role": "Finance"},
            "username",
            "A user named sam exists already.",
            '<option value="Finance" selected>',
        ),
        "new user with a weak password": RefusedForm(
            "users/",
            {"username": "nia", "password": "123", "role": "Staff"},
            "password",
            "This password is too short.",
            'name="username" value="nia"',
        ),
        "user with an unknown role": RefusedForm(
            f"users/{people.staff.pk}/",
            {"roles": ["Finance", "Emperor"], "is_active": "on"},
            "roles",
            "Select a valid choice. Emperor is not one of the available choices.",
            'value="Finance" aria-invalid="true" id="id_roles_2" checked',
        ),
    }


REFUSED_FORMS = (
    "new allowance of nothing",
    "allowance with a negative cap",
    "new user with a taken name",
    "new user with a weak password",
    "user with an unknown role",
)


@pytest.mark.parametrize("case", REFUSED_FORMS)
def test_a_refused_allowance_or_user_form_leads_back_to_the_page_that_shows_why_once(
    people: People, case: str
) -> None:
    """The refusal was the answer to the POST: reloading it sent the form again."""
    allowance = allowance_create(
        AllowanceTerms(group=staff_group(), amount=Decimal("2.00"), period="daily"), actor=None
    )
    form = refused_forms(people, allowance)[case]
    client = logged_in(people.printer_admin)
    users_before = sorted(User.objects.values_list("username", flat=True))
    sent = client.post(f"/manage/{form.path}", form.sent)
    back = "/manage/allowances/" if form.path == "allowances/new/" else f"/manage/{form.path}"
    assert (sent.status_code, sent["Location"]) == (302, back)
    page = client.get(back)
    assert page.status_code == 200
    assert form.why in error_at(page.content, form.field)
    assert form.kept in page.content.decode()
    assert [element.get("name") for element in parse(page.content).xpath("//*[@autofocus]")] == [
        form.field
    ]
    assert page_problems(page.content) == []
    # Shown once: the page opened again shows no refusal and not what was sent.
    again = client.get(back).content.decode()
    assert 'aria-invalid="true"' not in again
    assert form.kept not in again
    # Nothing changed.
    assert sorted(User.objects.values_list("username", flat=True)) == users_before
    assert role_names(people.staff) == ["Staff"]
    assert list(Allowance.objects.values_list("amount", "period", "cap")) == [
        (Decimal("2.00"), "daily", None)
    ]
    assert not LogEntry.objects.exists()


def test_a_refused_new_user_keeps_no_password_and_asks_for_it_again(people: People) -> None:
    """The refused form waits in the session, which the server stores: a password kept there
    would be written down in clear."""
    client = logged_in(people.printer_admin)
    sent = {"username": "sam", "password": "my secret passphrase", "role": "Staff"}
    client.post("/manage/users/", sent)
    assert "my secret passphrase" not in str(dict(client.session))
    page = client.get("/manage/users/").content
    assert "my secret passphrase" not in page.decode()
    assert "Type the password again: it is not kept when a form is refused." in error_at(
        page, "password"
    )
    assert "exists already" in error_at(page, "username")
    assert not User.objects.filter(username="sam").exclude(pk=people.staff.pk).exists()
