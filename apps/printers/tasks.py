from __future__ import annotations

import logging

from celery import shared_task

from apps.printers.cups_sync import printer_import_cups
from apps.printers.models import Printer
from apps.printers.services import PrinterError, printer_refresh

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=280)
def refresh_printers() -> int:
    """Keep printers current (beat, every few minutes): sync the queues of every CUPS server
    we imported from (new, changed, gone), then read each enabled printer's state and
    capabilities again."""
    servers = (
        Printer.objects.exclude(cups_server="").values_list("cups_server", flat=True).distinct()
    )
    for server in list(servers):
        try:
            printer_import_cups(server)
        except PrinterError as error:
            logger.warning("CUPS server %s not synced: %s", server, error)
    printer_ids = list(Printer.objects.filter(enabled=True).values_list("pk", flat=True))
    for printer_id in printer_ids:
        printer = printer_refresh(printer_id)
        logger.info("printer %s: %s", printer.name, printer.state)
    return len(printer_ids)
