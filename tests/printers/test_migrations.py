"""Migration 0005 (printer names unique whatever their case) against a database that already
holds names differing only in case: it refuses, naming them and what to do, and changes
nothing; once one of each is renamed, it applies."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.printers.models import Printer

BEFORE = [("printers", "0004_restricted_to_groups")]
AFTER = [("printers", "0005_printer_names_unique_ignoring_case")]


def _migrate(target: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


@pytest.fixture
def before_0005(transactional_db: None) -> Iterator[None]:
    _migrate(BEFORE)
    yield
    Printer.objects.all().delete()
    _migrate(AFTER)


def test_printer_names_differing_only_in_case_stop_the_migration_until_renamed(
    before_0005: None,
) -> None:
    old_printer = (
        MigrationExecutor(connection)
        .loader.project_state(BEFORE)
        .apps.get_model("printers", "Printer")
    )
    for name in ("Hall", "hall", "lobby"):
        old_printer.objects.create(name=name, uri="ipp://127.0.0.1:9/ipp/print", kind="ipp")
    with pytest.raises(CommandError) as refused:
        _migrate(AFTER)
    assert str(refused.value) == (
        "printer names must differ in more than case (as CUPS queue names do), and these do "
        "not: 'Hall' and 'hall'. Rename all but one of each with `python manage.py printer "
        "rename OLD NEW` (a queue imported from a CUPS server: rename it there and run "
        "`printer import-cups` again), then migrate again."
    )
    assert sorted(Printer.objects.values_list("name", flat=True)) == ["Hall", "hall", "lobby"]
    out = StringIO()
    call_command("printer", "rename", "hall", "hall-2", stdout=out)
    assert out.getvalue() == "printer hall renamed hall-2\n"
    _migrate(AFTER)
    assert sorted(Printer.objects.values_list("name", flat=True)) == ["Hall", "hall-2", "lobby"]
