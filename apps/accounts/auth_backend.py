"""Django's model backend, with a user's permissions read in one query instead of two.

Every portal request checks a permission (apps/portal/access.py); ModelBackend reads the
user's own and their groups' permissions with two ORM queries, most of whose cost is building
them. This reads both with one plain SQL statement; everything else is ModelBackend's.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router
from django.db.models import JSONField, ManyToManyField, Model
from django.db.models.expressions import RawSQL

from apps.accounts.models import User

if TYPE_CHECKING:
    from django.contrib.auth.models import _AnyUser


@cache
def _granted_permissions_from_where() -> str:
    """FROM and WHERE of the permissions a user holds directly or by group (the user's id is
    the two query parameters), with the table and column names Django gives them (so a custom
    user model's names fit)."""
    own = User.user_permissions.through._meta
    own_field = cast("ManyToManyField[Any, Any]", User._meta.get_field("user_permissions"))
    member = User.groups.through._meta
    member_field = cast("ManyToManyField[Any, Any]", User._meta.get_field("groups"))
    granted = Group.permissions.through._meta
    granted_field = cast("ManyToManyField[Any, Any]", Group._meta.get_field("permissions"))
    # Only names from the models are formatted in; the user's id is a query parameter.
    return (
        f"FROM {Permission._meta.db_table} p "  # noqa: S608
        f"JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id "
        f"WHERE p.id IN ("
        f"SELECT {own_field.m2m_reverse_name()} FROM {own.db_table} "
        f"WHERE {own_field.m2m_column_name()} = %s "
        f"UNION SELECT g.{granted_field.m2m_reverse_name()} FROM {granted.db_table} g "
        f"JOIN {member.db_table} m ON m.{member_field.m2m_reverse_name()} = "
        f"g.{granted_field.m2m_column_name()} "
        f"WHERE m.{member_field.m2m_column_name()} = %s)"
    )


def _permissions_sql() -> str:
    """SELECT app label, codename of the permissions a user holds."""
    return f"SELECT ct.app_label, p.codename {_granted_permissions_from_where()}"


# A JSON array of "app_label.codename" of the permissions a user holds, per database; the
# array is text on both (Django reads jsonb as text), which JSONField decodes.
_PERMISSIONS_ARRAY = {
    "postgresql": "coalesce(jsonb_agg(ct.app_label || '.' || p.codename), '[]'::jsonb)",
    "sqlite": "json_group_array(ct.app_label || '.' || p.codename)",
}


class OneQueryModelBackend(ModelBackend):
    """ModelBackend whose get_all_permissions() costs one query, and none when the user was
    read by get_user(), which reads the permissions with the user row. The cache on the user
    object (`_perm_cache`, for the request) is ModelBackend's own."""

    def get_user(self, user_id: int) -> User | None:
        """The session's user and their permissions in one statement (every portal page checks
        a permission), where the database can aggregate them into an array."""
        database = router.db_for_read(User)
        aggregate = _PERMISSIONS_ARRAY.get(connections[database].vendor)
        if aggregate is None:
            return super().get_user(user_id)
        # Only names from the models are formatted in; the user's id is a query parameter.
        granted = RawSQL(  # noqa: S611
            f"SELECT {aggregate} {_granted_permissions_from_where()}",
            [user_id, user_id],
            output_field=JSONField(),
        )
        try:
            user = User._default_manager.using(database).annotate(granted=granted).get(pk=user_id)
        except User.DoesNotExist:
            return None
        if not self.user_can_authenticate(user):
            return None
        if not user.is_superuser:
            user._perm_cache = set(user.granted)  # type: ignore[attr-defined]
        return user

    def get_all_permissions(self, user_obj: _AnyUser, obj: Model | None = None) -> set[str]:
        # Superusers, inactive users and object permissions keep ModelBackend's rules.
        if (
            obj is not None
            or not isinstance(user_obj, User)
            or not user_obj.is_active
            or user_obj.is_superuser
        ):
            return super().get_all_permissions(user_obj, obj)
        cached: set[str] | None = getattr(user_obj, "_perm_cache", None)
        if cached is None:
            with connections[router.db_for_read(Permission)].cursor() as cursor:
                cursor.execute(_permissions_sql(), [user_obj.pk, user_obj.pk])
                cached = {f"{app_label}.{codename}" for app_label, codename in cursor.fetchall()}
            user_obj._perm_cache = cached  # type: ignore[attr-defined]
        return cached
