"""Django's model backend, with a user's permissions read in one query instead of two.

Every portal request checks a permission (apps/portal/access.py); ModelBackend reads the
user's own and their groups' permissions with two ORM queries, most of whose cost is building
them. This reads both with one plain SQL statement; everything else is ModelBackend's.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import ManyToManyField, Model

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
# array is text on both (Django's connections read jsonb as text).
_PERMISSIONS_ARRAY = {
    "postgresql": "coalesce(jsonb_agg(ct.app_label || '.' || p.codename), '[]'::jsonb)",
    "sqlite": "json_group_array(ct.app_label || '.' || p.codename)",
}


class _UserReader:
    """A user row and their permissions as one plain SQL statement, and the User made from it
    as Django's ORM makes it (the database's values converted by the fields' converters); the
    ORM's query building cost about 0.3 ms of the 0.4 ms this read took on every page."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        fields = User._meta.concrete_fields
        table = User._meta.db_table
        quote = connection.ops.quote_name
        columns = ", ".join(f"u.{quote(field.column)}" for field in fields)
        aggregate = _PERMISSIONS_ARRAY[connection.vendor]
        # Only names from the models are formatted in; the user's id is a query parameter.
        self.sql = (
            f"SELECT {columns}, (SELECT {aggregate} {_granted_permissions_from_where()}) "  # noqa: S608
            f"FROM {table} u WHERE u.{quote(User._meta.pk.column)} = %s"
        )
        self.names = [field.attname for field in fields]
        self.converters: list[tuple[int, list[Any], Any]] = []
        for index, field in enumerate(fields):
            column = field.get_col(table)
            # The order of SQLCompiler.get_converters(); django-stubs omits Field's method.
            own: list[Any] = cast(Any, field).get_db_converters(connection)
            found = connection.ops.get_db_converters(column) + own
            if found:
                self.converters.append((index, found, column))

    def user(self, database: str, connection: BaseDatabaseWrapper, row: tuple[Any, ...]) -> User:
        values = list(row[: len(self.names)])
        for index, converters, column in self.converters:
            for convert in converters:
                values[index] = convert(values[index], column, connection)
        return User.from_db(database, self.names, values)


_readers: dict[str, _UserReader] = {}


def _user_reader(connection: BaseDatabaseWrapper) -> _UserReader:
    reader = _readers.get(connection.alias)
    if reader is None:
        reader = _readers[connection.alias] = _UserReader(connection)
    return reader


class OneQueryModelBackend(ModelBackend):
    """ModelBackend whose get_all_permissions() costs one query, and none when the user was
    read by get_user(), which reads the permissions with the user row. The cache on the user
    object (`_perm_cache`, for the request) is ModelBackend's own."""

    def get_user(self, user_id: int) -> User | None:
        """The session's user and their permissions in one statement (every portal page checks
        a permission), where the database can aggregate them into an array."""
        database = router.db_for_read(User)
        connection = connections[database]
        if connection.vendor not in _PERMISSIONS_ARRAY:
            return super().get_user(user_id)
        reader = _user_reader(connection)
        with connection.cursor() as cursor:
            cursor.execute(reader.sql, [user_id, user_id, user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        user = reader.user(database, connection, row)
        if not self.user_can_authenticate(user):
            return None
        if not user.is_superuser:
            user._perm_cache = set(json.loads(row[-1]))  # type: ignore[attr-defined]
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
