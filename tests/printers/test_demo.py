"""The demo printers of `make run`: both targets registered, the same records on every run."""

from __future__ import annotations

import pytest

from apps.printers.choices import PrinterKind, PrinterState
from apps.printers.demo import demo_printers_running
from apps.printers.editing import printer_disable
from apps.printers.models import Printer

pytestmark = [pytest.mark.django_db, pytest.mark.peers]


def test_demo_printers_start_register_and_keep_their_records() -> None:
    with demo_printers_running() as (finisher, office):
        assert finisher.kind == PrinterKind.DRIVERLESS
        assert finisher.state == PrinterState.IDLE
        assert 13 in finisher.capabilities["finishings-supported"]
        assert finisher.rule_file is not None
        assert finisher.side_prices.count() == 6
        assert office.kind == PrinterKind.CUPS_QUEUE
        assert office.rule_file is not None
        assert office.rule_file.name == "office-mfp-ppd"
        first_uris = {finisher.uri, office.uri}
    with demo_printers_running() as (finisher_again, office_again):
        assert (finisher_again.pk, office_again.pk) == (finisher.pk, office.pk)
        assert {finisher_again.uri, office_again.uri} != first_uris
    assert Printer.objects.count() == 2
    assert Printer.objects.get(name="demo-finisher").rule_file.versions.count() == 1  # type: ignore[union-attr]


def test_demo_printers_an_administrator_disabled_stay_disabled() -> None:
    with demo_printers_running() as printers:
        for printer in printers:
            printer_disable(printer.pk)
    with demo_printers_running() as printers_again:
        assert [printer.enabled for printer in printers_again] == [False, False]
