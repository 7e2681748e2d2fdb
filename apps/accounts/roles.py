"""The three roles, held as Django groups with permissions (created by a migration).

A role is a group so that sites can add people to it in the admin or from their directory, and
permissions are checked, never group names, so a site may also grant a single permission.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Role:
    group_name: str
    #: What pages call it, in their language (the group keeps its English name).
    label: str | Promise
    description: str
    permissions: tuple[str, ...]


# Permission codenames live on accounts.User (see its Meta) until each domain app owns its own.
RELEASE_OWN_JOBS = "release_own_jobs"
MANAGE_PRINTERS = "manage_printers"
MANAGE_RULES = "manage_rules"
MANAGE_USERS = "manage_users"
MANAGE_ACCOUNTS = "manage_accounts"
VIEW_REPORTS = "view_reports"
VIEW_MONEY = "view_money"

STAFF = Role(
    group_name="Staff",
    label=_("Staff"),
    description="Print and release their own jobs.",
    permissions=(RELEASE_OWN_JOBS,),
)
PRINTER_ADMIN = Role(
    group_name="Printer admin",
    label=_("Printer admin"),
    description="Manage printers, rule files, users and accounts.",
    permissions=(RELEASE_OWN_JOBS, MANAGE_PRINTERS, MANAGE_RULES, MANAGE_USERS, MANAGE_ACCOUNTS),
)
FINANCE = Role(
    group_name="Finance",
    label=_("Finance"),
    description="Read reports and money; change nothing.",
    permissions=(RELEASE_OWN_JOBS, VIEW_REPORTS, VIEW_MONEY),
)
ROLES = (STAFF, PRINTER_ADMIN, FINANCE)


def group_label(name: str) -> str:
    """A group's name as pages show it: a role's in the page's language, others as named."""
    for role in ROLES:
        if role.group_name == name:
            return str(role.label)
    return name


def permission_name(codename: str) -> str:
    """The dotted name `user.has_perm` takes."""
    return f"accounts.{codename}"


def ensure_role_groups(**_signal_arguments: object) -> None:
    """Create any missing role group and give each exactly its permissions.

    The migration creates them first; this runs after every migrate (and after a test
    database is flushed), so the roles are always there as described above.
    """
    from django.contrib.auth.models import Group, Permission

    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role.group_name)
        permissions = Permission.objects.filter(
            content_type__app_label="accounts", codename__in=role.permissions
        )
        if set(group.permissions.all()) != set(permissions):
            group.permissions.set(permissions)
