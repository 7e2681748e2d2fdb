"""`manage.py printer add|import-cups|list|refresh|rename|group`: proxy printers and follow-me
printer groups from the command line."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.printers.choices import PrinterKind, PrinterState
from apps.printers.cups_sync import printer_import_cups
from apps.printers.editing import printer_rename
from apps.printers.groups import printer_group_add, printer_group_delete
from apps.printers.models import Printer, PrinterGroup
from apps.printers.selectors import printer_group_named, printer_named
from apps.printers.services import PrinterError, printer_add, printer_refresh
from apps.rules.services import RuleFileError, rule_file_skips

RELAXED_HELP = (
    "import the rule file as SavaPage does: a line with an error is kept as a comment "
    "naming the problem (listed as a warning), not refused"
)


#: The states in which a printer's state message says why it cannot print.
OUT_OF_USE = frozenset({PrinterState.UNREACHABLE, PrinterState.STOPPED})


class Command(BaseCommand):
    help = (
        "Manage proxy printers: add one by URI, import a CUPS server's queues, list them; "
        "and follow-me printer groups."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="add a printer after asking it what it can do")
        add.add_argument("name")
        add.add_argument("--uri", required=True, help="ipp://HOST:PORT/PATH or ipps://…")
        add.add_argument("--kind", choices=[k.value for k in PrinterKind], help="default: guess")
        add.add_argument("--rules", type=Path, help="a .ppde rule file to import and use")
        add.add_argument("--relaxed", action="store_true", help=RELAXED_HELP)
        add.add_argument("--location", default="")
        add.add_argument(
            "--trust-certificate",
            type=Path,
            metavar="FILE",
            help="the PEM certificate of an ipps:// printer with a self-signed certificate",
        )
        cups = actions.add_parser("import-cups", help="add and sync every queue of a CUPS server")
        cups.add_argument("server_uri", metavar="CUPS-URI")
        cups.add_argument("--rules", type=Path, help="a .ppde rule file for new queues")
        cups.add_argument("--relaxed", action="store_true", help=RELAXED_HELP)
        cups.add_argument(
            "--trust-certificate",
            type=Path,
            metavar="FILE",
            help="the PEM certificate of an ipps:// CUPS server with a self-signed certificate "
            "(kept with its queues: later syncs trust it too)",
        )
        listing = actions.add_parser("list", help="list printers with their state")
        listing.add_argument(
            "--json", action="store_true", help="every field of every printer, as JSON"
        )
        refresh = actions.add_parser("refresh", help="ask a printer again for state and options")
        refresh.add_argument("name")
        rename = actions.add_parser("rename", help="give a printer added by hand another name")
        rename.add_argument("name")
        rename.add_argument("new_name", metavar="NEW-NAME")
        group = actions.add_parser("group", help="follow-me printer groups")
        group_actions = group.add_subparsers(dest="group_action", required=True)
        group_add = group_actions.add_parser(
            "add", help="add printers to a group, making the group when it is new"
        )
        group_add.add_argument("group_name", metavar="NAME")
        group_add.add_argument("printers", metavar="PRINTER", nargs="+")
        group_actions.add_parser("list", help="list the groups with their printers")
        group_remove = group_actions.add_parser("remove", help="remove a group (not its printers)")
        group_remove.add_argument("group_name", metavar="NAME")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except (PrinterError, RuleFileError) as error:
            raise CommandError(str(error)) from None

    def _check_relaxed(self, options: dict[str, Any]) -> None:
        if options["relaxed"] and options["rules"] is None:
            raise CommandError("--relaxed applies to --rules FILE, and none was given")

    def _say_skipped(self, options: dict[str, Any]) -> None:
        """The lines a relaxed import kept as comments, as warnings."""
        if options["relaxed"]:
            for diagnostic in rule_file_skips(options["rules"]):
                self.stderr.write(diagnostic.format())

    @staticmethod
    def _certificate(options: dict[str, Any]) -> str | None:
        """The text of --trust-certificate FILE; None when not given."""
        certificate_file: Path | None = options["trust_certificate"]
        if certificate_file is None:
            return None
        try:
            return certificate_file.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(
                f"{certificate_file}: cannot be read as a PEM certificate ({error})"
            ) from None

    def _add(self, options: dict[str, Any]) -> None:
        trusted_certificate = self._certificate(options) or ""
        self._check_relaxed(options)
        printer = printer_add(
            options["name"],
            options["uri"],
            kind=PrinterKind(options["kind"]) if options["kind"] else None,
            location=options["location"],
            rule_file=options["rules"],
            relaxed_rules=options["relaxed"],
            trusted_certificate=trusted_certificate,
        )
        self._say_skipped(options)
        self.stdout.write(
            f"printer {printer.name} added: {printer.uri} ({printer.get_kind_display()}), "
            f"{printer.get_state_display().lower()}"
        )

    def _import_cups(self, options: dict[str, Any]) -> None:
        trusted_certificate = self._certificate(options)
        self._check_relaxed(options)
        report = printer_import_cups(
            options["server_uri"],
            rule_file=options["rules"],
            relaxed_rules=options["relaxed"],
            trusted_certificate=trusted_certificate,
        )
        self._say_skipped(options)
        for label, names in (
            ("added", report.added),
            ("renamed (settings kept)", [str(renamed) for renamed in report.renamed]),
            ("changed", report.changed),
            ("gone (disabled)", report.gone),
            ("unchanged", report.unchanged),
        ):
            if names:
                self.stdout.write(f"{label}: {', '.join(names)}")
        for skipped in report.skipped:
            self.stdout.write(f"skipped {skipped.name}: {skipped.reason}")
        if not (
            report.added
            or report.renamed
            or report.changed
            or report.gone
            or report.unchanged
            or report.skipped
        ):
            self.stdout.write("the CUPS server has no queues")

    def _list(self, options: dict[str, Any]) -> None:
        printers = (
            Printer.objects.select_related("rule_file")
            .prefetch_related("allowed_groups", "groups")
            .order_by("name")
        )
        rows = [
            {
                "name": p.name,
                "uri": p.uri,
                "kind": p.kind,
                "enabled": p.enabled,
                "gone_from_cups_server": p.gone_from_cups_server,
                "disabled_by_cups_sync": p.disabled_by_cups_sync,
                "state": p.state,
                "state_reasons": p.state_reasons,
                "state_message": p.state_message,
                "location": p.location,
                "rules": p.rule_file.name if p.rule_file else None,
                "cups_server": p.cups_server or None,
                # None: open to everyone with the Staff permission; [] kept for no group.
                "allowed_groups": (
                    sorted(group.name for group in p.allowed_groups.all())
                    if p.restricted_to_groups
                    else None
                ),
                "printer_groups": sorted(group.name for group in p.groups.all()),
                "last_contact": p.last_contact.isoformat() if p.last_contact else None,
            }
            for p in printers
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        if not rows:
            self.stdout.write("there are no printers")
        for row in rows:
            # "(disabled: gone from its CUPS server)", or either alone.
            marks = [
                mark
                for mark, shown in (
                    ("disabled", not row["enabled"]),
                    ("gone from its CUPS server", row["gone_from_cups_server"]),
                )
                if shown
            ]
            enabled = f" ({': '.join(marks)})" if marks else ""
            self.stdout.write(
                f"{row['name']:<20} {row['state']:<12} {row['kind']:<5} {row['uri']}{enabled}"
            )
            # Why it cannot print, on a line of its own under it, as lpstat -p shows it.
            if row["state"] in OUT_OF_USE and row["state_message"]:
                self.stdout.write(f"    {row['state_message']}")

    def _named(self, name: str, columns: tuple[str, ...] = ()) -> Printer:
        printer = printer_named(name, columns=columns)
        if printer is None:
            raise CommandError(f"there is no printer called {name!r}")
        return printer

    def _refresh(self, options: dict[str, Any]) -> None:
        printer = printer_refresh(self._named(options["name"]).pk)
        out_of_use = printer.state in OUT_OF_USE
        why = f" ({printer.state_message})" if out_of_use and printer.state_message else ""
        self.stdout.write(f"{printer.name}: {printer.get_state_display().lower()}{why}")

    def _rename(self, options: dict[str, Any]) -> None:
        printer = self._named(options["name"], columns=("name",))
        former = printer.name
        printer = printer_rename(printer.pk, options["new_name"])
        self.stdout.write(f"printer {former} renamed {printer.name}")

    def _group(self, options: dict[str, Any]) -> None:
        getattr(self, "_group_" + options["group_action"])(options)

    def _group_add(self, options: dict[str, Any]) -> None:
        wanted: list[str] = options["printers"]
        named = {name: printer_named(name) for name in wanted}
        unknown = sorted(name for name, printer in named.items() if printer is None)
        if unknown:
            raise CommandError(f"there is no printer called {', '.join(map(repr, unknown))}")
        printers = [printer for printer in named.values() if printer is not None]
        group = printer_group_add(options["group_name"], printers)
        self.stdout.write(f"printer group {self._group_line(group)}")

    def _group_list(self, options: dict[str, Any]) -> None:
        groups = PrinterGroup.objects.prefetch_related("printers").order_by("name")
        for group in groups:
            self.stdout.write(self._group_line(group))
        if not groups:
            self.stdout.write("there are no printer groups")

    def _group_remove(self, options: dict[str, Any]) -> None:
        group = printer_group_named(options["group_name"])
        if group is None:
            raise CommandError(f"there is no printer group called {options['group_name']!r}")
        printer_group_delete(group.pk)
        self.stdout.write(f"printer group {group.name} removed")

    @staticmethod
    def _group_line(group: PrinterGroup) -> str:
        printers = [
            printer.name if printer.enabled else f"{printer.name} (disabled)"
            for printer in sorted(group.printers.all(), key=lambda printer: printer.name)
        ]
        return f"{group.name}: {', '.join(printers)}"
