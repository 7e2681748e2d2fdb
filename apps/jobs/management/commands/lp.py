"""`manage.py lp`: print files for a user, held or at once, shaped like CUPS's lp."""

from __future__ import annotations

import shlex
import sys
import tempfile
import time
from argparse import ArgumentParser, ArgumentTypeError
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.errors import AccountError
from apps.accounts.models import User
from apps.accounts.selectors import account_resolve, printing_refusal
from apps.jobs.choices import TERMINAL_STATES, JobSource, JobState
from apps.jobs.convert import OCTET_STREAM, to_pdf
from apps.jobs.documents import DocumentError, max_document_bytes
from apps.jobs.models import Job
from apps.jobs.option_checks import OptionValue
from apps.jobs.parts import JOB_SHEETS
from apps.jobs.release import MAX_COPIES, ReleaseRefused, job_release, printer_for_group
from apps.jobs.services import DocumentToHold, job_create_held_together
from apps.printers.models import Printer
from apps.printers.selectors import printer_group_named, printer_named

WAIT_POLL_SECONDS = 0.5
#: The file name that stands for standard input, as in CUPS's lp; and the title CUPS gives it.
STDIN = "-"
STDIN_NAME = "(stdin)"
STDIN_CHUNK_BYTES = 1024 * 1024


JobOptions = dict[str, OptionValue]
T = TypeVar("T")


def parse_options(text: str) -> list[tuple[str, OptionValue]]:
    """One -o: `name=value`, or several separated by spaces, as CUPS's lp reads it (`-o "sides=
    two-sided-long-edge media=iso_a4_210x297mm"`); quotes keep spaces in a value."""
    try:
        words = shlex.split(text)
    except ValueError as error:  # an unclosed quote
        raise CommandError(f"-o {text!r}: {error}") from None
    if not words:
        raise CommandError(f"-o {text!r}: write options as name=value")
    return [parse_option(word) for word in words]


#: The options CUPS's lp takes without a value (`-o NAME` is NAME=true, `-o noNAME` NAME=false),
#: each value as the attribute and value the product takes for it. The printer's offer decides
#: at release, as for the attribute typed out: one it cannot do is refused, naming it.
CUPS_BOOLEAN_OPTIONS: dict[str, dict[str, tuple[str, str]]] = {
    "fit-to-page": {"true": ("print-scaling", "fit")},
    # Not multiple-document-handling: every job here has one document, whose copies are
    # collated or not by sheet-collate (RFC 3381), the attribute printers offer for it.
    "collate": {"true": ("sheet-collate", "collated"), "false": ("sheet-collate", "uncollated")},
}


#: CUPS's orientation words, which the product does not take (see _cups_boolean).
CUPS_ORIENTATION_WORDS = frozenset({"landscape", "portrait"})


def parse_option(text: str) -> tuple[str, OptionValue]:
    name, equals, value = text.partition("=")
    if not equals:
        return _cups_boolean(text)
    if not name.strip() or not value.strip():
        raise CommandError(f"-o {text!r}: write options as name=value")
    values = [v.strip() for v in value.split(",")]
    return name.strip(), values[0] if len(values) == 1 else values


def _cups_boolean(word: str) -> tuple[str, OptionValue]:
    """`-o fit-to-page` as fit-to-page=true, `-o nocollate` as collate=false, for the options CUPS
    takes so; any other word without a value is refused."""
    name = word.strip().lower()
    if name in CUPS_ORIENTATION_WORDS:
        # orientation-requested is the product's own, set from the pages and n-up: taken as
        # an attribute, it would only ever be refused as one the printer does not offer.
        raise CommandError(
            f"-o {word!r}: each page prints as the document lays it out, turned to suit the "
            "paper; lp takes no orientation (rotate the document itself)"
        )
    if "true" in CUPS_BOOLEAN_OPTIONS.get(name, {}):
        return name, "true"
    if name.startswith("no") and "false" in CUPS_BOOLEAN_OPTIONS.get(name[2:], {}):
        return name[2:], "false"
    without_value = sorted(
        f"no{option}" if value == "false" else option
        for option, meanings in CUPS_BOOLEAN_OPTIONS.items()
        for value in meanings
    )
    raise CommandError(
        f"-o {word!r}: write options as name=value (without a value, lp takes "
        f"{', '.join(without_value)})"
    )


#: The size names CUPS's lp takes for `-o media=` (its legacy names, cups/pwg-media.c), as the
#: PWG names printers offer: `-o media=A4` is what admins type.
CUPS_MEDIA_NAMES = {
    "a3": "iso_a3_297x420mm",
    "a4": "iso_a4_210x297mm",
    "a5": "iso_a5_148x210mm",
    "a6": "iso_a6_105x148mm",
    "executive": "na_executive_7.25x10.5in",
    "ledger": "na_ledger_11x17in",
    "legal": "na_legal_8.5x14in",
    "letter": "na_letter_8.5x11in",
    "tabloid": "na_ledger_11x17in",
}


def wait_seconds(text: str) -> float:
    """`--timeout`: how long --wait waits, a number of seconds above zero."""
    try:
        seconds = float(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < seconds < float("inf"):
        raise ArgumentTypeError(f"{text}: give a number of seconds above zero")
    return seconds


def copies(text: str) -> int:
    """`-n`: a whole number from 1 to MAX_COPIES, as a release allows."""
    try:
        count = int(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= count <= MAX_COPIES:
        raise ArgumentTypeError(f"{count} copies: give 1 to {MAX_COPIES}")
    return count


def _job_sheets_as_ours(job_options: JobOptions) -> None:
    """CUPS's `-o job-sheets=START[,END]` (banner names: none, standard, classified...) as our
    own job sheets, which the product makes and the printer's rule file prices: a start sheet
    for a START other than none, an end sheet for such an END. IPP's job-sheets itself is never
    sent (a banner nobody pays for)."""
    banners = job_options.pop("job-sheets", None)
    if banners is None:
        return
    if JOB_SHEETS in job_options:
        raise CommandError(f"-o job-sheets and -o {JOB_SHEETS} are the same: give one")
    values = [banners] if isinstance(banners, str) else banners
    start, end = values[0], values[1] if len(values) > 1 else "none"
    sheets = [
        keyword
        for banner, keyword in ((start, "job-start-sheet"), (end, "job-end-sheet"))
        if banner.lower() != "none"
    ]
    if sheets:
        job_options[JOB_SHEETS] = sheets[0] if len(sheets) == 1 else sheets


def _cups_booleans_as_ours(job_options: JobOptions) -> None:
    """CUPS's boolean options (`-o fit-to-page`, `-o collate=false`) replaced in the options by
    the attributes they stand for; one given with that attribute otherwise is refused."""
    for name, meanings in CUPS_BOOLEAN_OPTIONS.items():
        value = job_options.pop(name, None)
        if value is None:
            continue
        typed = value if isinstance(value, str) else ",".join(value)
        meaning = meanings.get(typed.lower())
        if meaning is None:
            forms = " or ".join(f"-o no{name}" if v == "false" else f"-o {name}" for v in meanings)
            raise CommandError(f"-o {name}={typed}: write {forms}")
        attribute, attribute_value = meaning
        if attribute in job_options:  # -o fit-to-page -o print-scaling=none
            before = job_options[attribute]
            written = before if isinstance(before, str) else ",".join(before)
            raise CommandError(
                f"-o {name} and -o {attribute}={written} both set {attribute}: give one"
            )
        job_options[attribute] = attribute_value


def _from_option_too(
    given: T | None,
    job_options: JobOptions,
    flag: str,
    attribute: str,
    convert: Callable[[str], T],
    *,
    default: T,
) -> T:
    """-n or -P, or the IPP attribute CUPS's lp takes for it as well (-o copies=N,
    -o page-ranges=...), taken out of the options: a job's copies and pages are its own, and
    a release refuses them as options."""
    option = job_options.pop(attribute, None)
    if option is None:
        return default if given is None else given
    text = option if isinstance(option, str) else ",".join(option)
    try:
        value = convert(text)
    except ArgumentTypeError as error:
        raise CommandError(f"-o {attribute}={text}: {error}") from None
    if given is not None and given != value:
        raise CommandError(f"{flag} {given} and -o {attribute}={text} differ: give one")
    return value


class Command(BaseCommand):
    help = (
        "Send documents (PDF, PostScript, JPEG, PNG, plain text) to a printer for a user, one "
        "job each: held in their inbox, or released at once."
    )
    # call_command(..., stdin=...) in tests, as for createsuperuser.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "files",
            nargs="*",
            metavar="FILE",
            help=(
                "the documents, one job (several files are its documents, as with CUPS); "
                "none, or -, reads standard input"
            ),
        )
        parser.add_argument("-U", dest="user", required=True, help="the user printing")
        parser.add_argument(
            "-d",
            dest="printer",
            help="the printer, or a printer group for follow-me (needed with -H immediate)",
        )
        parser.add_argument(
            "-n", dest="copies", type=copies, help=f"copies, 1 to {MAX_COPIES} (default: 1)"
        )
        parser.add_argument(
            "-o",
            dest="options",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=(
                "an IPP attribute or org.savapage-* option the printer offers (NAME=A,B for "
                "several values; several options in one -o separated by spaces), or CUPS's "
                "fit-to-page, collate, nocollate; repeatable"
            ),
        )
        parser.add_argument(
            "-P", dest="pages", help="the pages to print, e.g. 1-3,5 (default: all)"
        )
        parser.add_argument(
            "-t", dest="title", default="", help="the job's title (default: the file's name)"
        )
        parser.add_argument(
            "-H",
            dest="hold",
            choices=("hold", "immediate"),
            default="hold",
            help="hold (the default): in the user's inbox until released; immediate: print now",
        )
        parser.add_argument("--account", help="a shared account to charge instead of the user's")
        parser.add_argument(
            "--wait",
            action="store_true",
            help="with -H immediate: wait for the end; exit 1 unless every job completed",
        )
        parser.add_argument(
            "--timeout", type=wait_seconds, default=600, help="seconds --wait waits (default: 600)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["user"])
        except User.DoesNotExist:
            raise CommandError(f"there is no user called {options['user']!r}") from None
        refusal = printing_refusal(user)
        if refusal is not None:  # refused before anything is held
            raise CommandError(refusal)
        job_options = dict(option for text in options["options"] for option in parse_options(text))
        media = job_options.get("media")
        if isinstance(media, str):
            job_options["media"] = CUPS_MEDIA_NAMES.get(media.lower(), media)
        _job_sheets_as_ours(job_options)
        _cups_booleans_as_ours(job_options)
        options["copies"] = _from_option_too(
            options["copies"], job_options, "-n", "copies", copies, default=1
        )
        options["pages"] = _from_option_too(
            options["pages"], job_options, "-P", "page-ranges", str, default=""
        )
        destination = options["printer"]
        if options["hold"] == "immediate" and not destination:
            raise CommandError("-H immediate needs a printer: add -d PRINTER")
        if options["wait"] and options["hold"] != "immediate":
            # A held job ends only once released in the portal, or when it expires.
            raise CommandError(
                "--wait needs -H immediate: a held job is not printed until released"
            )
        if destination:
            named = printer_named(destination) or printer_group_named(destination)
            if named is None:
                raise CommandError(f"there is no printer or printer group called {destination!r}")
            # As it is stored: `-d office` for printer "Office" names "Office" in request ids.
            destination = named.name
        files: list[str] = options["files"]
        if STDIN in files and len(files) > 1:
            raise CommandError("cannot print from standard input (-) together with files")
        paths = [Path(name) for name in files if name != STDIN]
        for path in paths:
            if path.is_dir():
                raise CommandError(f"{path}: is a directory, not a file")
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            if path.stat().st_size > max_document_bytes():
                raise CommandError(
                    f"{path}: larger than the {settings.MAX_DOCUMENT_MB} MB a document may be "
                    "(MAX_DOCUMENT_MB)"
                )
        try:
            jobs = [self._hold(user, paths, job_options, options)]
        except KeyboardInterrupt:
            # Ctrl-C while a document converts: one line, not a traceback, and nothing held.
            raise CommandError("interrupted: nothing was held", returncode=130) from None
        if options["hold"] != "immediate":
            # Held, the jobs wait in the inbox; their request ids still name the destination.
            for job in jobs:
                self.stdout.write(f"request id is {destination or 'inbox'}-{job.pk}")
            return
        try:
            released = self._release(jobs, user, destination, job_options, options)
        except KeyboardInterrupt:
            # A release is one transaction: each job is either released or still held.
            held = list(
                Job.objects.filter(pk__in=[job.pk for job in jobs], state=JobState.HELD)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            what = (
                ", ".join(f"job {pk}" for pk in held) + (" stays" if len(held) == 1 else " stay")
                if held
                else "every job was released; none is"
            )
            raise CommandError(f"interrupted: {what} held", returncode=130) from None
        if options["wait"]:
            self._wait(released, options["timeout"])

    def _hold(
        self, user: User, paths: list[Path], job_options: JobOptions, options: dict[str, Any]
    ) -> Job:
        """The files (or standard input) held in the user's inbox as one job, all of them or
        none."""
        try:
            with tempfile.TemporaryDirectory(prefix="lp-") as workdir:
                documents = [
                    self._as_pdf(path, Path(workdir) / str(index), options["title"])
                    for index, path in enumerate(paths)
                ]
                if not paths:
                    stdin = options.get("stdin") or sys.stdin.buffer
                    documents.append(self._stdin_as_pdf(stdin, Path(workdir), options["title"]))
                return job_create_held_together(
                    user,
                    documents,
                    title=options["title"],
                    source=JobSource.COMMAND,
                    options=job_options,
                    copies=options["copies"],
                    page_ranges=options["pages"],
                )
        except DocumentError as error:
            raise CommandError(str(error)) from None

    def _release(
        self,
        jobs: list[Job],
        user: User,
        destination: str,
        job_options: JobOptions,
        options: dict[str, Any],
    ) -> list[int]:
        """Release each job; the ids of those released. Raises CommandError naming every job
        that stays held, and why."""
        released, refusals = [], []
        for job in jobs:
            try:
                printer = self._printer(destination, job, user, job_options, options)
                account_id = account_resolve(options["account"]).pk if options["account"] else None
                job_release(
                    job.pk,
                    user,
                    printer.pk,
                    job_options,
                    copies=options["copies"],
                    # -P as held: cut at this document's last page.
                    page_ranges=job.page_ranges,
                    account_id=account_id,
                )
            except (ReleaseRefused, AccountError) as error:
                refusals.append(f"job {job.pk} stays held: {error}")
                continue
            released.append(job.pk)
            self.stdout.write(f"request id is {printer.name}-{job.pk}")
        if refusals:
            raise CommandError("; ".join(refusals))
        return released

    def _as_pdf(self, path: Path, workdir: Path, title: str) -> DocumentToHold:
        """A file as a PDF to hold: any format the inbox takes, recognised by its content, as
        lp's filters do."""
        workdir.mkdir()
        try:
            pdf = to_pdf(path, OCTET_STREAM, workdir)
        except DocumentError as error:
            raise DocumentError(f"{path}: {error}") from None
        # A converted copy is ours to move into the spool; the user's file is not.
        return DocumentToHold(pdf, title or path.name, str(path), move=pdf != path)

    def _stdin_as_pdf(self, stdin: BinaryIO, workdir: Path, title: str) -> DocumentToHold:
        """Standard input as a PDF to hold, refused past MAX_DOCUMENT_MB as a file is."""
        received = workdir / "stdin"
        with received.open("wb") as file:
            copied = 0
            while chunk := stdin.read(STDIN_CHUNK_BYTES):
                copied += len(chunk)
                if copied > max_document_bytes():
                    raise DocumentError(
                        f"{STDIN_NAME}: larger than the {settings.MAX_DOCUMENT_MB} MB a document "
                        "may be (MAX_DOCUMENT_MB)"
                    )
                file.write(chunk)
        try:
            pdf = to_pdf(received, OCTET_STREAM, workdir)
        except DocumentError as error:
            raise DocumentError(f"{STDIN_NAME}: {error}") from None
        return DocumentToHold(pdf, title or STDIN_NAME, STDIN_NAME, move=True)

    def _printer(
        self, name: str, job: Job, user: User, job_options: JobOptions, options: dict[str, Any]
    ) -> Printer:
        """The printer called `name`, or for a printer group the one follow-me picks."""
        printer = printer_named(name)
        if printer is not None:
            return printer
        group = printer_group_named(name)
        if group is None:  # removed since the destination was checked
            raise CommandError(f"there is no printer or printer group called {name!r}")
        return printer_for_group(
            job, user, group, job_options, copies=options["copies"], page_ranges=job.page_ranges
        )

    def _wait(self, job_ids: list[int], timeout: float) -> None:
        """Wait until every job has ended; fail (exit 1) unless all of them completed."""
        deadline = time.monotonic() + timeout
        jobs = list(Job.objects.filter(pk__in=job_ids).order_by("pk"))
        going_on = jobs
        try:
            while going_on := [job for job in jobs if job.state not in TERMINAL_STATES]:
                if time.monotonic() > deadline:
                    # With what the job is waiting for: a printer that cannot be reached, say.
                    raise CommandError(
                        "; ".join(
                            f"job {job.pk} is still {job.state} after {timeout:.0f}s"
                            + (f" ({job.message})" if job.message else "")
                            for job in going_on
                        )
                    )
                time.sleep(WAIT_POLL_SECONDS)
                jobs = list(Job.objects.filter(pk__in=job_ids).order_by("pk"))
        except KeyboardInterrupt:
            # Ctrl-C stops the waiting, not the jobs: said in one line, not with a traceback.
            raise CommandError(
                "stopped waiting: "
                + "; ".join(f"job {job.pk} is {job.state} and goes on" for job in going_on),
                returncode=130,
            ) from None
        unprinted = []
        for job in jobs:
            if job.state == JobState.COMPLETED:
                self.stdout.write(f"job {job.pk} completed")
            else:
                detail = f": {job.message}" if job.message else ""
                unprinted.append(f"job {job.pk} ended {job.state}{detail}")
        if unprinted:
            raise CommandError("; ".join(unprinted), returncode=1)
