"""The one-query permission backend grants exactly what Django's ModelBackend grants."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.auth_backend import OneQueryModelBackend
from apps.accounts.models import User
from apps.accounts.roles import MANAGE_PRINTERS, RELEASE_OWN_JOBS, permission_name
from apps.accounts.services import user_create

ROOT = Path(__file__).resolve().parents[2]


def fresh(user: User) -> User:
    """The user without permissions cached on the object, as a new request sees it."""
    return User.objects.get(pk=user.pk)


def with_group_and_direct_grants(user: User) -> User:
    """The user, also in a group that grants view_money, and granted manage_rules directly."""
    extra_group = Group.objects.create(name=f"extra for {user.username}")
    extra_group.permissions.add(Permission.objects.get(codename="view_money"))
    user.groups.add(extra_group)
    user.user_permissions.add(Permission.objects.get(codename="manage_rules"))
    return user


def test_permissions_from_groups_and_direct_grants_match_model_backend_in_one_query(
    make_user: Callable[..., User],
) -> None:
    user = with_group_and_direct_grants(make_user("perm-mix"))
    expected = ModelBackend().get_all_permissions(fresh(user))
    assert {"accounts.view_money", "accounts.manage_rules"} <= expected
    assert permission_name(RELEASE_OWN_JOBS) in expected

    checked = fresh(user)
    with CaptureQueriesContext(connection) as queries:
        assert OneQueryModelBackend().get_all_permissions(checked) == expected
        assert checked.has_perm(permission_name(RELEASE_OWN_JOBS))
        assert not checked.has_perm(permission_name(MANAGE_PRINTERS))
    assert len(queries) == 1


def test_inactive_users_hold_nothing_and_superusers_everything(
    make_user: Callable[..., User],
) -> None:
    inactive = make_user("perm-inactive")
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    assert OneQueryModelBackend().get_all_permissions(fresh(inactive)) == set()
    assert not fresh(inactive).has_perm(permission_name(RELEASE_OWN_JOBS))
    root = user_create("perm-root", "pw-not-used-1", superuser=True)
    assert OneQueryModelBackend().get_all_permissions(
        fresh(root)
    ) == ModelBackend().get_all_permissions(fresh(root))
    assert fresh(root).has_perm(permission_name(MANAGE_PRINTERS))


def test_a_user_without_grants_holds_nothing(make_user: Callable[..., User]) -> None:
    user = make_user("perm-none")
    user.groups.clear()
    assert OneQueryModelBackend().get_all_permissions(fresh(user)) == set()


def field_values(user: User) -> dict[str, object]:
    return {field.attname: getattr(user, field.attname) for field in User._meta.concrete_fields}


def test_get_user_reads_the_user_and_all_their_permissions_in_one_query(
    make_user: Callable[..., User],
) -> None:
    user = with_group_and_direct_grants(make_user("perm-session"))
    User.objects.filter(pk=user.pk).update(last_login=timezone.now(), first_name="Zoë")
    expected = ModelBackend().get_all_permissions(fresh(user))

    with CaptureQueriesContext(connection) as queries:
        session_user = OneQueryModelBackend().get_user(user.pk)
        assert session_user is not None
        assert session_user.pk == user.pk
        assert OneQueryModelBackend().get_all_permissions(session_user) == expected
        assert session_user.has_perm("accounts.view_money")
        assert not session_user.has_perm(permission_name(MANAGE_PRINTERS))
    assert len(queries) == 1
    # Every field as the ORM reads it: aware times, the language, the flags.
    assert field_values(session_user) == field_values(fresh(user))
    assert session_user._state.db == "default"
    assert not session_user._state.adding


def test_get_user_of_a_user_without_grants_holds_nothing_without_another_query(
    make_user: Callable[..., User],
) -> None:
    user = make_user("perm-session-none")
    user.groups.clear()
    with CaptureQueriesContext(connection) as queries:
        session_user = OneQueryModelBackend().get_user(user.pk)
        assert session_user is not None
        assert OneQueryModelBackend().get_all_permissions(session_user) == set()
    assert len(queries) == 1


def test_get_user_refuses_unknown_and_inactive_users_and_keeps_superusers_rules(
    make_user: Callable[..., User],
) -> None:
    assert OneQueryModelBackend().get_user(987654321) is None
    inactive = make_user("perm-session-inactive")
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    assert OneQueryModelBackend().get_user(inactive.pk) is None
    root = user_create("perm-session-root", "pw-not-used-1", superuser=True)
    session_root = OneQueryModelBackend().get_user(root.pk)
    assert session_root is not None
    assert OneQueryModelBackend().get_all_permissions(
        session_root
    ) == ModelBackend().get_all_permissions(fresh(root))
    assert session_root.has_perm(permission_name(MANAGE_PRINTERS))


SQLITE_CHECK = """
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from apps.accounts.auth_backend import OneQueryModelBackend
from apps.accounts.roles import STAFF
from apps.accounts.services import user_create
from django.utils import timezone
user = user_create("sqlite-perm", "pw-not-used-1", role=STAFF)
type(user).objects.filter(pk=user.pk).update(last_login=timezone.now())
with CaptureQueriesContext(connection) as queries:
    session_user = OneQueryModelBackend().get_user(user.pk)
    granted = OneQueryModelBackend().get_all_permissions(session_user)
assert connection.vendor == "sqlite", connection.vendor
assert granted == ModelBackend().get_all_permissions(type(user).objects.get(pk=user.pk)), granted
assert granted and len(queries) == 1, (granted, len(queries))
fields = type(user)._meta.concrete_fields
read = {field.attname: getattr(session_user, field.attname) for field in fields}
stored = type(user).objects.get(pk=user.pk)
assert read == {field.attname: getattr(stored, field.attname) for field in fields}, read
assert timezone.is_aware(session_user.last_login), session_user.last_login
print("same permissions in one query")
"""


def test_get_user_reads_permissions_in_one_query_on_the_embedded_sqlite_too(
    tmp_path: Path,
) -> None:
    environment = dict(
        os.environ,
        PRINTMGMT_DATA_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'check.sqlite3'}",
    )
    for command in (["migrate", "-v", "0"], ["shell", "-v", "0", "-c", SQLITE_CHECK]):
        result = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "same permissions in one query"
