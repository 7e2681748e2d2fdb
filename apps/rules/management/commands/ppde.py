"""`manage.py ppde check FILE...` and `manage.py ppde explain FILE --pages N ...`.

check   prints compiler-style diagnostics and exits 1 when any file has errors.
explain prints what the rules decide for one job (options, violated constraints, outgoing
        attributes, price breakdown); with --json one JSON object. Exits 1 when the job is
        refused or the file does not load.
"""

from __future__ import annotations

import json
import re
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from printmgmt.digits import whole_number
from printmgmt.ppde import PageGeometry, ParseResult, RuleEngine, Severity, parse_bytes
from printmgmt.ppde.explain import Explanation, Json, explain
from printmgmt.ppde.parser import MAX_FILE_BYTES

_RANGE = re.compile(r"\d+-\d+")


class Command(BaseCommand):
    help = "Check rule files (.ppde) and explain what they decide for a job."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        check = actions.add_parser("check", help="report problems in rule files")
        check.add_argument("files", nargs="+", metavar="FILE")
        check.add_argument(
            "--relaxed",
            action="store_true",
            help="read like SavaPage: skip bad lines with a warning",
        )
        show = actions.add_parser("explain", help="show what the rules decide for one job")
        show.add_argument("file", metavar="FILE")
        show.add_argument("--pages", type=int, required=True)
        show.add_argument(
            "--copies", type=int, help="copies to price (default: -o copies=N, else 1)"
        )
        show.add_argument("--target", choices=("ppd", "ipp"), default="ppd")
        show.add_argument(
            "-o",
            dest="attributes",
            action="append",
            default=[],
            metavar="ATTR=VALUE",
            help="a job attribute; VALUE may be a comma-separated list (repeatable)",
        )
        show.add_argument(
            "--printer", metavar="JSON", help="file with the printer's IPP attributes"
        )
        show.add_argument("--orientation", choices=("portrait", "landscape"), default="portrait")
        show.add_argument("--no-booklet-constraints", action="store_true")
        show.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "check":
            self._check(options["files"], strict=not options["relaxed"])
        else:
            self._explain(options)

    # ------------------------------------------------------------------ check

    def _check(self, files: list[str], *, strict: bool) -> None:
        failed = False
        for name in files:
            try:
                result = _load(name, strict=strict)
            except CommandError as error:
                self.stderr.write(f"{name}:1:1: error: {error}")
                failed = True
                continue
            for diagnostic in result.diagnostics:
                stream = self.stderr if diagnostic.severity is Severity.ERROR else self.stdout
                stream.write(diagnostic.format())
            failed = failed or bool(result.errors)
        if failed:
            sys.exit(1)

    # ------------------------------------------------------------------ explain

    def _explain(self, options: dict[str, Any]) -> None:
        attributes = _job_attributes(options["attributes"])
        copies = _copies(options["copies"], attributes.get("copies"))
        if options["pages"] < 0 or copies < 0:
            raise CommandError("--pages and --copies cannot be negative")
        try:
            result = _load(options["file"], strict=True)
        except CommandError as error:
            raise CommandError(f"{options['file']}: {error}") from None
        if result.rules is None:
            for diagnostic in result.diagnostics:
                self.stderr.write(diagnostic.format())
            sys.exit(1)
        explanation = explain(
            RuleEngine(result.rules, booklet_constraints=not options["no_booklet_constraints"]),
            attributes,
            pages=options["pages"],
            copies=copies,
            target=options["target"],
            printer=_printer(options["printer"]),
            geometry=PageGeometry(orientation=options["orientation"]),
        )
        if options["json"]:
            self.stdout.write(json.dumps(explanation.as_dict(), indent=2))
        else:
            self._print(explanation)
        if explanation.refusals:
            sys.exit(1)

    def _print(self, explanation: Explanation) -> None:
        data = explanation.as_dict()
        write = self.stdout.write
        write("Options:")
        for option in _items(data["options"]):
            choices = ", ".join(
                f"{c}*" if c == option["default"] else str(c) for c in _items(option["choices"])
            )
            write(f"  {option['attribute']}: {choices}  [{option['source']}]")
        write("Constraints:")
        for violation in explanation.violations:
            write(f"  VIOLATED {violation.message}")
        if not explanation.violations:
            write("  none violated")
        write(f"Outgoing attributes ({data['target']}):")
        for name, value in _mapping(data["outgoing"]).items():
            write(f"  {name} = {json.dumps(value)}")
        for fired in _items(data["fired"]):
            write(f"  by {fired['kind']} {fired['rule']} (line {fired['line']}): {fired['effect']}")
        if data["withheld"]:
            write("  withheld: " + ", ".join(str(w) for w in _items(data["withheld"])))
        write("Price:")
        for part in _items(data["breakdown"]):
            write(
                f"  {part['scope']:<6} {part['rule']} (line {part['line']}): "
                f"{part['unit_price']} x {part['quantity']} = {part['amount']} {part['note']}"
            )
        write(f"  total {data['total'] if data['total'] is not None else '-'}")
        for reason in explanation.refusals:
            write(f"REFUSED: {reason}")


def _items(value: Json) -> list[Any]:
    return value if isinstance(value, list) else []


def _mapping(value: Json) -> dict[str, Json]:
    return value if isinstance(value, dict) else {}


def _load(name: str, *, strict: bool) -> ParseResult:
    path = Path(name)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            # Read one byte more than allowed: enough for the parser to report the size.
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        else:
            data = path.read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read: {error.strerror or error}") from None
    return parse_bytes(data, filename=name, strict=strict)


def _job_attributes(pairs: list[str]) -> dict[str, str | tuple[str, ...]]:
    attributes: dict[str, str | tuple[str, ...]] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name or not value:
            raise CommandError(f"-o {pair}: write ATTR=VALUE")
        attributes[name] = tuple(value.split(",")) if "," in value else value
    return attributes


def _copies(given: int | None, attribute: str | tuple[str, ...] | None) -> int:
    """Copies to price: --copies, or the job's own `copies` attribute; they must agree."""
    if attribute is None:
        return 1 if given is None else given
    copies = whole_number(attribute) if isinstance(attribute, str) else None
    if copies is None:
        raise CommandError(f"-o copies={attribute}: not a number")
    if given is not None and given != copies:
        raise CommandError(f"--copies {given} and -o copies={attribute} disagree")
    return copies


def _printer(name: str | None) -> dict[str, Any]:
    """Printer attributes from JSON; lists become tuples, as the engine expects."""
    if name is None:
        return {}
    try:
        data = json.loads(Path(name).read_text(encoding="utf-8"))
    except OSError as error:
        raise CommandError(f"{name}: cannot read: {error.strerror or error}") from None
    except ValueError as error:
        raise CommandError(f"{name}: not JSON: {error}") from None
    if not isinstance(data, dict):
        raise CommandError(f"{name}: expected a JSON object of printer attributes")
    return {name: _capability(value) for name, value in data.items()}


def _capability(value: Any) -> Any:
    """JSON lists become tuples and "1-999" becomes a range, as the engine expects."""
    if isinstance(value, list):
        return tuple(_capability(v) for v in value)
    if isinstance(value, str) and _RANGE.fullmatch(value):
        low, high = value.split("-")
        return range(int(low), int(high) + 1)
    return value
