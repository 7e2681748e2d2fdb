"""Importing a CUPS server's queues as printers, and keeping them in sync (new, changed, gone).

Every queue is probed before the database transaction that records them, never inside it.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.printers.choices import PrinterKind, PrinterState
from apps.printers.ipp_client import client_for_uri
from apps.printers.models import Printer, PrinterGroup
from apps.printers.services import (
    PrinterError,
    PrinterUnreachable,
    checked_trusted_certificate,
    group_has_name,
    name_taken,
    probe_fields,
    probes_at_once,
    rule_file_of,
    validate_printer_name,
    validate_printer_uri,
)
from apps.rules.models import RuleFile
from printmgmt.ipp import AttributeGroup, IppError, IppStatusError, IppTransportError, Status

logger = logging.getLogger(__name__)

CUPS_PORT = 631
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


@dataclass
class CupsSyncReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[SkippedQueue] = field(default_factory=list)
    renamed: list[RenamedQueue] = field(default_factory=list)


@dataclass(frozen=True)
class RenamedQueue:
    """A queue renamed on its CUPS server: the printer of its old name took the new one."""

    former_name: str
    name: str

    def __str__(self) -> str:
        return f"{self.former_name} → {self.name}"


@dataclass(frozen=True)
class Device:
    """What tells a queue's device, as CUPS reports it ("" for what it does not)."""

    uuid: str
    device_uri: str
    make_and_model: str

    def same_as(self, other: Device) -> bool:
        """Evidently the same device: the same printer-uuid, else the same device-uri and
        make and model. Different uuids do not tell devices apart: CUPS gives every queue it
        makes a new random one, and a queue renamed there is made anew."""
        if self.uuid and self.uuid == other.uuid:
            return True
        return bool(self.device_uri and self.make_and_model) and (
            (self.device_uri, self.make_and_model) == (other.device_uri, other.make_and_model)
        )


DEVICE_ATTRIBUTES = ("printer-uuid", "device-uri", "printer-make-and-model")


def _device_of(values: Callable[[str], str]) -> Device:
    uuid, device_uri, make_and_model = (values(name) for name in DEVICE_ATTRIBUTES)
    return Device(uuid, device_uri, make_and_model)


def _device_of_printer(printer: Printer) -> Device:
    """The device a printer was on when it was last asked (its capabilities)."""
    return _device_of(lambda name: str((printer.capabilities.get(name) or [""])[0]))


@dataclass(frozen=True)
class FoundQueue:
    uri: str
    location: str
    device: Device


@dataclass(frozen=True)
class SkippedQueue:
    """A queue of the CUPS server that was not imported, and why."""

    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name} ({self.reason})"


def cups_server_key(uri: str) -> tuple[str, int] | None:
    """Which CUPS server a URI names, however it is written: scheme, path and a trailing '/'
    do not matter, the port is 631 unless given, and every loopback name and address is this
    host. None for a URI that names none."""
    try:
        parts = urlsplit(uri)
        port = parts.port or CUPS_PORT
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return None
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host in LOOPBACK_NAMES or host.endswith(".localhost")
    return ("localhost" if loopback else host, port)


#: What a printer (not a CUPS server) answers CUPS-Get-Printers, an operation of CUPS's own:
#: ippeveprinter says bad-request, a driverless printer operation-not-supported.
_NOT_A_CUPS_SERVER = frozenset(
    {Status.CLIENT_ERROR_BAD_REQUEST, Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED}
)


def _cups_server_uri(uri: str) -> str:
    """The server's URI as kept with its queues: its root, whatever path was given."""
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))


def _queue_uri(server_uri: str, queue_uri: str) -> str:
    """A queue's URI as reachable from here: CUPS reports its own host name, which may not
    resolve for us, so keep the server's host and port and take the queue's path."""
    server, queue = urlsplit(server_uri), urlsplit(queue_uri)
    return urlunsplit((server.scheme, server.netloc, queue.path, "", ""))


def printer_import_cups(
    server_uri: str,
    *,
    rule_file: RuleFile | Path | None = None,
    relaxed_rules: bool = False,
    trusted_certificate: str | None = None,
) -> CupsSyncReport:
    """Make our CUPS-queue printers of `server_uri` match its queues: new, changed, gone.

    Gone queues are disabled, not deleted: their job history stays. New queues get
    `rule_file`; a path is a .ppde file imported together with the sync (not at all when the
    server cannot be asked or the file is refused).

    `trusted_certificate` is the PEM certificate an ipps:// server's own is checked against
    (a self-signed one), given to all its queues; None: the one its queues have already.
    """
    validate_printer_uri(server_uri)
    server, server_key = _cups_server_uri(server_uri), cups_server_key(server_uri)
    given_certificate = trusted_certificate is not None
    trusted_certificate = (
        checked_trusted_certificate(trusted_certificate)
        if trusted_certificate is not None
        else _server_certificate(server_key)
    )
    try:
        with client_for_uri(server_uri, trusted_certificate=trusted_certificate) as client:
            queues = client.cups_get_printers(
                ("printer-name", "printer-uri-supported", "printer-location", *DEVICE_ATTRIBUTES)
            )
    except IppStatusError as error:
        # CUPS answers so when it has no queue left ("No destinations added."): its last
        # queues are gone, not the server.
        if error.status_code in _NOT_A_CUPS_SERVER:
            raise PrinterError(
                _(
                    "%(uri)s is not a CUPS server: it does not list print queues (%(error)s). "
                    "A printer is added by its own address with Add a printer (`printer add`)"
                )
                % {"uri": server_uri, "error": error},
                about=PrinterError.ADDRESS,
            ) from None
        if error.status_code != Status.CLIENT_ERROR_NOT_FOUND:
            raise PrinterError(f"{server_uri}: {error}", about=PrinterError.ADDRESS) from None
        queues = []
    except IppTransportError as error:
        raise PrinterUnreachable(str(error)) from None  # it names the URI already
    except IppError as error:
        raise PrinterError(f"{server_uri}: {error}", about=PrinterError.ADDRESS) from None
    found: dict[str, FoundQueue] = {}
    for queue in queues:
        name_attribute, uri_attribute = (
            queue.get("printer-name"),
            queue.get("printer-uri-supported"),
        )
        if name_attribute is None or uri_attribute is None:
            continue

        def text(name: str, queue: AttributeGroup = queue) -> str:
            attribute = queue.get(name)
            return str(attribute.value) if attribute is not None else ""

        found[str(name_attribute.value)] = FoundQueue(
            _queue_uri(server_uri, str(uri_attribute.value)),
            text("printer-location"),
            _device_of(text),
        )
    unusable = {name: _name_refusal(name) for name in found}
    usable = [name for name in found if not unusable[name]]
    probes = dict(
        zip(
            usable,
            probes_at_once([(found[name].uri, trusted_certificate) for name in usable]),
            strict=True,
        )
    )

    report = CupsSyncReport()
    with transaction.atomic():
        new_queues_rule_file = rule_file_of(rule_file, relaxed=relaxed_rules)
        # By name whatever its case, as CUPS knows its queues.
        existing = {
            printer.name.lower(): printer
            for printer in Printer.objects.select_for_update().exclude(cups_server="")
            if cups_server_key(printer.cups_server) == server_key
        }
        renamed = _renamed_queues(found, existing, unusable)
        for name, renamed_printer in renamed.items():
            existing[name.lower()] = existing.pop(renamed_printer.name.lower())
        for name, found_queue in sorted(found.items()):
            uri, location = found_queue.uri, found_queue.location
            printer = existing.get(name.lower())
            if printer is None:
                refusal = unusable[name] or _name_taken(name)
                if refusal:
                    report.skipped.append(SkippedQueue(name, refusal))
                    continue
                try:
                    with transaction.atomic():
                        Printer.objects.create(
                            name=name,
                            uri=uri,
                            kind=PrinterKind.CUPS_QUEUE,
                            location=location[:200],
                            cups_server=server,
                            rule_file=new_queues_rule_file,
                            trusted_certificate=trusted_certificate,
                            **probe_fields(probes[name]),
                        )
                except IntegrityError:  # another import of the server (a double click)
                    report.skipped.append(SkippedQueue(name, "it was added meanwhile"))
                    continue
                report.added.append(name)
                continue
            back = printer.gone_from_cups_server
            changed = (
                printer.name != name
                or printer.uri != uri
                or printer.location != location[:200]
                or back
            )
            # Kept as written this time: the periodic sync asks the server at this address.
            printer.uri, printer.location, printer.cups_server = uri, location[:200], server
            former_name, printer.name = printer.name, name  # as CUPS writes it now
            if given_certificate:
                changed = changed or printer.trusted_certificate != trusted_certificate
                printer.trusted_certificate = trusted_certificate
            if back:
                printer.gone_from_cups_server = False
                # Only a sync's disabling is undone: an administrator's stays.
                if printer.disabled_by_cups_sync:
                    printer.enabled, printer.disabled_by_cups_sync = True, False
            for attribute, value in probe_fields(probes[name]).items():
                setattr(printer, attribute, value)
            printer.save()
            if name in renamed:
                logger.warning(
                    "CUPS import from %s: queue %s was renamed %s there (the same device): "
                    "printer %s renamed, its settings and jobs kept",
                    server_uri, former_name, name, former_name,
                )  # fmt: skip
                report.renamed.append(RenamedQueue(former_name, name))
            else:
                (report.changed if changed else report.unchanged).append(name)
        found_names = {name.lower() for name in found}
        for key, printer in existing.items():
            if key in found_names or (printer.gone_from_cups_server and not printer.enabled):
                continue
            # Gone whoever disabled it; disabled by the sync only if it was enabled, so that
            # finding it again undoes no administrator's choice.
            if printer.enabled:
                printer.enabled, printer.disabled_by_cups_sync = False, True
            printer.gone_from_cups_server = True
            # Not the state it had while it existed (idle, say), which nothing refreshes.
            printer.state, printer.state_reasons = PrinterState.UNREACHABLE, []
            printer.state_message = "the queue no longer exists on its CUPS server"
            printer.save(
                update_fields=[
                    "enabled",
                    "disabled_by_cups_sync",
                    "gone_from_cups_server",
                    "state",
                    "state_reasons",
                    "state_message",
                ]
            )
            report.gone.append(printer.name)
    logger.info("CUPS import from %s: %s", server_uri, report)
    return report


def _server_certificate(server_key: tuple[str, int] | None) -> str:
    """The certificate the queues of a server were imported trusting ("" for none)."""
    for printer in Printer.objects.exclude(cups_server="").exclude(trusted_certificate=""):
        if cups_server_key(printer.cups_server) == server_key:
            return printer.trusted_certificate
    return ""


def _renamed_queues(
    found: dict[str, FoundQueue], existing: dict[str, Printer], unusable: dict[str, str]
) -> dict[str, Printer]:
    """New queues (by name) that are a vanished queue renamed on the server: each the only new
    queue evidently on the device of the only vanished printer evidently on its device. Two
    queues of one device that come or go together tell nothing: they are added and gone."""
    found_names = {name.lower() for name in found}
    vanished = [printer for key, printer in existing.items() if key not in found_names]
    new = [
        name
        for name in found
        if name.lower() not in existing and not unusable[name] and not _name_taken(name)
    ]
    devices = {printer.pk: _device_of_printer(printer) for printer in vanished}
    renamed: dict[str, Printer] = {}
    for name in new:
        candidates = [
            printer for printer in vanished if found[name].device.same_as(devices[printer.pk])
        ]
        if len(candidates) != 1:
            continue
        rivals = [other for other in new if found[other].device.same_as(devices[candidates[0].pk])]
        if rivals == [name]:
            renamed[name] = candidates[0]
    return renamed


def _name_refusal(name: str) -> str:
    """Why a queue's name cannot be a printer's name here; empty when it can."""
    try:
        validate_printer_name(name)
    except PrinterError as error:
        return str(error)
    return ""


def _name_taken(name: str) -> str:
    """Why a new queue's name is taken by a printer not of its server, or by a printer group;
    empty when free."""
    if PrinterGroup.objects.filter(name__iexact=name).exists():
        return group_has_name(name)
    other = Printer.objects.filter(name__iexact=name).first()
    if other is None:
        return ""
    where = (
        _("a queue of %(server)s") % {"server": other.cups_server}
        if other.cups_server
        else _("added by hand")
    )
    return _("%(taken)s: rename one of them") % {"taken": name_taken(name, other.name, where)}
