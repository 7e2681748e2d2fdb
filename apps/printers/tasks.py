from __future__ import annotations

import logging

from celery import shared_task

from apps.printers.cups_sync import cups_server_key, printer_import_cups
from apps.printers.models import Printer
from apps.printers.services import (
    PrinterError,
    PrinterUnreachable,
    printers_mark_unreachable,
    printers_refresh,
)

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=280)
def refresh_printers() -> int:
    """Keep printers current (beat, every few minutes): sync the queues of every CUPS server
    we imported from (new, changed, gone; the sync asks each queue), then read every other
    enabled printer's state and capabilities again, several at once. Returns how many enabled
    printers were asked or marked.

    The queues of a CUPS server that cannot be reached are marked unreachable with its error,
    not asked one by one: each would cost the IPP timeout, every few minutes, for one answer."""
    imported = list(Printer.objects.exclude(cups_server=""))
    servers: dict[tuple[str, int] | None, str] = {}
    for printer in imported:
        servers.setdefault(cups_server_key(printer.cups_server), printer.cups_server)
    done: set[int] = set()
    for key, server in servers.items():
        queues = {p.pk for p in imported if cups_server_key(p.cups_server) == key}
        try:
            printer_import_cups(server)
        except PrinterUnreachable as error:
            logger.warning("CUPS server %s cannot be reached: %s", server, error)
            enabled = {p.pk for p in imported if p.pk in queues and p.enabled}
            printers_mark_unreachable(enabled, f"its CUPS server cannot be reached: {error}")
        except PrinterError as error:
            logger.warning("CUPS server %s not synced: %s", server, error)
            continue  # it answered: its queues are asked one by one below
        done |= queues
    others = Printer.objects.filter(enabled=True).exclude(pk__in=done)
    for printer in printers_refresh(others.values_list("pk", flat=True)):
        logger.info("printer %s: %s", printer.name, printer.state)
    return Printer.objects.filter(enabled=True).count()
