"""Report settings (printmgmt/settings.py reads and checks them from the environment)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from django.conf import settings


def sheet_grams() -> Decimal:
    """Paper weight of one sheet (A4 at 80 g/m² weighs 5 g)."""
    return Decimal(settings.REPORT_SHEET_GRAMS)


def sheets_per_tree() -> Decimal:
    """Sheets of office paper made from one tree (a common estimate: 8,333)."""
    return Decimal(settings.REPORT_SHEETS_PER_TREE)


def co2_grams_per_sheet() -> Decimal:
    """CO₂ emitted to make and print one sheet, in grams."""
    return Decimal(settings.REPORT_CO2_GRAMS_PER_SHEET)


def energy_wh_per_sheet() -> Decimal:
    """Energy used to make and print one sheet, in watt-hours."""
    return Decimal(settings.REPORT_ENERGY_WH_PER_SHEET)


def export_dir() -> Path:
    """Where finished exports wait to be downloaded."""
    return Path(settings.REPORT_EXPORT_DIR)


def export_retention_hours() -> int:
    """How long a finished export can be downloaded before the cleanup task deletes it."""
    return int(settings.REPORT_EXPORT_RETENTION_HOURS)


def email_from() -> str:
    """Sender of scheduled reports."""
    return str(settings.REPORT_EMAIL_FROM)
