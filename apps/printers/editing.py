"""Writes on printers an admin makes after adding them: edit (location, groups, rule file,
prices, certificate), rename and disable."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _

from apps.printers.models import Printer, PrinterGroup, SidePrice
from apps.printers.services import (
    PrinterError,
    checked_location,
    checked_trusted_certificate,
    group_has_name,
    name_taken,
    printer_refresh,
    validate_printer_name,
)
from apps.rules.models import RuleFile

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SidePriceRow:
    media: str
    color: bool
    media_source: str
    one_sided: Decimal
    two_sided: Decimal


def printer_update(
    printer_id: int,
    *,
    location: str,
    allowed_groups: Iterable[Group] | None,
    rule_file: RuleFile | None,
    enabled: bool,
    side_prices: Iterable[SidePriceRow],
    trusted_certificate: str,
) -> Printer:
    """Change what an admin may change of a printer (its address is changed by removing it),
    with its price table (the per-side prices used without media cost rules).

    `allowed_groups` None opens the printer to everyone with the Staff permission; a list
    keeps it for those groups (an empty one: for nobody but superusers).

    All or nothing: everything is checked before anything is written, in one transaction.
    A printer enabled here is asked for its state at once, after that transaction."""
    location = checked_location(location)
    rows = _checked_side_prices(side_prices)
    trusted_certificate = checked_trusted_certificate(trusted_certificate)
    with transaction.atomic():
        printer = Printer.objects.select_for_update().get(pk=printer_id)
        printer.location = location
        printer.rule_file = rule_file
        printer.trusted_certificate = trusted_certificate
        enabling = enabled and not printer.enabled
        if enabled != printer.enabled:
            # The administrator decided: a later CUPS sync leaves it as it is now.
            printer.enabled, printer.disabled_by_cups_sync = enabled, False
        printer.restricted_to_groups = allowed_groups is not None
        printer.save(
            update_fields=[
                "location",
                "rule_file",
                "enabled",
                "disabled_by_cups_sync",
                "restricted_to_groups",
                "trusted_certificate",
            ]
        )
        printer.allowed_groups.set(list(allowed_groups or ()))
        printer.side_prices.all().delete()
        SidePrice.objects.bulk_create(SidePrice(printer=printer, **asdict(row)) for row in rows)
    logger.info(
        "printer %s changed (enabled=%s, rule file=%s, %d prices)",
        printer.name,
        enabled,
        rule_file,
        len(rows),
    )
    if enabling:
        # The refresh does not ask disabled printers: what it said before it was disabled may
        # be long out of date, and releases are refused or let through by it.
        printer = printer_refresh(printer.pk)
    return printer


def _checked_side_prices(rows: Iterable[SidePriceRow]) -> list[SidePriceRow]:
    """The rows as they will be stored (trimmed); PrinterError naming the first bad one (the
    second of two rows for the same paper)."""
    checked: list[SidePriceRow] = []
    seen: set[tuple[str, bool, str]] = set()
    for number, row in enumerate(rows):
        media, media_source = row.media.strip(), row.media_source.strip()
        if not media:
            raise PrinterError(
                _("every price needs a media size, e.g. iso_a4_210x297mm"),
                about=PrinterError.MEDIA,
                row=number,
            )
        for about, price in (
            (PrinterError.ONE_SIDED, row.one_sided),
            (PrinterError.TWO_SIDED, row.two_sided),
        ):
            if price < 0:
                raise PrinterError(
                    _("%(media)s: prices cannot be negative") % {"media": media},
                    about=about,
                    row=number,
                )
        key = (media, row.color, media_source)
        if key in seen:
            raise PrinterError(
                _(
                    "the price table names %(media)s, %(colour)s, %(tray)s twice: keep one of "
                    "the rows"
                )
                % {
                    "media": media,
                    "colour": _("colour") if row.color else _("grey"),
                    "tray": _("tray %(tray)s") % {"tray": media_source}
                    if media_source
                    else _("every tray"),
                },
                about=PrinterError.MEDIA,
                row=number,
            )
        seen.add(key)
        checked.append(SidePriceRow(media, row.color, media_source, row.one_sided, row.two_sided))
    return checked


def printer_rename(printer_id: int, name: str) -> Printer:
    """Give a printer added by hand another name; its jobs, settings and groups stay with it.
    A queue imported from a CUPS server is named as its queue (the sync knows it so): it is
    renamed there, and the next sync renames it here."""
    validate_printer_name(name)
    with transaction.atomic():
        # Only columns every migration has: migration 0005 refuses names differing only in
        # case and sends administrators here, before the migrations after it add theirs.
        printer = Printer.objects.select_for_update().only("name", "cups_server").get(pk=printer_id)
        if printer.cups_server:
            raise PrinterError(
                _(
                    "%(name)s is a queue of the CUPS server %(server)s and is named as it there: "
                    "rename the queue on that server and import it again (the printer keeps its "
                    "settings)"
                )
                % {"name": printer.name, "server": printer.cups_server},
                about=PrinterError.NAME,
            )
        taken = (
            Printer.objects.filter(name__iexact=name).exclude(pk=printer.pk).only("name").first()
        )
        if taken is not None:
            raise PrinterError(name_taken(name, taken.name), about=PrinterError.NAME)
        if PrinterGroup.objects.filter(name__iexact=name).exists():
            raise PrinterError(group_has_name(name), about=PrinterError.NAME)
        former, printer.name = printer.name, name
        printer.save(update_fields=["name"])
    logger.info("printer %s renamed %s", former, name)
    return printer


def printer_disable(printer_id: int) -> Printer:
    """An administrator takes a printer out of use: nobody can release to it, jobs released
    to it and not yet sent are not sent (they fail with a refund), and a CUPS sync does not
    enable it again."""
    with transaction.atomic():
        printer = Printer.objects.select_for_update().get(pk=printer_id)
        printer.enabled, printer.disabled_by_cups_sync = False, False
        printer.save(update_fields=["enabled", "disabled_by_cups_sync"])
    logger.info("printer %s disabled", printer.name)
    return printer
