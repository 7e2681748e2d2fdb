"""DNS-SD (Bonjour) advertising of our IPP printer, so phones and desktops find it by name.

python-zeroconf answers multicast DNS from this process; no avahi-daemon or D-Bus is needed.
One advertiser runs per site (`manage.py dnssd`, started once like Celery beat), whatever the
number of web workers: a lock file under the data directory refuses a second one on the host.
"""

from __future__ import annotations

import fcntl
import ipaddress
import logging
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import ifaddr
from django.conf import settings
from django.db import DatabaseError, close_old_connections
from zeroconf import IPVersion, ServiceInfo, Zeroconf

from apps.core.stop_flag import StopFlag
from apps.ippserver.attributes import (
    Capabilities,
    media_size,
    pwg_raster_types,
    urf_supported,
)
from apps.ippserver.printer_operations import printer_uuid, product_capabilities
from apps.jobs.convert import OCTET_STREAM
from printmgmt.config import DnsSdConfig

logger = logging.getLogger(__name__)

IPP_TYPE = "_ipp._tcp.local."
IPPS_TYPE = "_ipps._tcp.local."
# AirPrint clients (iOS, macOS) look for this subtype. python-zeroconf publishes one subtype
# per service instance, and IPP Everywhere clients (CUPS, Android) browse the type itself.
UNIVERSAL_SUBTYPE = "_universal._sub."
RESOURCE_PATH = "ipp/print"
REFRESH_SECONDS = 60
# CUPS printer-type bits (cups/cups.h) that the TXT record's printer-type carries.
_TYPE_BW, _TYPE_COLOR, _TYPE_DUPLEX, _TYPE_STAPLE = 0x4, 0x8, 0x10, 0x20
_TYPE_COPIES, _TYPE_COLLATE, _TYPE_PUNCH, _TYPE_COVER = 0x40, 0x80, 0x100, 0x200
_TYPE_MEDIUM, _TYPE_LARGE = 0x2000, 0x4000
_STAPLE_FINISHINGS = range(20, 52)
_PUNCH_FINISHINGS = range(70, 91)
# PaperMax from the largest medium's longer side, in hundredths of a millimetre.
_PAPER_MAX = ((35560, "legal-A4"), (43180, "tabloid-A3"), (59400, "isoC-A2"))


class AdvertiseError(Exception):
    """Advertising cannot start; the message says why and what to change."""


def paper_max(c: Capabilities) -> str:
    longest = max((max(size) for size in map(media_size, c.media) if size), default=0)
    return next((name for limit, name in _PAPER_MAX if longest <= limit), ">isoC-A2")


def printer_type(c: Capabilities) -> str:
    bits = _TYPE_BW | _TYPE_COPIES | _TYPE_COLLATE
    bits |= _TYPE_COLOR if c.color else 0
    bits |= _TYPE_DUPLEX if c.duplex else 0
    bits |= _TYPE_STAPLE if any(f in _STAPLE_FINISHINGS for f in c.finishings) else 0
    bits |= _TYPE_PUNCH if any(f in _PUNCH_FINISHINGS for f in c.finishings) else 0
    bits |= _TYPE_COVER if c.cover_types else 0
    bits |= _TYPE_LARGE if paper_max(c) != "legal-A4" else _TYPE_MEDIUM
    return f"0x{bits:X}"


def txt_record(
    c: Capabilities, config: DnsSdConfig, *, uuid: str, admin_url: str, note: str = ""
) -> dict[str, str]:
    """The TXT keys IPP Everywhere (PWG 5100.14 §4.2) and AirPrint clients read."""
    pdl = ",".join(f for f in c.document_formats if f != OCTET_STREAM)
    record = {
        "txtvers": "1",
        "qtotal": "1",
        "rp": RESOURCE_PATH,
        "ty": "printmgmt hold queue",
        "product": "(printmgmt hold queue)",
        "adminurl": admin_url,
        "note": note,
        "pdl": pdl,
        "UUID": uuid,
        "URF": ",".join(urf_supported(c)),
        "PwgRaster": ",".join(pwg_raster_types(c)),
        "Color": "T" if c.color else "F",
        "Duplex": "T" if c.duplex else "F",
        "Copies": "T",
        "kind": "document,envelope,photo",
        "PaperMax": paper_max(c),
        "printer-type": printer_type(c),
        # iOS asks for a user name and password before it sends (we use HTTP Basic).
        "air": "username,password",
    }
    if config.tls:
        record["TLS"] = "1.2"
    return record


def host_addresses() -> list[str]:
    """Every non-loopback address of this host, IPv4 first (what phones can reach)."""
    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            address = ip.ip if isinstance(ip.ip, str) else ip.ip[0]
            parsed = ipaddress.ip_address(address.split("%", 1)[0])
            if not (parsed.is_loopback or parsed.is_link_local):
                found.append(str(parsed))
    return sorted(set(found), key=lambda a: (ipaddress.ip_address(a).version, a))


def server_name() -> str:
    """This host's mDNS name: its host name made a valid DNS label."""
    label = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname().split(".", 1)[0]).strip("-")
    return f"{label[:63] or 'printmgmt'}.local."


class Advertiser:
    """Publishes the printer while running; `refresh` republishes what changed."""

    def __init__(self, config: DnsSdConfig) -> None:
        self.config = config
        self.addresses = list(config.addresses) or host_addresses()
        if not self.addresses:
            raise AdvertiseError(
                "this host has no network address to advertise: set DNSSD_ADDRESSES"
            )
        self.server = server_name()
        scheme = "https" if config.tls else "http"
        self.admin_url = f"{scheme}://{self.server.rstrip('.')}:{config.port}/"
        self._zeroconf: Zeroconf | None = None
        self._infos: list[ServiceInfo] = []

    def service_infos(self, names: list[str] | None = None) -> list[ServiceInfo]:
        """One service per type; `names` keeps the names a conflict may have changed."""
        txt = txt_record(
            product_capabilities(), self.config, uuid=printer_uuid(), admin_url=self.admin_url
        )
        types = [IPP_TYPE, *([IPPS_TYPE] if self.config.tls else [])]
        names = names or [f"{self.config.name}.{service_type}" for service_type in types]
        return [
            ServiceInfo(
                UNIVERSAL_SUBTYPE + service_type,
                name,
                port=self.config.port,
                properties=dict(txt),
                server=self.server,
                parsed_addresses=self.addresses,
            )
            for service_type, name in zip(types, names, strict=True)
        ]

    def start(self) -> None:
        interfaces = list(self.config.addresses) or None
        try:
            if interfaces:
                self._zeroconf = Zeroconf(interfaces=interfaces, ip_version=IPVersion.All)
            else:
                self._zeroconf = Zeroconf(ip_version=IPVersion.All)
        except OSError as error:
            raise AdvertiseError(f"multicast DNS cannot start here: {error}") from None
        self._infos = self.service_infos()
        for info in self._infos:
            # Another printer of that name on the network: take "name (2)" rather than fail.
            self._zeroconf.register_service(info, allow_name_change=True)

    def refresh(self) -> bool:
        """Republish when the printers' capabilities changed the TXT record; True if so."""
        assert self._zeroconf is not None
        fresh = self.service_infos(self.names)
        if [info.properties for info in fresh] == [info.properties for info in self._infos]:
            return False
        for info in fresh:
            self._zeroconf.update_service(info)
        self._infos = fresh
        return True

    def stop(self) -> None:
        """Say goodbye (clients drop the printer at once) and close the sockets."""
        if self._zeroconf is None:
            return
        self._zeroconf.unregister_all_services()
        self._zeroconf.close()
        self._zeroconf = None

    @property
    def names(self) -> list[str]:
        return [info.name for info in self._infos]


@contextmanager
def advertiser_lock(data_dir: Path) -> Iterator[None]:
    """Held while advertising: a second advertiser on this host is refused, not doubled."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "dnssd.lock"
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            other = handle.read().strip() or "unknown"
            raise AdvertiseError(
                f"another advertiser is already running (process {other}, lock {path})"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield


def advertise_until(
    stop: threading.Event | StopFlag,
    config: DnsSdConfig | None = None,
    on_start: Callable[[Advertiser], None] | None = None,
) -> None:
    """Advertise until `stop` is set, refreshing the TXT record every REFRESH_SECONDS."""
    config = config or settings.DNSSD
    if not config.enabled:
        raise AdvertiseError("DNS-SD advertising is off: set DNSSD_ENABLED=true to turn it on")
    with advertiser_lock(settings.DATA_DIR):
        advertiser = Advertiser(config)
        try:
            advertiser.start()
            if on_start is not None:
                on_start(advertiser)
            while not stop.wait(REFRESH_SECONDS):
                refresh_keeping_on(advertiser)
        finally:
            advertiser.stop()


def refresh_keeping_on(advertiser: Advertiser) -> bool:
    """Republish what changed (True if something did). A dropped database session costs a
    reconnect; a database that is away costs one refresh, not the advertiser: what was
    published stays, and the next refresh tries again."""
    close_old_connections()
    try:
        return advertiser.refresh()
    except DatabaseError as error:
        logger.warning("DNS-SD refresh skipped, the database is not available: %s", error)
        return False
