"""PostgreSQL connections prepare the statements they run often (DATABASE_PREPARED_STATEMENTS)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from apps.accounts.models import User

ROOT = Path(__file__).resolve().parents[2]


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
    result = subprocess.run(
        [sys.executable, "-c",
         "import json, django; django.setup(); from django.conf import settings; "
         "options = dict(settings.DATABASES['default']['OPTIONS']); options.pop('pool'); "
         "print(json.dumps(options))"],
        cwd=ROOT, env=environment, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    options: dict[str, object] = json.loads(result.stdout)
    return options


def test_prepared_statements_are_on_by_default_and_can_be_turned_off(tmp_path: Path) -> None:
    assert options_with(tmp_path) == {"server_side_binding": True, "prepare_threshold": 5}
    assert options_with(tmp_path, DATABASE_PREPARED_STATEMENTS="false") == {}
