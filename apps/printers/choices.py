from django.db import models
from django.utils.translation import gettext_lazy as _


class PrinterKind(models.TextChoices):
    CUPS_QUEUE = "cups", _("CUPS queue (PPD options)")
    DRIVERLESS = "ipp", _("Driverless IPP printer (standard attributes)")


class PrinterState(models.TextChoices):
    """printer-state of RFC 8011, plus 'unknown' until the printer has answered once."""

    UNKNOWN = "unknown", _("Unknown")
    IDLE = "idle", _("Idle")
    PROCESSING = "processing", _("Printing")
    STOPPED = "stopped", _("Stopped")
    UNREACHABLE = "unreachable", _("Unreachable")
