"""Writes on printers: add by URI (probed) and refresh state; editing, renaming and disabling
are in editing, importing a CUPS server's queues in cups_sync, follow-me printer groups in
groups.

Network I/O (IPP requests) always happens before or after a database transaction, never
inside one.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.printers.choices import PrinterKind, PrinterState
from apps.printers.ipp_client import client_for_uri
from apps.printers.ipp_values import snapshot_of_group
from apps.printers.models import Printer, PrinterGroup
from apps.printers.selectors import printer_named
from apps.rules.models import RuleFile
from apps.rules.services import rule_file_import
from printmgmt.ipp import AttributeGroup, IppError, IppTransportError
from printmgmt.ipp import PrinterState as IppPrinterState
from printmgmt.ipp.client import http_url

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = 64
LOCATION_MAX_LENGTH = 200
#: What CUPS refuses in a queue name besides spaces and control characters; we take every
#: name CUPS takes (up to our 64 characters), so that any queue can be imported as it is.
NAME_REFUSED_CHARACTERS = "/\\?'\"#@"
PEM_CERTIFICATE = re.compile(
    r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END CERTIFICATE-----"
)
PRINTER_STATES = {
    IppPrinterState.IDLE: PrinterState.IDLE,
    IppPrinterState.PROCESSING: PrinterState.PROCESSING,
    IppPrinterState.STOPPED: PrinterState.STOPPED,
}


#: Printers asked at once by a refresh: one that does not answer costs the IPP timeout, which
#: one after the other, for a building's printers switched off at night, outlasts the task.
PROBES_AT_ONCE = 8


class PrinterError(Exception):
    """A printer action was refused or failed; the message says why and what to do.
    `about` is what was given that it refuses, so that a form can tell it at that field;
    None when it is about none of them. A price row's MEDIA, ONE_SIDED or TWO_SIDED comes
    with `row`, the row's index among the rows given."""

    NAME, ADDRESS, LOCATION, CERTIFICATE, PRINTERS = (
        "name",
        "address",
        "location",
        "certificate",
        "printers",
    )
    MEDIA, ONE_SIDED, TWO_SIDED = "media", "one_sided", "two_sided"

    def __init__(self, message: str, *, about: str | None = None, row: int | None = None) -> None:
        super().__init__(message)
        self.about = about
        self.row = row


class PrinterUnreachable(PrinterError):
    """The printer (or CUPS server) could not be reached, or did not answer IPP in time."""

    def __init__(self, message: str) -> None:
        super().__init__(message, about=PrinterError.ADDRESS)


def group_has_name(name: str) -> str:
    """Why a printer cannot be called `name`: printers and printer groups share one namespace
    (`lp -d NAME` and the portal name either)."""
    return _("a printer group is called %(name)s: a printer needs another name") % {
        "name": repr(name)
    }


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
            _(
                "%(name)s is not a usable printer name: at most %(most)s characters, no spaces, "
                "control characters or any of %(refused)s, and not starting with '-'"
            )
            % {"name": repr(name), "most": NAME_MAX_LENGTH, "refused": NAME_REFUSED_CHARACTERS},
            about=PrinterError.NAME,
        )


def name_taken(name: str, taken: str, where: str = "") -> str:
    """Why `name` cannot be given a printer: the printer called `taken` (that name, or one
    differing only in case) has it; `where` says where that printer comes from."""
    values = {"taken": taken, "where": f" ({where})" if where else ""}
    if taken == name:
        return _("a printer called '%(taken)s' exists already%(where)s") % values
    return (
        _(
            "a printer called '%(taken)s' exists already%(where)s, and names that differ only "
            "in case are one printer's, as in CUPS"
        )
        % values
    )


def validate_printer_uri(uri: str) -> None:
    """Refuse what the IPP client could not connect to, naming what is wrong with it."""
    values = {"uri": repr(uri), "usage": _("use ipp://HOST[:PORT]/PATH or ipps://…")}
    if any(character.isspace() or not character.isprintable() for character in uri):
        raise PrinterError(
            _("%(uri)s is not a printer URI: it contains a space or a control character; %(usage)s")
            % values,
            about=PrinterError.ADDRESS,
        )
    try:
        parts = urlsplit(uri)
    except ValueError as error:  # an IPv6 host without its closing bracket, …
        raise PrinterError(
            _("%(uri)s is not a printer URI: its host is not valid (%(error)s)")
            % {**values, "error": error},
            about=PrinterError.ADDRESS,
        ) from None
    if parts.scheme not in {"ipp", "ipps"} or not parts.hostname:
        raise PrinterError(
            _("%(uri)s is not a printer URI: %(usage)s") % values, about=PrinterError.ADDRESS
        )
    try:
        port = parts.port
    except ValueError:  # not a number, or past 65535
        port = 0
    if port == 0:
        raise PrinterError(
            _("%(uri)s is not a printer URI: the port must be a number from 1 to 65535") % values,
            about=PrinterError.ADDRESS,
        )
    try:
        httpx.URL(http_url(uri)).host  # noqa: B018 - the host is checked (IDNA) when read
    except (ValueError, httpx.InvalidURL) as error:
        raise PrinterError(
            _("%(uri)s is not a printer URI (%(error)s): %(usage)s") % {**values, "error": error},
            about=PrinterError.ADDRESS,
        ) from None


def checked_trusted_certificate(text: str) -> str:
    """The certificates of a PEM text, as kept with a printer ("" for none); PrinterError when
    there is none, one is not a certificate OpenSSL can read, or the text holds a private key
    (it is never wanted here, and it would be kept in the database)."""
    if not text.strip():
        return ""
    if "PRIVATE KEY-----" in text:
        raise PrinterError(
            _(
                "the trusted certificate holds a private key: give only the printer's "
                "certificate (-----BEGIN CERTIFICATE----- …), never its key"
            ),
            about=PrinterError.CERTIFICATE,
        )
    blocks = PEM_CERTIFICATE.findall(text)
    if not blocks:
        raise PrinterError(
            _(
                "the trusted certificate is not a PEM certificate: it must hold "
                "-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----"
            ),
            about=PrinterError.CERTIFICATE,
        )
    pem = "\n".join(blocks) + "\n"
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=pem)
    except ssl.SSLError as error:
        raise PrinterError(
            _("the trusted certificate is not a certificate OpenSSL can read (%(reason)s)")
            % {"reason": error.reason or error},
            about=PrinterError.CERTIFICATE,
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


#: What a probe asks for. media-col-database is not part of "all" (RFC 8011 leaves it out for
#: its size). libcups (CUPS queues, ippeveprinter) answers "all" asked together with another
#: name from a list of its own, which lacks cover-type-supported and number-up-layout-supported:
#: without naming them, covers were never offered by our IPP printer for such a printer.
PROBED_ATTRIBUTES = (
    "all",
    "media-col-database",
    "cover-type-supported",
    "number-up-layout-supported",
)


def probe(uri: str, *, trusted_certificate: str = "") -> ProbeResult:
    """Ask a printer what it is and can do. Raises PrinterError with the printer's answer,
    or naming what is wrong with the URI or the certificate."""
    validate_printer_uri(uri)
    trusted_certificate = checked_trusted_certificate(trusted_certificate)
    try:
        with client_for_uri(uri, trusted_certificate=trusted_certificate) as client:
            group = client.get_printer_attributes(PROBED_ATTRIBUTES)
    except IppTransportError as error:
        raise PrinterUnreachable(str(error)) from None  # it names the URI already
    except IppError as error:
        raise PrinterError(f"{uri}: {error}", about=PrinterError.ADDRESS) from None
    # Every printer states its printer-state (RFC 8011 5.4.11): an answer without it (another
    # IPP service, a proxy's empty reply) would be kept as a printer that can do nothing.
    if group.get("printer-state") is None:
        raise PrinterError(
            _(
                "%(uri)s: the answer to Get-Printer-Attributes holds no printer attributes (no "
                "printer-state): check that the URI is the printer's"
            )
            % {"uri": uri},
            about=PrinterError.ADDRESS,
        )
    return _probe_result(group)


def _probe_result(group: AttributeGroup) -> ProbeResult:
    capabilities = snapshot_of_group(group)
    state_value = capabilities.get("printer-state", [None])[0]
    state = PRINTER_STATES.get(state_value, PrinterState.UNKNOWN)
    reasons = [str(r) for r in capabilities.get("printer-state-reasons", [])]
    message = str(capabilities.get("printer-state-message", [""])[0])
    return ProbeResult(state, reasons, message[:500], capabilities)


def rule_file_of(rule_file: RuleFile | Path | None, *, relaxed: bool) -> RuleFile | None:
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
    location = checked_location(location)
    trusted_certificate = checked_trusted_certificate(trusted_certificate)
    taken = printer_named(name)
    if taken is not None:
        raise PrinterError(name_taken(name, taken.name), about=PrinterError.NAME)
    if PrinterGroup.objects.filter(name__iexact=name).exists():
        raise PrinterError(group_has_name(name), about=PrinterError.NAME)
    result = probe(uri, trusted_certificate=trusted_certificate)
    try:
        with transaction.atomic():
            printer = Printer.objects.create(
                name=name,
                uri=uri,
                kind=kind or guess_kind(uri),
                location=location
                or str(result.capabilities.get("printer-location", [""])[0])[:LOCATION_MAX_LENGTH],
                rule_file=rule_file_of(rule_file, relaxed=relaxed_rules),
                trusted_certificate=trusted_certificate,
                capabilities=result.capabilities,
                state=result.state,
                state_reasons=result.state_reasons,
                state_message=result.state_message,
                last_contact=timezone.now(),
            )
    except IntegrityError:  # added by someone else while this one was probed
        taken = printer_named(name)
        raise PrinterError(
            name_taken(name, taken.name if taken else name), about=PrinterError.NAME
        ) from None
    logger.info("printer %s added: %s (%s)", name, uri, printer.kind)
    return printer


ProbeOutcome = ProbeResult | PrinterError


def probes_at_once(targets: Sequence[tuple[str, str]]) -> list[ProbeOutcome]:
    """Probe each (URI, trusted certificate), PROBES_AT_ONCE at a time: each one's answer, or
    the error saying why there is none. Network only: nothing is read or written here."""

    def outcome(target: tuple[str, str]) -> ProbeOutcome:
        uri, trusted_certificate = target
        try:
            return probe(uri, trusted_certificate=trusted_certificate)
        except PrinterError as error:
            return error

    if len(targets) < 2:
        return [outcome(target) for target in targets]
    with ThreadPoolExecutor(max_workers=PROBES_AT_ONCE, thread_name_prefix="probe") as pool:
        return list(pool.map(outcome, targets))


def probe_fields(outcome: ProbeOutcome) -> dict[str, object]:
    """A printer's fields as a probe found it. One that did not answer is unreachable, and
    why; its reasons, being the printer's own from its last answer, are dropped; its
    capabilities and last contact are those of that answer."""
    if isinstance(outcome, PrinterError):
        return {
            "state": PrinterState.UNREACHABLE,
            "state_reasons": [],
            "state_message": str(outcome)[:500],
        }
    return {
        "state": outcome.state,
        "state_reasons": outcome.state_reasons,
        "state_message": outcome.state_message,
        "capabilities": outcome.capabilities,
        "last_contact": timezone.now(),
    }


def printer_refresh(printer_id: int) -> Printer:
    """Read a printer's state and capabilities again; an unreachable one is marked so."""
    refreshed = printers_refresh([printer_id])
    if not refreshed:
        raise Printer.DoesNotExist(f"there is no printer with id {printer_id}")
    return refreshed[0]


def printers_refresh(printer_ids: Iterable[int]) -> list[Printer]:
    """printer_refresh for several printers, asked at once (probes_at_once); a printer
    deleted meanwhile is left out."""
    printers = list(Printer.objects.filter(pk__in=list(printer_ids)).order_by("name"))
    outcomes = probes_at_once([(p.uri, p.trusted_certificate) for p in printers])
    refreshed = []
    for printer, outcome in zip(printers, outcomes, strict=True):
        fields = probe_fields(outcome)
        if Printer.objects.filter(pk=printer.pk).update(**fields):
            for name, value in fields.items():
                setattr(printer, name, value)
            refreshed.append(printer)
    return refreshed


def printers_mark_unreachable(printer_ids: Iterable[int], message: str) -> int:
    """Record printers as unreachable without asking them (their CUPS server did not answer);
    their last contact stays. How many were marked."""
    return Printer.objects.filter(pk__in=list(printer_ids)).update(
        state=PrinterState.UNREACHABLE, state_reasons=[], state_message=message[:500]
    )


def checked_location(location: str) -> str:
    location = location.strip()
    if len(location) > LOCATION_MAX_LENGTH:
        raise PrinterError(
            _("the location is longer than %(limit)d characters (%(length)d)")
            % {"limit": LOCATION_MAX_LENGTH, "length": len(location)},
            about=PrinterError.LOCATION,
        )
    return location
