"""`report usage|records --from DATE --to DATE ...`: finance reports on the command line."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import User
from apps.accounts.roles import VIEW_REPORTS, permission_name
from apps.reports.choices import ExportKind, Grouping, ReportFormat
from apps.reports.exports import write_export
from apps.reports.selectors import ReportError, report_request


@contextmanager
def _output_file(output: str) -> Iterator[IO[bytes]]:
    """The file to write the report to. A regular file is written beside it under a hidden name
    and renamed to it once complete, so a failed write leaves no empty or cut-off report (and
    an earlier one stays); a device or pipe (/dev/stdout) is written directly."""
    if os.path.exists(output) and not os.path.isfile(output):
        with open(output, "wb") as out:
            yield out
        return
    target = Path(os.path.realpath(output))
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        with open(partial, "xb") as out:
            yield out
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


class Command(BaseCommand):
    help = (
        "Write a usage report (totals by user, group, account, printer, day, week or month, "
        "with a TOTAL line) or every usage record of a period, as CSV, XLSX or PDF."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=ExportKind.values, help="usage: totals; records: rows")
        parser.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--by", dest="grouping", default="user", choices=Grouping.values)
        parser.add_argument("--format", default="csv", choices=ReportFormat.values)
        parser.add_argument("--output", metavar="FILE", help="Write here; CSV goes to stdout.")
        parser.add_argument("--user", default="", help="Only this user's jobs.")
        parser.add_argument("--group", default="", help="Only jobs of members of this group.")
        parser.add_argument("--account", default="", help="Only jobs charged to this account.")
        parser.add_argument("--printer", default="", help="Only jobs printed on this printer.")
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USER",
            help="Report as this user (their view_reports permission is checked); "
            "without it the command runs as the system.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self._check_permission(options["as_user"])
        try:
            request = report_request(
                options["start"],
                options["end"],
                options["grouping"],
                user=options["user"],
                group=options["group"],
                account=options["account"],
                printer=options["printer"],
            )
        except ReportError as error:
            raise CommandError(str(error)) from None
        report_format = ReportFormat(options["format"])
        output = options["output"]
        if output is None and report_format != ReportFormat.CSV:
            raise CommandError(f"--format {report_format} needs --output FILE.")
        kind = ExportKind(options["kind"])
        if output is None:
            try:
                self._write(kind, report_format, request, sys.stdout.buffer)
            except BrokenPipeError:
                # The reader stopped early (`| head`): not an error; keep exit from failing too.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return
        try:
            with _output_file(output) as out:
                self._write(kind, report_format, request, out)
        except OSError as error:
            raise CommandError(f"cannot write {output}: {error.strerror}") from None
        self.stderr.write(f"wrote {output}")

    @staticmethod
    def _write(kind: ExportKind, report_format: ReportFormat, request: Any, out: IO[bytes]) -> None:
        write_export(kind, report_format, request, out)
        out.flush()

    @staticmethod
    def _check_permission(username: str | None) -> None:
        if username is None:
            return
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"--as {username!r}: no such user.")
        if not (user.is_active and user.has_perm(permission_name(VIEW_REPORTS))):
            raise CommandError(
                f"{username} may not read reports: reports need the Finance role "
                "(the view_reports permission)."
            )
