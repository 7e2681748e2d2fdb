"""Health, log-in, roles and the demo users."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings
from django.utils import translation

from apps.accounts.choices import EntryKind
from apps.accounts.models import User
from apps.accounts.roles import ROLES, permission_name
from apps.accounts.selectors import personal_account_of
from apps.accounts.services import DEMO_USERS
from apps.jobs.models import Job
from printmgmt.filesystem_broker import FOLDER_OPTIONS

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "detail": "postgresql"}
    assert body["broker"]["ok"] is True
    assert body["workers"] == []


@override_settings(CELERY_BROKER_URL="redis://:secret@127.0.0.1:9/0")
def test_healthz_is_503_when_the_broker_is_unreachable(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["broker"]["ok"] is False
    assert "127.0.0.1:9" in body["broker"]["detail"]
    assert "secret" not in response.content.decode()


def broker_folders(root: Path) -> dict[str, object]:
    return {option: str(root / option) for option in FOLDER_OPTIONS}


def broker_detail(client: Client, options: dict[str, object]) -> str:
    with override_settings(
        CELERY_BROKER_URL="filesystem://", CELERY_BROKER_TRANSPORT_OPTIONS=options
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    detail: str = response.json()["broker"]["detail"]
    return detail


@pytest.mark.parametrize("option", FOLDER_OPTIONS)
def test_healthz_names_the_local_broker_folder_that_cannot_be_used(
    client: Client, tmp_path: Path, option: str
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    options = broker_folders(tmp_path)

    options[option] = str(blocker / "under")
    detail = broker_detail(client, options)
    assert detail.startswith(f"local broker folder {blocker}/under ({option}: "), detail
    assert "is missing and cannot be created: [Errno 20] Not a directory" in detail
    options[option] = str(blocker)
    detail = broker_detail(client, options)
    assert detail.startswith(f"local broker folder {blocker} ({option}: "), detail
    assert detail.endswith(") is a file, not a folder")
    options[option] = "/proc"  # a folder nobody can write in, root included
    detail = broker_detail(client, options)
    assert detail.startswith(f"local broker folder /proc ({option}: "), detail
    assert ") is not writable: " in detail

    with override_settings(
        CELERY_BROKER_URL="filesystem://", CELERY_BROKER_TRANSPORT_OPTIONS=broker_folders(tmp_path)
    ):
        assert client.get("/healthz").status_code == 200


def test_role_groups_hold_the_permissions_roles_py_describes() -> None:
    for role in ROLES:
        group = Group.objects.get(name=role.group_name)
        assert set(group.permissions.values_list("codename", flat=True)) == set(role.permissions)


def test_demo_users_are_created_once_and_each_can_log_in(tmp_path: Path) -> None:
    out = StringIO()
    with override_settings(DATA_DIR=tmp_path):
        call_command("demo", stdout=out)
    output = out.getvalue().splitlines()
    assert output[0] == "Sample held jobs for alice, bob: 4"
    lines = [line.split() for line in output[3:]]
    passwords = {words[0]: words[1] for words in lines}
    assert set(passwords) == {demo.username for demo in DEMO_USERS}
    assert (tmp_path / "demo-users.txt").read_text().count("\n") == len(DEMO_USERS)

    again = StringIO()
    with override_settings(DATA_DIR=tmp_path):
        call_command("demo", stdout=again)
    assert "exist already" in again.getvalue()
    assert User.objects.count() == len(DEMO_USERS)
    assert Job.objects.filter(owner__username="alice", state="held").count() == 2
    bob_account = personal_account_of(User.objects.get(username="bob"))
    assert bob_account is not None
    assert bob_account.balance == Decimal("10.00")
    credit = bob_account.entries.get(kind=EntryKind.DEPOSIT)
    with translation.override("de"):
        assert (credit.reason, credit.reason_shown) == ("demo credit", "Demo-Guthaben")

    for username, password in passwords.items():
        browser = Client()
        page = browser.get("/login/")
        assert page.status_code == 200
        assert b'<label for="id_username">Username</label>' in page.content
        response = browser.post("/login/", {"username": username, "password": password})
        assert response.status_code == 302, username
        home = browser.get("/")
        assert home.status_code == 200
        assert username.encode() in home.content

    pat = User.objects.get(username="pat")
    assert pat.has_perm(permission_name("manage_printers"))
    assert not pat.has_perm(permission_name("view_reports"))
    assert User.objects.get(username="fin").has_perm(permission_name("view_reports"))
    assert User.objects.get(username="root").is_superuser


def test_wrong_password_is_refused_without_detail(client: Client) -> None:
    User.objects.create_user("carol", password="right-password-1")
    response = client.post("/login/", {"username": "carol", "password": "wrong"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content
    assert client.get("/").status_code == 302


def test_home_needs_login(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
