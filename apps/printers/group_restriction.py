"""A printer given a group is kept for its groups until an administrator opens it to everyone
(printer_update): deleting its groups, or removing them, never opens it.

The flag is set on every path that adds a group, the edit page's service as much as a shell or
the Django admin, so that no deletion later finds a printer with groups but without it.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from apps.printers.models import Printer


@receiver(m2m_changed, sender=Printer.allowed_groups.through, dispatch_uid="printer-restricted")
def keep_printers_given_a_group_restricted(
    sender: object, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **_: Any
) -> None:
    if action != "post_add" or not pk_set:
        return
    # Added from the printer's side, pk_set holds groups; from the group's side, printers.
    printer_ids = pk_set if reverse else {instance.pk}
    Printer.objects.filter(pk__in=printer_ids).update(restricted_to_groups=True)
    if not reverse:
        instance.restricted_to_groups = True
