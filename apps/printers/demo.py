"""The demo printers of `make run`: a finisher (ippeveprinter, driverless) and an office MFP
behind a private cupsd queue with a PPD, so both translation targets can be seen working.

They live as long as the `demo_printers` command runs; the printer records stay, and are
pointed at the new ports on the next run.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from apps.printers.cups_sync import printer_import_cups
from apps.printers.models import Printer, SidePrice
from apps.printers.peers import OFFICE_FINISHER_ATTRIBUTES, run_cupsd, run_ippeveprinter
from apps.printers.services import printer_add, printer_refresh
from apps.rules.models import RuleFile
from apps.rules.services import rule_file_import

logger = logging.getLogger(__name__)

FINISHER = "demo-finisher"
OFFICE_QUEUE = "office-mfp"
DEMO_SIDE_PRICES = (
    # media, colour, one-sided, two-sided
    ("iso_a4_210x297mm", False, Decimal("0.05"), Decimal("0.04")),
    ("iso_a4_210x297mm", True, Decimal("0.20"), Decimal("0.18")),
    ("iso_a3_297x420mm", False, Decimal("0.10"), Decimal("0.08")),
    ("iso_a3_297x420mm", True, Decimal("0.40"), Decimal("0.36")),
    ("iso_a5_148x210mm", False, Decimal("0.03"), Decimal("0.02")),
    ("iso_a5_148x210mm", True, Decimal("0.12"), Decimal("0.10")),
)


def rules_dir() -> Path:
    return Path(settings.BASE_DIR) / "ppdrules"


def _rule_file(file_name: str) -> RuleFile:
    """The shipped rule file, imported on first use (later runs keep the admins' versions)."""
    path = rules_dir() / file_name
    existing = RuleFile.objects.filter(name=path.stem).first()
    if existing is not None and existing.active_version_id is not None:
        return existing
    return rule_file_import(path).rule_file


def _register_finisher(uri: str) -> Printer:
    printer = Printer.objects.filter(name=FINISHER).first()
    if printer is None:
        printer = printer_add(
            FINISHER,
            uri,
            location="Demo: finisher with staple, punch, fold, booklet and covers",
            rule_file=_rule_file("driverless-ipp-everywhere.ppde"),
        )
    else:
        # Only its address changes: an administrator who disabled it keeps it disabled.
        Printer.objects.filter(pk=printer.pk).update(uri=uri)
        printer = printer_refresh(printer.pk)
    for media, color, one_sided, two_sided in DEMO_SIDE_PRICES:
        SidePrice.objects.get_or_create(
            printer=printer,
            media=media,
            color=color,
            media_source="",
            defaults={"one_sided": one_sided, "two_sided": two_sided},
        )
    return printer


def _register_office_queue(server_uri: str, queue_uri: str) -> None:
    # The private cupsd gets a new port each run: point the known queue at it first, so the
    # import finds it instead of adding a second one.
    Printer.objects.filter(name=OFFICE_QUEUE).update(cups_server=server_uri, uri=queue_uri)
    printer_import_cups(server_uri, rule_file=_rule_file("office-mfp-ppd.ppde"))


class DemoStopped(Exception):
    """A stop was asked for while the demo printers were starting."""


def _never() -> bool:
    return False


@contextlib.contextmanager
def demo_printers_running(stopping: Callable[[], bool] = _never) -> Iterator[list[Printer]]:
    """Start both demo printers, register them, yield the records; stop the peers on exit.

    A stop asked for while they start (`stopping()` true, as a signal handler makes it) is
    acted on after the step under way, not at the end of the start (which a loaded machine
    may take longer to reach than a service manager waits): what was started is stopped and
    DemoStopped raised."""

    def step_done() -> None:
        if stopping():
            raise DemoStopped

    with run_ippeveprinter(name="Demo Finisher", attributes=OFFICE_FINISHER_ATTRIBUTES) as peer:
        step_done()
        with run_cupsd(with_auth=False) as cups:
            step_done()
            finisher = _register_finisher(peer.uri)
            step_done()
            cups.add_queue(OFFICE_QUEUE, peer.uri, ppd=rules_dir() / "office-mfp.ppd")
            step_done()
            _register_office_queue(cups.uri, cups.queue_uri(OFFICE_QUEUE))
            step_done()
            office = Printer.objects.get(name=OFFICE_QUEUE)
            logger.info("demo printers: %s at %s, %s at %s", finisher, peer.uri, office, office.uri)
            yield [finisher, office]
