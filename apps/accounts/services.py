"""Writes that concern users and roles. Views, commands and tasks call these, never the ORM."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import transaction

from apps.accounts.models import User
from apps.accounts.roles import FINANCE, PRINTER_ADMIN, STAFF, Role


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role | None
    superuser: bool = False


DEMO_USERS = (
    DemoUser("alice", STAFF),
    DemoUser("bob", STAFF),
    DemoUser("pat", PRINTER_ADMIN),
    DemoUser("fin", FINANCE),
    DemoUser("root", None, superuser=True),
)


@dataclass(frozen=True)
class CreatedUser:
    username: str
    password: str
    role_name: str


def user_create(
    username: str, password: str, *, role: Role | None = None, superuser: bool = False
) -> User:
    """Create a user with a password, in a role group (or as superuser)."""
    with transaction.atomic():
        if superuser:
            user = User.objects.create_superuser(username=username, password=password)
        else:
            user = User.objects.create_user(username=username, password=password)
        if role is not None:
            user.groups.add(Group.objects.get(name=role.group_name))
    return user


def demo_users_ensure() -> list[CreatedUser]:
    """Create the demo users that do not exist yet; return those created, with passwords.

    Passwords are random and shown once: a demo site must not ship a known password.
    """
    created = []
    existing = set(
        User.objects.filter(username__in=[demo.username for demo in DEMO_USERS]).values_list(
            "username", flat=True
        )
    )
    for demo in DEMO_USERS:
        if demo.username in existing:
            continue
        password = secrets.token_urlsafe(9)
        user_create(demo.username, password, role=demo.role, superuser=demo.superuser)
        role_name = demo.role.group_name if demo.role else "Superuser"
        created.append(CreatedUser(demo.username, password, role_name))
    return created
