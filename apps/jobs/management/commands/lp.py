"""`manage.py lp`: print a file for a user, held or at once, shaped like CUPS's lp."""

from __future__ import annotations

import tempfile
import time
from argparse import ArgumentParser, ArgumentTypeError
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.errors import AccountError
from apps.accounts.models import User
from apps.accounts.selectors import account_resolve
from apps.jobs.choices import TERMINAL_STATES, JobSource, JobState
from apps.jobs.convert import OCTET_STREAM, to_pdf
from apps.jobs.documents import DocumentError
from apps.jobs.models import Job
from apps.jobs.option_checks import OptionValue
from apps.jobs.release import MAX_COPIES, ReleaseRefused, job_release, printer_for_group
from apps.jobs.services import job_create_held
from apps.printers.models import Printer, PrinterGroup
from apps.printers.selectors import printer_named

WAIT_POLL_SECONDS = 0.5


JobOptions = dict[str, OptionValue]


def parse_option(text: str) -> tuple[str, OptionValue]:
    name, equals, value = text.partition("=")
    if not equals or not name.strip() or not value.strip():
        raise CommandError(f"-o {text!r}: write options as name=value")
    values = [v.strip() for v in value.split(",")]
    return name.strip(), values[0] if len(values) == 1 else values


def copies(text: str) -> int:
    """`-n`: a whole number from 1 to MAX_COPIES, as a release allows."""
    try:
        count = int(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= count <= MAX_COPIES:
        raise ArgumentTypeError(f"{count} copies: give 1 to {MAX_COPIES}")
    return count


class Command(BaseCommand):
    help = (
        "Send a document (PDF, PostScript, JPEG, PNG, plain text) to a printer for a user: "
        "held in their inbox, or released at once."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("-U", dest="user", required=True, help="the user printing")
        parser.add_argument(
            "-d",
            dest="printer",
            help="the printer, or a printer group for follow-me (needed with -H immediate)",
        )
        parser.add_argument(
            "-n", dest="copies", type=copies, default=1, help=f"copies, 1 to {MAX_COPIES}"
        )
        parser.add_argument("-o", dest="options", action="append", default=[], metavar="NAME=VALUE")
        parser.add_argument("-P", dest="pages", default="", help="page ranges, e.g. 1-3,5")
        parser.add_argument("-t", dest="title", default="")
        parser.add_argument("-H", dest="hold", choices=("hold", "immediate"), default="hold")
        parser.add_argument("--account", help="a shared account to charge instead of the user's")
        parser.add_argument("--wait", action="store_true", help="wait for the final state")
        parser.add_argument("--timeout", type=float, default=600, help="seconds --wait waits")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["user"])
        except User.DoesNotExist:
            raise CommandError(f"there is no user called {options['user']!r}") from None
        job_options = dict(parse_option(text) for text in options["options"])
        destination = options["printer"]
        if options["hold"] == "immediate" and not destination:
            raise CommandError("-H immediate needs a printer: add -d PRINTER")
        if options["wait"] and options["hold"] != "immediate":
            # A held job ends only once released in the portal, or when it expires.
            raise CommandError(
                "--wait needs -H immediate: a held job is not printed until released"
            )
        if destination and not (
            printer_named(destination) is not None
            or PrinterGroup.objects.filter(name=destination).exists()
        ):
            raise CommandError(f"there is no printer or printer group called {destination!r}")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            with tempfile.TemporaryDirectory(prefix="lp-") as workdir:
                # Any format the inbox takes, recognised by its content, as lp's filters do.
                pdf = to_pdf(path, OCTET_STREAM, Path(workdir))
                job = job_create_held(
                    user,
                    pdf,
                    title=options["title"] or path.name,
                    source=JobSource.COMMAND,
                    options=job_options,
                    copies=options["copies"],
                    page_ranges=options["pages"],
                    # A converted copy is ours to move into the spool; the user's file is not.
                    move=pdf != path,
                )
        except DocumentError as error:
            raise CommandError(f"{path}: {error}") from None
        # Held, the job waits in the inbox; its request id still names the destination asked.
        label = destination or "inbox"
        if options["hold"] == "immediate":
            try:
                printer = self._printer(destination, job, user, job_options, options)
                label = printer.name
                account_id = account_resolve(options["account"]).pk if options["account"] else None
                job_release(
                    job.pk,
                    user,
                    printer.pk,
                    job_options,
                    copies=options["copies"],
                    page_ranges=options["pages"],
                    account_id=account_id,
                )
            except (ReleaseRefused, AccountError) as error:
                raise CommandError(f"job {job.pk} stays held: {error}") from None
        self.stdout.write(f"request id is {label}-{job.pk}")
        if options["wait"]:
            self._wait(job.pk, options["timeout"])

    def _printer(
        self, name: str, job: Job, user: User, job_options: JobOptions, options: dict[str, Any]
    ) -> Printer:
        """The printer called `name`, or for a printer group the one follow-me picks."""
        printer = printer_named(name)
        if printer is not None:
            return printer
        group = PrinterGroup.objects.get(name=name)
        return printer_for_group(
            job, user, group, job_options, copies=options["copies"], page_ranges=options["pages"]
        )

    def _wait(self, job_id: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        job = Job.objects.get(pk=job_id)
        try:
            while job.state not in TERMINAL_STATES:
                if time.monotonic() > deadline:
                    raise CommandError(f"job {job_id} is still {job.state} after {timeout:.0f}s")
                time.sleep(WAIT_POLL_SECONDS)
                job.refresh_from_db()
        except KeyboardInterrupt:
            # Ctrl-C stops the waiting, not the job: said in one line, not with a traceback.
            raise CommandError(
                f"stopped waiting: job {job_id} is {job.state} and goes on", returncode=130
            ) from None
        if job.state != JobState.COMPLETED:
            detail = f": {job.message}" if job.message else ""
            raise CommandError(f"job {job_id} ended {job.state}{detail}", returncode=1)
        self.stdout.write(f"job {job_id} completed")
