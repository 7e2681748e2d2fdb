"""Follow-me printer groups: a job released to a group prints on the first of its printers
that the user may use and that can print it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.printers.models import Printer, PrinterGroup
from apps.printers.selectors import printer_group_named
from apps.printers.services import PrinterError

logger = logging.getLogger(__name__)

GROUP_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def printer_group_create(name: str, printers: Iterable[Printer]) -> PrinterGroup:
    """A follow-me group: a job released to it prints on the first of its printers that the
    user may use and that can print it."""
    name = name.strip()
    if not GROUP_NAME_PATTERN.match(name):
        raise PrinterError(
            _(
                "%(name)s is not a usable printer group name: letters, digits, '-' and '_' "
                "(at most 64, starting with a letter or digit)"
            )
            % {"name": repr(name)},
            about=PrinterError.NAME,
        )
    members = _group_members(printers)
    # Printers and printer groups share one namespace (see services.group_has_name).
    if Printer.objects.filter(name__iexact=name).exists():
        raise PrinterError(
            _("a printer is called %(name)s: a printer group needs another name")
            % {"name": repr(name)},
            about=PrinterError.NAME,
        )
    taken = printer_group_named(name)
    if taken is not None:
        raise PrinterError(group_name_taken(name, taken.name), about=PrinterError.NAME)
    try:
        with transaction.atomic():
            group = PrinterGroup.objects.create(name=name)
            group.printers.set(members)
    except IntegrityError:  # made by someone else since it was looked for
        taken = printer_group_named(name)
        raise PrinterError(
            group_name_taken(name, taken.name if taken else name), about=PrinterError.NAME
        ) from None
    logger.info("printer group %s made: %s", name, ", ".join(p.name for p in members))
    return group


def group_name_taken(name: str, taken: str) -> str:
    """Why a printer group cannot be called `name`: the group called `taken` (that name, or
    one differing only in case) has it."""
    if taken == name:
        return _("a printer group called %(name)s exists already") % {"name": repr(name)}
    return _(
        "a printer group called %(taken)s exists already, and names that differ only in case "
        "are one group's, as printers' are"
    ) % {"taken": repr(taken)}


def printer_group_add(name: str, printers: Iterable[Printer]) -> PrinterGroup:
    """Add printers to the group called `name` (whatever its case), making the group when
    there is none."""
    group = printer_group_named(name.strip())
    if group is None:
        return printer_group_create(name, printers)
    members = _group_members(printers)
    group.printers.add(*members)
    logger.info("printer group %s: added %s", group.name, ", ".join(p.name for p in members))
    return group


def printer_group_printers_set(group_id: int, printers: Iterable[Printer]) -> PrinterGroup:
    """Make a group's printers exactly `printers`."""
    members = _group_members(printers)
    with transaction.atomic():
        group = PrinterGroup.objects.select_for_update().get(pk=group_id)
        group.printers.set(members)
    logger.info("printer group %s: %s", group.name, ", ".join(p.name for p in members))
    return group


def printer_group_delete(group_id: int) -> PrinterGroup:
    """Remove a group; its printers, and the jobs printed through it, stay."""
    group = PrinterGroup.objects.get(pk=group_id)
    group.delete()
    logger.info("printer group %s removed", group.name)
    return group


def _group_members(printers: Iterable[Printer]) -> list[Printer]:
    members = list(printers)
    if not members:
        raise PrinterError(
            _("a printer group needs at least one printer"), about=PrinterError.PRINTERS
        )
    return members
