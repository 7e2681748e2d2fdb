"""Writes that concern users and accounts: users (the demo users too), personal and shared
accounts, who may charge a shared account. Views, commands and tasks call these, never the ORM.

Money moves in apps.accounts.movements and allowances in apps.accounts.allowances; they and
the services here change balances only through apps.accounts.ledger.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils.translation import gettext_noop

from apps.accounts.choices import AccountKind, EntryKind
from apps.accounts.errors import AccountError, AccountPermissionDenied
from apps.accounts.ledger import actor_name, lock_account, record_entry, require_manage
from apps.accounts.models import Account, LedgerEntry, User
from apps.accounts.money import format_money, money
from apps.accounts.roles import (
    FINANCE,
    MANAGE_USERS,
    PRINTER_ADMIN,
    ROLES,
    STAFF,
    Role,
    permission_name,
)
from printmgmt.translatable import Text

logger = logging.getLogger(__name__)

Member = TypeVar("Member", User, Group)


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


def username_check(username: str) -> None:
    """Raise AccountError, saying what is wrong, when `username` is not one a user may have:
    Django's rule (letters, digits and @ . + - _; what the Django admin also demands) and
    ours (no leading '@' and no ':', which the command line reads as a group or an account
    kind)."""
    if not username:
        raise AccountError("a user needs a username.")
    if username.startswith("@") or ":" in username:
        raise AccountError(
            f"username {username!r} may not start with '@' or contain ':' "
            "(the command line uses them to tell users, groups and accounts apart)."
        )
    if len(username) > User._meta.get_field("username").max_length:  # type: ignore[operator]
        raise AccountError(f"username {username!r} is too long: at most 150 characters.")
    try:
        User.username_validator(username)
    except ValidationError as error:
        raise AccountError(f"username {username!r}: {' '.join(error.messages)}") from None


def user_create(
    username: str, password: str, *, role: Role | None = None, superuser: bool = False
) -> User:
    """Create a user with a password, in a role group (or as superuser). Raises AccountError
    for a username that username_check refuses."""
    username_check(username)
    with transaction.atomic():
        if superuser:
            user = User.objects.create_superuser(username=username, password=password)
        else:
            user = User.objects.create_user(username=username, password=password)
        if role is not None:
            user.groups.add(Group.objects.get(name=role.group_name))
        personal_account_ensure(user)
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


def change_record(actor: User | None, instance: models.Model, action: int, message: str) -> None:
    """Who changed what and when, in the history the Django admin keeps and shows for the
    object (the same place as changes made in the admin); the system (None) is only logged."""
    logger.info(
        "%s %s changed by %s: %s",
        instance._meta.model_name,
        instance.pk,
        actor_name(actor),
        message,
    )
    if actor is not None:
        LogEntry.objects.log_actions(
            actor.pk,
            type(instance)._default_manager.filter(pk=instance.pk),
            action,
            message,
            single_object=True,
        )


def user_managers() -> models.QuerySet[User]:
    """Active users who hold the manage_users permission (superusers hold every one)."""
    app_label, codename = permission_name(MANAGE_USERS).split(".")
    permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(user_permissions__in=permission)
            | Q(groups__permissions__in=permission)
        )
        .distinct()
    )


def user_roles_set(
    user_id: int, *, actor: User | None, roles: Iterable[Role], is_active: bool
) -> User:
    """Put a user in exactly `roles` (other groups stay) and set whether they may log in.

    Refused, with nothing changed, when it takes the last active user who could manage users
    out of that: the site would be locked out of its own user management.
    """
    if actor is not None and not actor.has_perm(permission_name(MANAGE_USERS)):
        raise AccountPermissionDenied(
            f"{actor.username} may not change users: that needs the {MANAGE_USERS} permission."
        )
    wanted = {role.group_name for role in roles}
    with transaction.atomic():
        # Every role change locks the role groups first, so two admins demoting each other at
        # the same moment cannot both pass the check below.
        role_groups = list(
            Group.objects.select_for_update()
            .filter(name__in=[role.group_name for role in ROLES])
            .order_by("pk")
        )
        try:
            user = User.objects.select_for_update().get(pk=user_id)
        except User.DoesNotExist:
            raise AccountError(f"no user has id {user_id}.") from None
        if user.is_superuser and actor is not None and not actor.is_superuser:
            raise AccountPermissionDenied(
                f"{user.username} is a superuser: only a superuser may change them."
            )
        was_manager = user_managers().filter(pk=user.pk).exists()
        before_roles = sorted(g.name for g in user.groups.all() if g in role_groups)
        before_active = user.is_active
        user.groups.remove(*[g for g in role_groups if g.name not in wanted])
        user.groups.add(*[g for g in role_groups if g.name in wanted])
        user.is_active = is_active
        user.save(update_fields=["is_active"])
        if was_manager and not user_managers().exists():
            raise AccountError(
                f"{user.username} is the last active user who may manage users: "
                "give another user that role first."
            )
        after_roles = sorted(wanted)
        changes = []
        if before_roles != after_roles:
            changes.append(
                f"roles {', '.join(before_roles) or 'none'} → {', '.join(after_roles) or 'none'}"
            )
        if before_active != is_active:
            changes.append("activated" if is_active else "deactivated")
        if changes:
            change_record(actor, user, CHANGE, "; ".join(changes))
    return user


# ---------------------------------------------------------------- accounts


def personal_account_ensure(user: User) -> Account:
    """The user's personal account, opened now (with INITIAL_CREDIT as an "initial" ledger
    entry when that is not zero) if the user has none yet. Safe to call concurrently."""
    existing = Account.objects.filter(owner=user).first()
    if existing is not None:
        return existing
    credit = money(settings.INITIAL_CREDIT, label="INITIAL_CREDIT")
    try:
        with transaction.atomic():
            account = Account.objects.create(kind=AccountKind.PERSONAL, owner=user)
            if credit:
                record_entry(
                    account,
                    EntryKind.INITIAL,
                    credit,
                    user=None,
                    reason=Text(gettext_noop("initial credit")),
                )
    except IntegrityError:
        # Another transaction opened it at the same moment: use theirs.
        return Account.objects.get(owner=user)
    logger.info("account opened: personal user=%s credit=%s", user.username, credit)
    return account


def shared_account_name_checked(name: str, *, account_id: int | None = None) -> str:
    """`name` without surrounding spaces, as a shared account (the one with `account_id`, if
    renamed) may be called; AccountError says which rule it breaks otherwise."""
    clean = name.strip()
    if not clean:
        raise AccountError("a shared account needs a name.")
    if ":" in clean or clean.startswith("@"):
        raise AccountError(
            f"shared account name {name!r} may not contain ':' or start with '@' "
            "(the command line uses them to tell users, groups and accounts apart)."
        )
    if len(clean) > Account._meta.get_field("name").max_length:  # type: ignore[operator]
        raise AccountError(f"shared account name {name!r} is too long: at most 150 characters.")
    namesakes = Account.objects.filter(kind=AccountKind.SHARED, name__iexact=clean)
    if account_id is not None:
        namesakes = namesakes.exclude(pk=account_id)
    if namesakes.exists():
        raise AccountError(f"a shared account named {clean!r} exists already.")
    return clean


def shared_account_create(
    name: str,
    *,
    actor: User | None,
    users: Iterable[User] = (),
    groups: Iterable[Group] = (),
    credit_limit: Decimal = Decimal(0),
    description: str = "",
) -> Account:
    """Open a shared account (department, project, cost centre) with its members."""
    require_manage(actor, gettext_noop("open shared accounts"))
    clean = shared_account_name_checked(name)
    limit = money(credit_limit, label="credit limit")
    users, groups = _distinct(users), _distinct(groups)
    try:
        with transaction.atomic():
            account = Account.objects.create(
                kind=AccountKind.SHARED, name=clean, credit_limit=limit, description=description
            )
            account.member_users.set(users)
            account.member_groups.set(groups)
            if users or groups:
                record_entry(
                    account,
                    EntryKind.MEMBERS,
                    Decimal(0),
                    user=actor,
                    reason=Text(
                        gettext_noop("members when opened: %(members)s"),
                        {"members": _member_names(users, groups)},
                    ),
                )
            if limit:
                record_entry(
                    account,
                    EntryKind.LIMIT,
                    Decimal(0),
                    user=actor,
                    reason=Text(
                        gettext_noop("credit limit %(limit)s when opened"),
                        {"limit": format_money(limit)},
                    ),
                )
    except IntegrityError:
        raise AccountError(f"a shared account named {clean!r} exists already.") from None
    logger.info("account opened: shared name=%s by=%s", clean, actor_name(actor))
    return account


def shared_account_members_add(
    account_id: int, *, actor: User | None, users: Iterable[User] = (), groups: Iterable[Group] = ()
) -> LedgerEntry:
    """Let more users or groups charge a shared account. Recorded as a zero-amount "members"
    entry naming them; refused, with nothing changed, when one of them is a member already."""
    return _members_change(account_id, actor=actor, users=users, groups=groups, adding=True)


def shared_account_members_remove(
    account_id: int, *, actor: User | None, users: Iterable[User] = (), groups: Iterable[Group] = ()
) -> LedgerEntry:
    """Stop users or groups from charging a shared account (what was charged stays charged).
    Recorded as a zero-amount "members" entry naming them; refused, with nothing changed, when
    one of them is not a member."""
    return _members_change(account_id, actor=actor, users=users, groups=groups, adding=False)


def _members_change(
    account_id: int,
    *,
    actor: User | None,
    users: Iterable[User],
    groups: Iterable[Group],
    adding: bool,
) -> LedgerEntry:
    require_manage(actor, gettext_noop("change shared account members"))
    users, groups = _distinct(users), _distinct(groups)
    if not users and not groups:
        raise AccountError("name at least one user or group.")
    with transaction.atomic():
        account = lock_account(account_id)
        if account.kind != AccountKind.SHARED:
            raise AccountError(f"{account.label} is personal: it has no members.")
        member_users = set(account.member_users.values_list("pk", flat=True))
        member_groups = set(account.member_groups.values_list("pk", flat=True))
        # Adding a member or removing a non-member is a mistake (a typo, a stale page): say so.
        wrong_users = [user for user in users if (user.pk in member_users) == adding]
        wrong_groups = [group for group in groups if (group.pk in member_groups) == adding]
        if wrong_users or wrong_groups:
            one = len(wrong_users) + len(wrong_groups) == 1
            state = {
                (True, True): "is a member already",
                (True, False): "are members already",
                (False, True): "is not a member",
                (False, False): "are not members",
            }[(adding, one)]
            raise AccountError(
                f"{account.label}: {_member_names(wrong_users, wrong_groups)} {state}; "
                "nothing was changed."
            )
        if adding:
            account.member_users.add(*users)
            account.member_groups.add(*groups)
        else:
            account.member_users.remove(*users)
            account.member_groups.remove(*groups)
        names = _member_names(users, groups)
        entry = record_entry(
            account,
            EntryKind.MEMBERS,
            Decimal(0),
            user=actor,
            reason=Text(
                gettext_noop("members added: %(members)s")
                if adding
                else gettext_noop("members removed: %(members)s"),
                {"members": names},
            ),
        )
    logger.info("account=%s %s by=%s", account.pk, entry.reason, actor_name(actor))
    return entry


def _distinct(items: Iterable[Member]) -> list[Member]:
    """The items in their order, each once (a name given twice is one member)."""
    return list(dict.fromkeys(items))


def _member_names(users: Iterable[User], groups: Iterable[Group]) -> str:
    """Members as the command line names them: usernames, and groups as @NAME."""
    return ", ".join([user.username for user in users] + [f"@{group.name}" for group in groups])
