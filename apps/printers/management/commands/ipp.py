"""`manage.py ipp ...`: talk IPP to a printer or CUPS server, or decode a saved message.

    ipp attrs URI [--json] [-a NAME ...]   printer attributes, one `name (syntax) = value` a line
    ipp printers CUPS-URI                  the queues of a CUPS server
    ipp print URI FILE [-o name=value ...] print a file (streamed), prints the job id
    ipp jobs URI [--all]                   the printer's jobs
    ipp cancel URI JOB-ID                  cancel a job
    ipp decode FILE [--json]               decode a saved IPP message

Exit status: 0 on success, 1 when the printer refuses or cannot be reached, 2 when the
input (arguments, file, message) is wrong. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import json
import mimetypes
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from printmgmt.ipp import AttributeGroup, IppDecodeError, IppError, decode
from printmgmt.ipp.client import IppClient
from printmgmt.ipp.names import JobState
from printmgmt.ipp.options import OptionError, attribute_from_option
from printmgmt.ipp.render import (
    attribute_json,
    attribute_line,
    message_json,
    message_lines,
    value_text,
)

EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2


class _Exit(Exception):
    """Leave the command with a one-line message and an exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Command(BaseCommand):
    help = "Query IPP printers and CUPS servers, print files, decode IPP messages."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)

        def network(name: str, help_text: str, uri_help: str = "printer URI") -> ArgumentParser:
            action = actions.add_parser(name, help=help_text)
            action.add_argument("uri", metavar="URI", help=uri_help)
            action.add_argument("--user", help="user name for Basic authentication")
            action.add_argument("--password", help="password for Basic authentication")
            action.add_argument("--ca-file", help="trust this CA or self-signed certificate")
            action.add_argument("--timeout", type=float, default=30.0, help="seconds per call")
            return action

        attrs = network("attrs", "show printer attributes")
        attrs.add_argument("-a", dest="requested", action="append", metavar="NAME")
        attrs.add_argument("--json", action="store_true", help="print JSON")
        network("printers", "list the queues of a CUPS server", "CUPS server URI")
        print_ = network("print", "print a file")
        print_.add_argument("file", metavar="FILE")
        print_.add_argument(
            "-o",
            dest="options",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="a job attribute, e.g. finishings=staple-top-left (repeatable)",
        )
        print_.add_argument("--format", help="document format (default: from the file name)")
        print_.add_argument("--job-name")
        jobs = network("jobs", "list the printer's jobs")
        jobs.add_argument("--all", action="store_true", help="completed jobs too")
        cancel = network("cancel", "cancel a job")
        cancel.add_argument("job_id", type=int, metavar="JOB-ID")
        decode_ = actions.add_parser("decode", help="decode a saved IPP message")
        decode_.add_argument("file", metavar="FILE")
        decode_.add_argument("--json", action="store_true", help="print JSON")
        decode_.add_argument(
            "--response", action="store_true", help="name the status code, not the operation"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "decode":
                self._decode(options)
                return
            actions = {
                "attrs": self._attrs,
                "printers": self._printers,
                "print": self._print,
                "jobs": self._jobs,
                "cancel": self._cancel,
            }
            with self._client(options) as client:
                actions[options["action"]](client, options)
        except _Exit as failure:
            self.stderr.write(str(failure))
            raise SystemExit(failure.status) from None
        except IppError as error:
            self.stderr.write(f"error: {error}")
            raise SystemExit(EXIT_REFUSED) from None

    def _client(self, options: dict[str, Any]) -> IppClient:
        auth = None
        if options["user"]:
            auth = (options["user"], options["password"] or "")
        try:
            return IppClient(
                options["uri"], auth=auth, timeout=options["timeout"], ca_file=options["ca_file"]
            )
        except (ValueError, OSError) as error:
            raise _Exit(f"error: {error}", EXIT_BAD_INPUT) from None

    def _attrs(self, client: IppClient, options: dict[str, Any]) -> None:
        printer = client.get_printer_attributes(options["requested"] or ["all"])
        if options["json"]:
            self.stdout.write(json.dumps([attribute_json(a) for a in printer], indent=2))
            return
        for attribute in printer:
            self.stdout.write(attribute_line(attribute))

    def _printers(self, client: IppClient, options: dict[str, Any]) -> None:
        for queue in client.cups_get_printers():
            fields = ("printer-name", "printer-state", "printer-uri-supported")
            self.stdout.write("\t".join(_first_value(queue, name) for name in fields))

    def _print(self, client: IppClient, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise _Exit(f"error: {path}: no such file", EXIT_BAD_INPUT)
        try:
            attributes = [attribute_from_option(option) for option in options["options"]]
        except OptionError as error:
            raise _Exit(f"error: {error}", EXIT_BAD_INPUT) from None
        document_format = options["format"] or (
            mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        )
        job = client.print_job(
            path,
            job_name=options["job_name"],
            document_format=document_format,
            job_attributes=attributes,
        )
        state = _job_state(job.job_state)
        self.stdout.write(f"job-id {job.job_id} ({state}) {job.job_uri or ''}".rstrip())
        if job.ignored_attributes:
            ignored = ", ".join(job.ignored_attributes)
            self.stderr.write(f"warning: the printer ignored or changed: {ignored}")

    def _jobs(self, client: IppClient, options: dict[str, Any]) -> None:
        for job in client.get_jobs(which_jobs="all" if options["all"] else "not-completed"):
            fields = ("job-id", "job-state", "job-name")
            self.stdout.write("\t".join(_first_value(job, name) for name in fields))

    def _cancel(self, client: IppClient, options: dict[str, Any]) -> None:
        client.cancel_job(options["job_id"])
        self.stdout.write(f"job {options['job_id']} canceled")

    def _decode(self, options: dict[str, Any]) -> None:
        try:
            data = Path(options["file"]).read_bytes()
        except OSError as error:
            raise _Exit(f"{options['file']}: {error.strerror}", EXIT_BAD_INPUT) from None
        try:
            message = decode(data)
        except IppDecodeError as error:
            raise _Exit(str(error), EXIT_BAD_INPUT) from None
        if options["json"]:
            self.stdout.write(json.dumps(message_json(message), indent=2))
            return
        for line in message_lines(message, is_request=not options["response"]):
            self.stdout.write(line)


def _first_value(group: AttributeGroup, name: str) -> str:
    attribute = group.get(name)
    return value_text(name, attribute.values[0]) if attribute is not None else "-"


def _job_state(state: int | None) -> str:
    if state is None:
        return "state unknown"
    try:
        return JobState(state).keyword
    except ValueError:
        return str(state)
