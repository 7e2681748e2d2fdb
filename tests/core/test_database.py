"""PostgreSQL connections prepare the statements they run often (DATABASE_PREPARED_STATEMENTS),
and survive a migration that changes what a prepared statement returns."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from psycopg import errors, sql

from apps.accounts.models import User
from printmgmt.postgres import RePreparingCursor
from tests.children import run_django


def prepared_statements_with(fragment: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{fragment}%"],
        )
        return [statement for (statement,) in cursor.fetchall()]


@pytest.mark.django_db
def test_a_statement_run_again_and_again_is_prepared_once_with_its_parameters_bound() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    # A statement of a shape nothing else in the product runs.
    fragment = '"last_name" = $'
    assert prepared_statements_with(fragment) == []
    for number in range(6):
        # The same statement with other values: one prepared statement serves them all.
        assert not User.objects.filter(last_name=f"nobody-{number}").exists()
    (prepared,) = prepared_statements_with(fragment)
    assert User._meta.db_table in prepared


def options_with(tmp_path: Path, **variables: str) -> dict[str, object]:
    environment = dict(
        os.environ,
        PRINTMGMT_DATA_DIR=str(tmp_path),
        DATABASE_URL="postgresql://nobody@127.0.0.1:9/printmgmt",
        **variables,
    )
    result = run_django(
        "import json, django; django.setup(); from django.conf import settings; "
        "options = dict(settings.DATABASES['default']['OPTIONS']); options.pop('pool'); "
        "print(json.dumps(options, default=lambda value: value.__name__))",
        environment=environment,
    )
    assert result.returncode == 0, result.stderr
    options: dict[str, object] = json.loads(result.stdout)
    return options


def test_prepared_statements_are_on_by_default_and_can_be_turned_off(tmp_path: Path) -> None:
    assert options_with(tmp_path) == {
        "server_side_binding": True,
        "cursor_factory": "RePreparingCursor",
        "prepare_threshold": 5,
    }
    assert options_with(tmp_path, DATABASE_PREPARED_STATEMENTS="false") == {}


@pytest.fixture
def scratch_table() -> Iterator[tuple[dict[str, Any], sql.Identifier]]:
    """Connection parameters of the test database and a table of one row, made and dropped
    outside the test's transaction (another session must be able to alter it)."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    parameters = {
        name: value
        for name, value in connection.get_connection_params().items()
        if name not in ("cursor_factory", "prepare_threshold")
    }
    table = sql.Identifier(f"scratch_{secrets.token_hex(4)}")
    with psycopg.connect(**parameters, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE TABLE {} (id int, name varchar(10))").format(table))
        admin.execute(sql.SQL("INSERT INTO {} VALUES (1, 'first')").format(table))
    yield parameters, table
    with psycopg.connect(**parameters, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP TABLE {}").format(table))


def widen(parameters: dict[str, Any], table: sql.Identifier) -> None:
    """What a migration does to a column's length, from another session."""
    with psycopg.connect(**parameters, autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN name TYPE varchar(20)").format(table))


def prepared_reader(parameters: dict[str, Any], cursor: type[psycopg.Cursor[Any]]) -> Any:
    reader = psycopg.connect(
        **parameters, autocommit=True, prepare_threshold=5, cursor_factory=cursor
    )
    return reader


def test_a_prepared_statement_whose_result_changed_is_prepared_again(
    scratch_table: tuple[dict[str, Any], sql.Identifier],
) -> None:
    parameters, table = scratch_table
    query = sql.SQL("SELECT name FROM {} WHERE id = %s").format(table)
    with (
        prepared_reader(parameters, RePreparingCursor) as ours,
        prepared_reader(parameters, psycopg.Cursor) as plain,
    ):
        for _ in range(6):
            assert ours.cursor().execute(query, [1]).fetchone() == ("first",)
            assert plain.cursor().execute(query, [1]).fetchone() == ("first",)
        widen(parameters, table)
        # With psycopg's own cursor (Django's binds server-side with it), every later run on
        # that connection fails ...
        with pytest.raises(errors.FeatureNotSupported, match="cached plan must not change"):
            plain.cursor().execute(query, [1])
        # ... with it, the statement runs, and is prepared anew.
        for _ in range(6):
            assert ours.cursor().execute(query, [1]).fetchone() == ("first",)


def test_inside_a_transaction_only_that_transaction_fails(
    scratch_table: tuple[dict[str, Any], sql.Identifier],
) -> None:
    parameters, table = scratch_table
    query = sql.SQL("SELECT name FROM {} WHERE id = %s").format(table)
    with prepared_reader(parameters, RePreparingCursor) as ours:
        for _ in range(6):
            ours.cursor().execute(query, [1])
        widen(parameters, table)
        with pytest.raises(errors.FeatureNotSupported), ours.transaction():
            ours.cursor().execute(query, [1])
        # The rollback made psycopg forget its prepared statements.
        assert ours.cursor().execute(query, [1]).fetchone() == ("first",)
