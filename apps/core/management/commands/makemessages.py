"""`manage.py makemessages`, which also extracts the counted messages marked with
`printmgmt.translatable.plural_noop` (singular and plural msgids, as `ngettext` has them)."""

from __future__ import annotations

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=plural_noop:1,2"]
