"""What every IPP operation of our printer shares: where the printer is, the versions we speak,
refusals and responses, and reading a request's operation attributes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from printmgmt.ipp import Attribute, AttributeGroup, GroupTag, Message, Status

PRINTER_PATH = "/ipp/print"
#: The versions whose requests are answered; ipp-versions-supported claims the first three (2.1
#: and 2.2 ask for operations a hold queue has not, but their clients are served as 2.0's).
ADVERTISED_VERSIONS = ((1, 0), (1, 1), (2, 0))
SUPPORTED_VERSIONS = frozenset({*ADVERTISED_VERSIONS, (2, 1), (2, 2)})


class IppRefusal(Exception):
    """A request we answer with an IPP error status (and maybe unsupported attributes)."""

    def __init__(self, status: Status, message: str, unsupported: Sequence[Attribute] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.unsupported = tuple(unsupported)


#: A Host header that names its port (an IPv6 address is in brackets, so its colons are not).
_HOST_WITH_PORT = re.compile(r":[0-9]+\Z")
#: A Host header (RFC 9110 section 7.2): a host name or IPv4 address (RFC 3986 reg-name), or an
#: IPv6 address in brackets, with an optional port.
_HOST = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=%-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def is_host(value: str) -> bool:
    """Whether `value` is a Host header the printer's URIs can be built from."""
    return _HOST.fullmatch(value) is not None


@dataclass(frozen=True)
class Endpoint:
    """How the client reached us: the URIs we tell it to use."""

    host: str  # host[:port] from the request
    secure: bool
    #: Whether the client is CUPS (by its User-Agent): the one client known to send several
    #: files as one document, PDFs back to back (pdf_parts), which only its documents are
    #: searched for: the search reads every byte, a third of a 1 MB job's intake.
    from_cups: bool = False

    @property
    def printer_uri(self) -> str:
        return f"{'ipps' if self.secure else 'ipp'}://{self.ipp_authority}{PRINTER_PATH}"

    @property
    def ipp_authority(self) -> str:
        """host:port for an ipp or ipps URI. A Host header without a port means HTTP's default
        port (80, or 443 over TLS, as Windows sends for https://host/ipp/print), but an ipp or
        ipps URI without one means 631 (RFC 8010 section 4.2, RFC 7472), so it is written out."""
        if _HOST_WITH_PORT.search(self.host):
            return self.host
        return f"{self.host}:{443 if self.secure else 80}"

    @property
    def web_printer_url(self) -> str:
        """The printer's address as an http(s) URL (Windows' "add a printer by name"): here a
        missing port is HTTP's own default, so the Host header is used as the client sent it."""
        return f"{'https' if self.secure else 'http'}://{self.host}{PRINTER_PATH}"

    @property
    def portal_url(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.host}/"

    def job_uri(self, job_id: int) -> str:
        return f"{self.printer_uri}/{job_id}"


#: The schemes a printer-uri or job-uri may have: what clients use for IPP (RFC 3510, RFC 7472)
#: and what an IPP request travels over.
TARGET_SCHEMES = frozenset({"ipp", "ipps", "http", "https"})


def target_path(target: Attribute) -> str:
    """The path of the printer-uri or job-uri a request is addressed to, without a trailing
    slash. A value that is not an absolute URI with one of TARGET_SCHEMES and a host (a
    relative one, a broken IPv6 address or port, spaces or control characters) is refused as
    a bad request, without echoing it."""
    text = str(target.value)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in TARGET_SCHEMES
        or not parts.hostname
        or not text.isprintable()
        or " " in text
    ):
        raise IppRefusal(
            Status.CLIENT_ERROR_BAD_REQUEST,
            f"{target.name} must be an absolute URI: ipp://, ipps://, http:// or https://, "
            "a host and a path",
        )
    return parts.path.rstrip("/")


def within_255_octets(text: str) -> str:
    """`text` cut to what a name value or a status-message holds: 255 octets (RFC 8011 5.1.3,
    4.1.6.2), not characters. A longer one makes libcups refuse the whole answer."""
    return text.encode()[:255].decode("utf-8", "ignore")


def respond(
    request: Message,
    status: int,
    message: str | None = None,
    groups: Sequence[AttributeGroup] = (),
) -> Message:
    version = request.version
    if version not in SUPPORTED_VERSIONS:
        # The closest one we speak (RFC 8011 section 4.1.8), so that the client retries in it.
        below = [advertised for advertised in ADVERTISED_VERSIONS if advertised < version]
        version = max(below) if below else ADVERTISED_VERSIONS[0]
    if message is not None:
        message = within_255_octets(message)
    return Message.response(
        status, request.request_id, status_message=message, groups=groups, version=version
    )


def unsupported_group(attributes: Sequence[Attribute]) -> list[AttributeGroup]:
    return [AttributeGroup(GroupTag.UNSUPPORTED, tuple(attributes))] if attributes else []


def refusal_response(request: Message, refusal: IppRefusal) -> Message:
    return respond(request, refusal.status, str(refusal), unsupported_group(refusal.unsupported))


def operation_value(request: Message, name: str) -> Attribute | None:
    return request.operation_attributes.get(name)


def requested_attributes(request: Message) -> set[str] | None:
    attribute = operation_value(request, "requested-attributes")
    if attribute is None:
        return None
    return {str(value) for value in attribute.python_values}


def select_attributes(
    attributes: Iterable[Attribute], requested: set[str] | None, groups: dict[str, set[str]]
) -> tuple[Attribute, ...]:
    if requested is None or "all" in requested:
        return tuple(attributes)
    wanted = set(requested)
    for group, members in groups.items():
        if group in requested:
            wanted |= members
    return tuple(attribute for attribute in attributes if attribute.name in wanted)
