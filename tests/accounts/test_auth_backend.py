"""The one-query permission backend grants exactly what Django's ModelBackend grants."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.auth_backend import OneQueryModelBackend
from apps.accounts.models import User
from apps.accounts.roles import MANAGE_PRINTERS, RELEASE_OWN_JOBS, permission_name
from apps.accounts.services import user_create


def fresh(user: User) -> User:
    """The user without permissions cached on the object, as a new request sees it."""
    return User.objects.get(pk=user.pk)


def test_permissions_from_groups_and_direct_grants_match_model_backend_in_one_query(
    make_user: Callable[..., User],
) -> None:
    user = make_user("perm-mix")
    extra_group = Group.objects.create(name="extra")
    extra_group.permissions.add(Permission.objects.get(codename="view_money"))
    user.groups.add(extra_group)
    user.user_permissions.add(Permission.objects.get(codename="manage_rules"))
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
