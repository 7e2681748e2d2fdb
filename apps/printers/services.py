"""Writes on printers: add by URI (probed), import a CUPS server's queues, refresh state;
follow-me printer groups.

Network I/O (IPP requests) always happens before or after a database transaction, never
inside one.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import ssl
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.printers.choices import PrinterKind, PrinterState
from apps.printers.ipp_client import client_for_uri
from apps.printers.ipp_values import snapshot_of_group
from apps.printers.models import Printer, PrinterGroup, SidePrice
from apps.rules.models import RuleFile
from apps.rules.services import rule_file_import
from printmgmt.ipp import AttributeGroup, IppError
from printmgmt.ipp import PrinterState as IppPrinterState
from printmgmt.ipp.client import http_url

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = 64
#: What CUPS refuses in a queue name besides spaces and control characters; we take every
#: name CUPS takes (up to our 64 characters), so that any queue can be imported as it is.
NAME_REFUSED_CHARACTERS = "/\\?'\"#@"
CUPS_PORT = 631
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
PEM_CERTIFICATE = re.compile(
    r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END CERTIFICATE-----"
)
PRINTER_STATES = {
    IppPrinterState.IDLE: PrinterState.IDLE,
    IppPrinterState.PROCESSING: PrinterState.PROCESSING,
    IppPrinterState.STOPPED: PrinterState.STOPPED,
}


#: Printers and printer groups share one namespace: `lp -d NAME` and the portal name either.
_GROUP_HAS_NAME = "a printer group is called {name!r}: a printer needs another name"
_PRINTER_HAS_NAME = "a printer is called {name!r}: a printer group needs another name"
GROUP_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class PrinterError(Exception):
    """A printer action was refused or failed; the message says why and what to do."""


def validate_printer_name(name: str) -> None:
    """CUPS's rule for queue names, within our column, and no leading '-' (our commands take
    the name as an argument, where it would read as an option)."""
    if (
        not name
        or len(name) > NAME_MAX_LENGTH
        or name.startswith("-")
        or any(c.isspace() or not c.isprintable() or c in NAME_REFUSED_CHARACTERS for c in name)
    ):
        raise PrinterError(
            f"{name!r} is not a usable printer name: at most {NAME_MAX_LENGTH} characters, "
            f"no spaces, control characters or any of {NAME_REFUSED_CHARACTERS}, "
            "and not starting with '-'"
        )


def validate_printer_uri(uri: str) -> None:
    """Refuse what the IPP client could not connect to, naming what is wrong with it."""
    usage = "use ipp://HOST[:PORT]/PATH or ipps://…"
    if any(character.isspace() or not character.isprintable() for character in uri):
        raise PrinterError(
            f"{uri!r} is not a printer URI: it contains a space or a control character; {usage}"
        )
    try:
        parts = urlsplit(uri)
    except ValueError as error:  # an IPv6 host without its closing bracket, …
        raise PrinterError(
            f"{uri!r} is not a printer URI: its host is not valid ({error})"
        ) from None
    if parts.scheme not in {"ipp", "ipps"} or not parts.hostname:
        raise PrinterError(f"{uri!r} is not a printer URI: {usage}")
    try:
        port = parts.port
    except ValueError:  # not a number, or past 65535
        port = 0
    if port == 0:
        raise PrinterError(
            f"{uri!r} is not a printer URI: the port must be a number from 1 to 65535"
        )
    try:
        httpx.URL(http_url(uri)).host  # noqa: B018 - the host is checked (IDNA) when read
    except (ValueError, httpx.InvalidURL) as error:
        raise PrinterError(f"{uri!r} is not a printer URI ({error}): {usage}") from None


def checked_trusted_certificate(text: str) -> str:
    """The certificates of a PEM text, as kept with a printer ("" for none); PrinterError when
    there is none, one is not a certificate OpenSSL can read, or the text holds a private key
    (it is never wanted here, and it would be kept in the database)."""
    if not text.strip():
        return ""
    if "PRIVATE KEY-----" in text:
        raise PrinterError(
            "the trusted certificate holds a private key: give only the printer's certificate "
            "(-----BEGIN CERTIFICATE----- …), never its key"
        )
    blocks = PEM_CERTIFICATE.findall(text)
    if not blocks:
        raise PrinterError(
            "the trusted certificate is not a PEM certificate: it must hold "
            "-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----"
        )
    pem = "\n".join(blocks) + "\n"
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=pem)
    except ssl.SSLError as error:
        raise PrinterError(
            "the trusted certificate is not a certificate OpenSSL can read "
            f"({error.reason or error})"
        ) from None
    return pem


def guess_kind(uri: str) -> PrinterKind:
    """A URI on a CUPS server (/printers/NAME or /classes/NAME) is a CUPS queue."""
    path = urlsplit(uri).path
    if path.startswith(("/printers/", "/classes/")):
        return PrinterKind.CUPS_QUEUE
    return PrinterKind.DRIVERLESS


@dataclass(frozen=True)
class ProbeResult:
    state: PrinterState
    state_reasons: list[str]
    state_message: str
    capabilities: dict[str, list[object]]


def probe(uri: str, *, trusted_certificate: str = "") -> ProbeResult:
    """Ask a printer what it is and can do. Raises PrinterError with the printer's answer,
    or naming what is wrong with the URI or the certificate."""
    validate_printer_uri(uri)
    trusted_certificate = checked_trusted_certificate(trusted_certificate)
    try:
        with client_for_uri(uri, trusted_certificate=trusted_certificate) as client:
            group = client.get_printer_attributes(("all", "media-col-database"))
    except IppError as error:
        raise PrinterError(f"{uri}: {error}") from None
    return _probe_result(group)


def _probe_result(group: AttributeGroup) -> ProbeResult:
    capabilities = snapshot_of_group(group)
    state_value = capabilities.get("printer-state", [None])[0]
    state = PRINTER_STATES.get(state_value, PrinterState.UNKNOWN)
    reasons = [str(r) for r in capabilities.get("printer-state-reasons", [])]
    message = str(capabilities.get("printer-state-message", [""])[0])
    return ProbeResult(state, reasons, message[:500], capabilities)


def _rule_file_of(rule_file: RuleFile | Path | None, *, relaxed: bool) -> RuleFile | None:
    """The rule file to use; a path is a .ppde file, imported and activated here (within the
    caller's transaction, so that nothing is activated when the caller is refused), `relaxed`
    as SavaPage reads it (bad lines kept as comments)."""
    if isinstance(rule_file, Path):
        return rule_file_import(rule_file, relaxed=relaxed).rule_file
    return rule_file


def printer_add(
    name: str,
    uri: str,
    *,
    kind: PrinterKind | None = None,
    location: str = "",
    rule_file: RuleFile | Path | None = None,
    relaxed_rules: bool = False,
    trusted_certificate: str = "",
) -> Printer:
    """Add a printer after probing it: what it supports is known from the first minute.

    `rule_file` may be the path of a .ppde file to import: it is activated together with the
    printer, and not at all when the name, URI, probe or file is refused. `trusted_certificate`
    is the PEM certificate an ipps:// printer's own certificate is checked against."""
    validate_printer_name(name)
    validate_printer_uri(uri)
    trusted_certificate = checked_trusted_certificate(trusted_certificate)
    if Printer.objects.filter(name=name).exists():
        raise PrinterError(f"a printer called {name!r} exists already")
    if PrinterGroup.objects.filter(name=name).exists():
        raise PrinterError(_GROUP_HAS_NAME.format(name=name))
    result = probe(uri, trusted_certificate=trusted_certificate)
    try:
        with transaction.atomic():
            printer = Printer.objects.create(
                name=name,
                uri=uri,
                kind=kind or guess_kind(uri),
                location=location
                or str(result.capabilities.get("printer-location", [""])[0])[:200],
                rule_file=_rule_file_of(rule_file, relaxed=relaxed_rules),
                trusted_certificate=trusted_certificate,
                capabilities=result.capabilities,
                state=result.state,
                state_reasons=result.state_reasons,
                state_message=result.state_message,
                last_contact=timezone.now(),
            )
    except IntegrityError:  # added by someone else while this one was probed
        raise PrinterError(f"a printer called {name!r} exists already") from None
    logger.info("printer %s added: %s (%s)", name, uri, printer.kind)
    return printer


def printer_refresh(printer_id: int) -> Printer:
    """Read a printer's state and capabilities again; an unreachable one is marked so."""
    printer = Printer.objects.get(pk=printer_id)
    try:
        result: ProbeResult | None = probe(
            printer.uri, trusted_certificate=printer.trusted_certificate
        )
        failure = ""
    except PrinterError as error:
        result, failure = None, str(error)
    with transaction.atomic():
        printer = Printer.objects.select_for_update().get(pk=printer_id)
        if result is None:
            printer.state = PrinterState.UNREACHABLE
            printer.state_message = failure[:500]
            printer.save(update_fields=["state", "state_message"])
        else:
            printer.state = result.state
            printer.state_reasons = result.state_reasons
            printer.state_message = result.state_message
            printer.capabilities = result.capabilities
            printer.last_contact = timezone.now()
            printer.save(
                update_fields=[
                    "state",
                    "state_reasons",
                    "state_message",
                    "capabilities",
                    "last_contact",
                ]
            )
    return printer


@dataclass
class CupsSyncReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[SkippedQueue] = field(default_factory=list)


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
    server_uri: str, *, rule_file: RuleFile | Path | None = None, relaxed_rules: bool = False
) -> CupsSyncReport:
    """Make our CUPS-queue printers of `server_uri` match its queues: new, changed, gone.

    Gone queues are disabled, not deleted: their job history stays. New queues get
    `rule_file`; a path is a .ppde file imported together with the sync (not at all when the
    server cannot be asked or the file is refused).
    """
    validate_printer_uri(server_uri)
    try:
        with client_for_uri(server_uri) as client:
            queues = client.cups_get_printers(
                ("printer-name", "printer-uri-supported", "printer-location")
            )
    except IppError as error:
        raise PrinterError(f"{server_uri}: {error}") from None
    found: dict[str, tuple[str, str]] = {}
    for queue in queues:
        name_attribute, uri_attribute = (
            queue.get("printer-name"),
            queue.get("printer-uri-supported"),
        )
        if name_attribute is None or uri_attribute is None:
            continue
        location_attribute = queue.get("printer-location")
        found[str(name_attribute.value)] = (
            _queue_uri(server_uri, str(uri_attribute.value)),
            str(location_attribute.value) if location_attribute is not None else "",
        )
    unusable = {name: _name_refusal(name) for name in found}
    probes = {name: _probe_or_none(uri) for name, (uri, _) in found.items() if not unusable[name]}

    server, server_key = _cups_server_uri(server_uri), cups_server_key(server_uri)
    report = CupsSyncReport()
    with transaction.atomic():
        new_queues_rule_file = _rule_file_of(rule_file, relaxed=relaxed_rules)
        existing = {
            printer.name: printer
            for printer in Printer.objects.select_for_update().exclude(cups_server="")
            if cups_server_key(printer.cups_server) == server_key
        }
        for name, (uri, location) in sorted(found.items()):
            printer = existing.get(name)
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
                            **_probe_fields(probes[name]),
                        )
                except IntegrityError:  # another import of the server (a double click)
                    report.skipped.append(SkippedQueue(name, "it was added meanwhile"))
                    continue
                report.added.append(name)
                continue
            # Only a queue this sync disabled as gone is enabled again: an administrator's
            # disabling stays.
            back = not printer.enabled and printer.gone_from_cups_server
            changed = printer.uri != uri or printer.location != location[:200] or back
            # Kept as written this time: the periodic sync asks the server at this address.
            printer.uri, printer.location, printer.cups_server = uri, location[:200], server
            if back:
                printer.enabled, printer.gone_from_cups_server = True, False
            for attribute, value in _probe_fields(probes[name]).items():
                setattr(printer, attribute, value)
            printer.save()
            (report.changed if changed else report.unchanged).append(name)
        for name, printer in existing.items():
            if name not in found and printer.enabled:
                printer.enabled, printer.gone_from_cups_server = False, True
                printer.state_message = "the queue no longer exists on its CUPS server"
                printer.save(update_fields=["enabled", "gone_from_cups_server", "state_message"])
                report.gone.append(name)
    logger.info("CUPS import from %s: %s", server_uri, report)
    return report


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
    if PrinterGroup.objects.filter(name=name).exists():
        return _GROUP_HAS_NAME.format(name=name)
    other = Printer.objects.filter(name=name).first()
    if other is None:
        return ""
    where = f"a queue of {other.cups_server}" if other.cups_server else "added by hand"
    return f"a printer called {name!r} exists already ({where}): rename one of them"


def _probe_or_none(uri: str) -> ProbeResult | None:
    try:
        return probe(uri)
    except PrinterError as error:
        logger.warning("probe failed: %s", error)
        return None


def _probe_fields(result: ProbeResult | None) -> dict[str, object]:
    if result is None:
        return {"state": PrinterState.UNREACHABLE}
    return {
        "state": result.state,
        "state_reasons": result.state_reasons,
        "state_message": result.state_message,
        "capabilities": result.capabilities,
        "last_contact": timezone.now(),
    }


@dataclass(frozen=True)
class SidePriceRow:
    media: str
    color: bool
    media_source: str
    one_sided: Decimal
    two_sided: Decimal


def printer_update(
    printer_id: int,
    *,
    location: str,
    allowed_groups: Iterable[Group] | None,
    rule_file: RuleFile | None,
    enabled: bool,
    side_prices: Iterable[SidePriceRow],
    trusted_certificate: str,
) -> Printer:
    """Change what an admin may change of a printer (its address is changed by removing it),
    with its price table (the per-side prices used without media cost rules).

    `allowed_groups` None opens the printer to everyone with the Staff permission; a list
    keeps it for those groups (an empty one: for nobody but superusers).

    All or nothing: everything is checked before anything is written, in one transaction."""
    location = location.strip()
    if len(location) > 200:
        raise PrinterError("the location is longer than 200 characters")
    rows = _checked_side_prices(side_prices)
    trusted_certificate = checked_trusted_certificate(trusted_certificate)
    with transaction.atomic():
        printer = Printer.objects.select_for_update().get(pk=printer_id)
        printer.location = location
        printer.rule_file = rule_file
        printer.trusted_certificate = trusted_certificate
        if enabled != printer.enabled:
            # The administrator decided: a later CUPS sync leaves it as it is now.
            printer.enabled, printer.gone_from_cups_server = enabled, False
        printer.restricted_to_groups = allowed_groups is not None
        printer.save(
            update_fields=[
                "location",
                "rule_file",
                "enabled",
                "gone_from_cups_server",
                "restricted_to_groups",
                "trusted_certificate",
            ]
        )
        printer.allowed_groups.set(list(allowed_groups or ()))
        printer.side_prices.all().delete()
        SidePrice.objects.bulk_create(SidePrice(printer=printer, **asdict(row)) for row in rows)
    logger.info(
        "printer %s changed (enabled=%s, rule file=%s, %d prices)",
        printer.name,
        enabled,
        rule_file,
        len(rows),
    )
    return printer


def _checked_side_prices(rows: Iterable[SidePriceRow]) -> list[SidePriceRow]:
    """The rows as they will be stored (trimmed); PrinterError naming the first bad one."""
    checked: list[SidePriceRow] = []
    seen: set[tuple[str, bool, str]] = set()
    for row in rows:
        media, media_source = row.media.strip(), row.media_source.strip()
        if not media:
            raise PrinterError("every price needs a media size, e.g. iso_a4_210x297mm")
        if row.one_sided < 0 or row.two_sided < 0:
            raise PrinterError(f"{media}: prices cannot be negative")
        key = (media, row.color, media_source)
        if key in seen:
            colour = "colour" if row.color else "grey"
            tray = f"tray {media_source}" if media_source else "every tray"
            raise PrinterError(
                f"the price table names {media}, {colour}, {tray} twice: keep one of the rows"
            )
        seen.add(key)
        checked.append(SidePriceRow(media, row.color, media_source, row.one_sided, row.two_sided))
    return checked


def printer_disable(printer_id: int) -> Printer:
    """An administrator takes a printer out of use: nobody can release to it, jobs released
    to it and not yet sent are not sent (they fail with a refund), and a CUPS sync does not
    enable it again."""
    with transaction.atomic():
        printer = Printer.objects.select_for_update().get(pk=printer_id)
        printer.enabled, printer.gone_from_cups_server = False, False
        printer.save(update_fields=["enabled", "gone_from_cups_server"])
    logger.info("printer %s disabled", printer.name)
    return printer


# ------------------------------------------------------------------------- printer groups


def printer_group_create(name: str, printers: Iterable[Printer]) -> PrinterGroup:
    """A follow-me group: a job released to it prints on the first of its printers that the
    user may use and that can print it."""
    name = name.strip()
    if not GROUP_NAME_PATTERN.match(name):
        raise PrinterError(
            f"{name!r} is not a usable printer group name: letters, digits, '-' and '_' "
            "(at most 64, starting with a letter or digit)"
        )
    members = _group_members(printers)
    if Printer.objects.filter(name=name).exists():
        raise PrinterError(_PRINTER_HAS_NAME.format(name=name))
    try:
        with transaction.atomic():
            group = PrinterGroup.objects.create(name=name)
            group.printers.set(members)
    except IntegrityError:
        raise PrinterError(f"a printer group called {name!r} exists already") from None
    logger.info("printer group %s made: %s", name, ", ".join(p.name for p in members))
    return group


def printer_group_add(name: str, printers: Iterable[Printer]) -> PrinterGroup:
    """Add printers to the group called `name`, making the group when there is none."""
    group = PrinterGroup.objects.filter(name=name.strip()).first()
    if group is None:
        return printer_group_create(name, printers)
    members = _group_members(printers)
    group.printers.add(*members)
    logger.info("printer group %s: added %s", group.name, ", ".join(p.name for p in members))
    return group


def printer_group_printers_set(group_id: int, printers: Iterable[Printer]) -> PrinterGroup:
    """Make a group's printers exactly `printers`."""
    members = _group_members(printers)
    with transaction.atomic():
        group = PrinterGroup.objects.select_for_update().get(pk=group_id)
        group.printers.set(members)
    logger.info("printer group %s: %s", group.name, ", ".join(p.name for p in members))
    return group


def printer_group_delete(group_id: int) -> PrinterGroup:
    """Remove a group; its printers, and the jobs printed through it, stay."""
    group = PrinterGroup.objects.get(pk=group_id)
    group.delete()
    logger.info("printer group %s removed", group.name)
    return group


def _group_members(printers: Iterable[Printer]) -> list[Printer]:
    members = list(printers)
    if not members:
        raise PrinterError("a printer group needs at least one printer")
    return members
