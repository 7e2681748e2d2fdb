"""Reads on printers: who may use which, and a printer's own side prices."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from apps.accounts.models import User
from apps.printers.models import Printer
from printmgmt.ppde import SidePrices, SidePriceTable


def printers_usable_by(user: User) -> QuerySet[Printer]:
    """Enabled printers open to everyone, or to one of the user's groups."""
    printers = Printer.objects.filter(enabled=True).annotate(group_count=Count("allowed_groups"))
    if user.is_superuser:
        return printers.order_by("name")
    return (
        printers.filter(Q(group_count=0) | Q(allowed_groups__in=user.groups.all()))
        .distinct()
        .order_by("name")
    )


def user_may_use_printer(user: User, printer: Printer) -> bool:
    return printers_usable_by(user).filter(pk=printer.pk).exists()


def side_price_table(printer: Printer) -> SidePriceTable:
    return SidePriceTable(
        {
            (row.media, row.color, row.media_source or None): SidePrices(
                row.one_sided, row.two_sided
            )
            for row in printer.side_prices.all()
        }
    )
