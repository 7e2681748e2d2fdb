"""`manage.py printing USERNAME ...`: how a user prints from devices.

manage.py printing alice --token            issue a new printing token (printed once)
manage.py printing alice --revoke-token     the old token stops working at once
manage.py printing alice --default-printer hall-2   where Release-Job from a device sends
manage.py printing alice --no-default-printer
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import User
from apps.ippserver.services import (
    default_printer_set,
    printing_profile_ensure,
    printing_token_issue,
    printing_token_revoke,
)
from apps.printers.selectors import printer_named


class Command(BaseCommand):
    help = "Issue or revoke a user's printing token, or set their default printer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        token = parser.add_mutually_exclusive_group()
        token.add_argument("--token", action="store_true", help="issue a new printing token")
        token.add_argument("--revoke-token", action="store_true", help="revoke the token")
        printer = parser.add_mutually_exclusive_group()
        printer.add_argument("--default-printer", metavar="PRINTER", help="printer name")
        printer.add_argument("--no-default-printer", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist:
            raise CommandError(f"there is no user {options['username']!r}") from None
        if options["default_printer"]:
            printer = printer_named(options["default_printer"])
            if printer is None:
                raise CommandError(f"there is no printer {options['default_printer']!r}")
            default_printer_set(user, printer)
        elif options["no_default_printer"]:
            default_printer_set(user, None)
        if options["revoke_token"]:
            printing_token_revoke(user)
        if options["token"]:
            token = printing_token_issue(user)
            self.stdout.write(f"printing token for {user.username} (shown once): {token}")
        profile = printing_profile_ensure(user)
        printer_name = profile.default_printer.name if profile.default_printer else "none"
        has_token = "yes" if profile.token_digest else "no"
        self.stdout.write(f"{user.username}: default printer {printer_name}, token {has_token}")
