from __future__ import annotations

import logging

from celery import shared_task

from apps.printers.models import Printer
from apps.printers.services import printer_refresh

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=280)
def refresh_printers() -> int:
    """Read every enabled printer's state and capabilities again (beat, every few minutes)."""
    printer_ids = list(Printer.objects.filter(enabled=True).values_list("pk", flat=True))
    for printer_id in printer_ids:
        printer = printer_refresh(printer_id)
        logger.info("printer %s: %s", printer.name, printer.state)
    return len(printer_ids)
