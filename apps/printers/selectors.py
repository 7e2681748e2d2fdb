"""Reads on printers: who may use which, and a printer's own side prices."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.accounts.models import User
from apps.printers.models import Printer, PrinterGroup
from printmgmt.ppde import SidePrices, SidePriceTable


def printer_named(name: str, *, columns: tuple[str, ...] = ()) -> Printer | None:
    """The printer called `name` whatever its case (`lp -d hall` for printer "Hall"): names
    differing only in case are one printer's, as CUPS queue names are. The one of exactly
    that name first: two may still clash until migration 0005 refuses them. With `columns`,
    only those are read (and the id)."""
    printers = Printer.objects.only(*columns) if columns else Printer.objects.all()
    return printers.filter(name=name).first() or printers.filter(name__iexact=name).first()


def printer_group_named(name: str) -> PrinterGroup | None:
    """The printer group called `name` whatever its case (`lp -d floor1` for group "Floor1"):
    groups share the printers' namespace, whose names differing only in case are one. The one
    of exactly that name first: two may still clash until migration 0006 refuses them."""
    return (
        PrinterGroup.objects.filter(name=name).first()
        or PrinterGroup.objects.filter(name__iexact=name).first()
    )


def printers_usable_by(user: User) -> QuerySet[Printer]:
    """Enabled printers open to everyone, or kept for one of the user's groups; not a queue
    gone from its CUPS server (an administrator may have enabled it since)."""
    printers = Printer.objects.filter(enabled=True, gone_from_cups_server=False)
    if user.is_superuser:
        return printers.order_by("name")
    return (
        printers.filter(Q(restricted_to_groups=False) | Q(allowed_groups__in=user.groups.all()))
        .distinct()
        .order_by("name")
    )


def user_may_use_printer(user: User, printer: Printer) -> bool:
    """printers_usable_by's rule for one printer, without a query when the printer is open to
    everyone (every release asks)."""
    if not printer.enabled or printer.gone_from_cups_server:
        return False
    if user.is_superuser or not printer.restricted_to_groups:
        return True
    return printer.allowed_groups.filter(user=user).exists()


def side_price_table(printer: Printer) -> SidePriceTable:
    return SidePriceTable(
        {
            (row.media, row.color, row.media_source or None): SidePrices(
                row.one_sided, row.two_sided
            )
            for row in printer.side_prices.all()
        }
    )
