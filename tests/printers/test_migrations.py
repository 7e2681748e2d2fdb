"""Migrations 0005 and 0006 (printer names, and printer group names, unique whatever their
case) against a database that already holds names differing only in case: each refuses,
naming them and what to do, and changes nothing; once all but one of each are renamed or
removed, it applies. Migration 0007 (gone from CUPS apart from disabled by the sync) on the
rows the sync had marked."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.printers.models import Printer, PrinterGroup

BEFORE = [("printers", "0004_restricted_to_groups")]
AFTER = [("printers", "0005_printer_names_unique_ignoring_case")]
GROUP_NAMES = [("printers", "0006_printer_group_names_unique_ignoring_case")]
LATEST = [("printers", "0007_gone_apart_from_disabled_by_cups_sync")]


def _migrate(target: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


def _delete_printers() -> None:
    """Every printer and group, whatever the migrations applied: by the models of the oldest
    state the tests go back to, whose columns every later state has (the current models' are
    those of the latest)."""
    old_apps = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    old_apps.get_model("printers", "PrinterGroup").objects.all().delete()
    old_apps.get_model("printers", "Printer").objects.all().delete()


@pytest.fixture
def before_0005(transactional_db: None) -> Iterator[None]:
    _migrate(BEFORE)
    yield
    _delete_printers()
    _migrate(LATEST)


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
    # The command the refusal names works on a database stopped here, without the columns
    # later migrations add.
    out = StringIO()
    call_command("printer", "rename", "hall", "hall-2", stdout=out)
    assert out.getvalue() == "printer hall renamed hall-2\n"
    _migrate(AFTER)
    assert sorted(Printer.objects.values_list("name", flat=True)) == ["Hall", "hall-2", "lobby"]


@pytest.fixture
def before_0006(transactional_db: None) -> Iterator[None]:
    _migrate(AFTER)
    yield
    _delete_printers()
    _migrate(LATEST)


def test_printer_group_names_differing_only_in_case_stop_the_migration_until_removed(
    before_0006: None,
) -> None:
    state = MigrationExecutor(connection).loader.project_state(AFTER)
    old_printer = state.apps.get_model("printers", "Printer")
    old_group = state.apps.get_model("printers", "PrinterGroup")
    hall = old_printer.objects.create(name="hall", uri="ipp://127.0.0.1:9/ipp/print", kind="ipp")
    for name in ("Floor1", "floor1", "FLOOR1", "lobby"):
        old_group.objects.create(name=name).printers.add(hall)
    with pytest.raises(CommandError) as refused:
        _migrate(GROUP_NAMES)
    assert str(refused.value) == (
        "printer group names must differ in more than case (as printer names do), and these "
        "do not: 'FLOOR1' and 'Floor1' and 'floor1'. Remove all but one of each with `python "
        "manage.py printer group remove NAME` (its printers stay; `printer group add` gives "
        "them to the group kept, or to one of another name), then migrate again."
    )
    names = ["FLOOR1", "Floor1", "floor1", "lobby"]
    assert sorted(PrinterGroup.objects.values_list("name", flat=True)) == names
    out = StringIO()
    for name in ("FLOOR1", "floor1"):
        call_command("printer", "group", "remove", name, stdout=out)
    assert out.getvalue() == "printer group FLOOR1 removed\nprinter group floor1 removed\n"
    _migrate(GROUP_NAMES)
    assert sorted(PrinterGroup.objects.values_list("name", flat=True)) == ["Floor1", "lobby"]


@pytest.fixture
def before_0007(transactional_db: None) -> Iterator[None]:
    _migrate(GROUP_NAMES)
    yield
    _delete_printers()
    _migrate(LATEST)


def test_queues_the_sync_disabled_as_gone_stay_gone_and_come_back_enabled(
    before_0007: None,
) -> None:
    old_printer = (
        MigrationExecutor(connection)
        .loader.project_state(GROUP_NAMES)
        .apps.get_model("printers", "Printer")
    )
    # gone_from_cups_server meant "disabled by the sync as gone"; an administrator's disabled
    # queue was never marked, gone or not.
    for name, enabled, marked in (
        ("synced-off", False, True),
        ("switched-off", False, False),
        ("in-use", True, False),
    ):
        old_printer.objects.create(
            name=name,
            uri=f"ipp://127.0.0.1:631/printers/{name}",
            kind="cups",
            cups_server="ipp://127.0.0.1:631/",
            enabled=enabled,
            gone_from_cups_server=marked,
        )
    _migrate(LATEST)
    assert {
        printer.name: (
            printer.enabled,
            printer.gone_from_cups_server,
            printer.disabled_by_cups_sync,
        )
        for printer in Printer.objects.all()
    } == {
        "synced-off": (False, True, True),
        "switched-off": (False, False, False),
        "in-use": (True, False, False),
    }
    # Back: gone means "disabled by the sync as gone" again, so an administrator's disabled
    # queue a later sync found gone is not enabled by the former code when it comes back.
    Printer.objects.filter(name="switched-off").update(gone_from_cups_server=True)
    _migrate(GROUP_NAMES)
    assert dict(old_printer.objects.values_list("name", "gone_from_cups_server")) == {
        "synced-off": True,
        "switched-off": False,
        "in-use": False,
    }
