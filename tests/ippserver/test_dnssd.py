"""DNS-SD advertising: `manage.py dnssd` publishes the printer on loopback, zeroconf's own
browser finds it with the TXT record AirPrint and IPP Everywhere clients read, a second
advertiser is refused, SIGTERM withdraws it; bad settings are refused with one line."""

from __future__ import annotations

import ipaddress
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import DatabaseError, connection
from zeroconf import IPVersion, ServiceBrowser, ServiceListener, Zeroconf

from apps.ippserver.attributes import capabilities_of
from apps.ippserver.dnssd import (
    AdvertiseError,
    Advertiser,
    advertise_until,
    advertiser_lock,
    host_addresses,
    paper_max,
    printer_type,
    refresh_keeping_on,
    txt_record,
)
from apps.ippserver.printer_operations import printer_uuid
from apps.printers.models import Printer
from printmgmt.config import ConfigError, DnsSdConfig, Env, dnssd_config
from tests import workers
from tests.peers import free_port

LOOPBACK = "127.0.0.1"
COLOUR_DUPLEX_A3: dict[str, list[Any]] = {
    "media-supported": ["iso_a4_210x297mm", "iso_a3_297x420mm"],
    "sides-supported": ["one-sided", "two-sided-long-edge"],
    "print-color-mode-supported": ["monochrome", "color"],
    "finishings-supported": [3, 20, 74],
}


def test_txt_record_says_what_the_printers_behind_us_can_do() -> None:
    config = dnssd_config(Env({"DNSSD_TLS": "true"}))
    capabilities = capabilities_of([COLOUR_DUPLEX_A3])
    txt = txt_record(capabilities, config, uuid="u-1", admin_url="https://print.local:631/")
    assert txt == {
        "txtvers": "1",
        "qtotal": "1",
        "rp": "ipp/print",
        "ty": "printmgmt hold queue",
        "product": "(printmgmt hold queue)",
        "adminurl": "https://print.local:631/",
        "note": "",
        "pdl": "application/pdf,application/postscript,image/urf,image/pwg-raster,image/jpeg,"
        "image/png,text/plain",
        "UUID": "u-1",
        "URF": "V1.4,CP1,PQ3-4-5,RS300-600,W8,SRGB24,DM1",
        "PwgRaster": "black_1,sgray_8,srgb_8",
        "Color": "T",
        "Duplex": "T",
        "Copies": "T",
        "kind": "document,envelope,photo",
        "PaperMax": "tabloid-A3",
        # BW, colour, duplex, staple, copies, collate, punch; large media
        "printer-type": "0x41FC",
        "air": "username,password",
        "TLS": "1.2",
    }


def test_a_plain_printer_advertises_less() -> None:
    plain = capabilities_of([])
    txt = txt_record(plain, dnssd_config(Env({})), uuid="u", admin_url="http://h.local:8000/")
    assert (txt["Color"], txt["Duplex"], txt["PaperMax"]) == ("F", "F", "legal-A4")
    assert txt["URF"] == "V1.4,CP1,PQ3-4-5,RS300-600,W8"
    assert "TLS" not in txt
    assert printer_type(plain) == "0x20C4"
    assert paper_max(capabilities_of([{"media-supported": ["iso_a0_841x1189mm"]}])) == ">isoC-A2"
    assert paper_max(capabilities_of([{"media-supported": ["iso_a2_420x594mm"]}])) == "isoC-A2"


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"DNSSD_NAME": "x" * 64}, "DNSSD_NAME='xxx"),
        ({"DNSSD_NAME": "Floor 2.West"}, "contains a dot"),
        ({"DNSSD_PORT": "70000"}, "DNSSD_PORT=70000 is not a TCP port"),
        ({"DNSSD_PORT": "0"}, "DNSSD_PORT=0 is too small"),
        ({"DNSSD_ADDRESSES": "10.0.0.1,printer.local"}, "'printer.local', which is not an IP"),
        ({"DNSSD_ENABLED": "sometimes"}, "DNSSD_ENABLED='sometimes' is not a boolean"),
    ],
)
def test_bad_settings_are_refused_naming_the_variable(
    environment: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        dnssd_config(Env(environment))


def test_settings_have_sensible_defaults() -> None:
    config = dnssd_config(Env({"PORT": "8631", "DNSSD_ADDRESSES": "192.0.2.7, ::1"}))
    assert (config.enabled, config.name, config.port, config.tls) == (
        False,
        "printmgmt hold queue",
        8631,
        False,
    )
    assert config.addresses == ("192.0.2.7", "::1")


class _Found(ServiceListener):
    def __init__(self) -> None:
        self.added: set[tuple[str, str]] = set()
        self.removed: set[tuple[str, str]] = set()
        self.changed = threading.Event()

    def add_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.added.add((type_, name))
        self.changed.set()

    def remove_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.removed.add((type_, name))
        self.changed.set()

    def update_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.changed.set()

    def wait_for(self, condition: object, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not callable(condition) or not condition():
            assert time.monotonic() < deadline, (self.added, self.removed)
            self.changed.wait(0.2)
            self.changed.clear()


@pytest.fixture
def browser() -> Iterator[tuple[Zeroconf, _Found]]:
    zeroconf = Zeroconf(interfaces=[LOOPBACK], ip_version=IPVersion.V4Only)
    found = _Found()
    browsing = ServiceBrowser(
        zeroconf,
        ["_ipp._tcp.local.", "_ipps._tcp.local.", "_universal._sub._ipp._tcp.local."],
        found,
    )
    yield zeroconf, found
    browsing.cancel()
    zeroconf.close()


def _advertiser(data_dir: Path, **environment: str) -> subprocess.Popen[str]:
    env = dict(
        os.environ,
        DATABASE_URL=workers.test_database_url(),
        PRINTMGMT_DATA_DIR=str(data_dir),
        DNSSD_ADDRESSES=LOOPBACK,
        **environment,
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "dnssd"],
        cwd=workers.ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_advertiser_publishes_the_printer_once_and_withdraws_it_on_sigterm(
    transactional_db: None, browser: tuple[Zeroconf, _Found], tmp_path: Path
) -> None:
    Printer.objects.create(name="colour", uri="ipp://192.0.2.9/ipp/print", kind="ipp",
                           capabilities=COLOUR_DUPLEX_A3)  # fmt: skip
    zeroconf, found = browser
    name = f"Hold queue {secrets.token_hex(3)}"
    port = free_port()
    settings_env = {"DNSSD_ENABLED": "1", "DNSSD_NAME": name, "DNSSD_PORT": str(port),
                    "DNSSD_TLS": "1"}  # fmt: skip
    first = _advertiser(tmp_path, **settings_env)
    try:
        ipp_name = f"{name}._ipp._tcp.local."
        found.wait_for(
            lambda: (
                {
                    ("_ipp._tcp.local.", ipp_name),
                    ("_universal._sub._ipp._tcp.local.", ipp_name),
                    ("_ipps._tcp.local.", f"{name}._ipps._tcp.local."),
                }
                <= found.added
            )
        )
        info = zeroconf.get_service_info("_ipp._tcp.local.", ipp_name, timeout=5000)
        assert info is not None
        assert info.port == port
        assert info.parsed_addresses() == [LOOPBACK]
        txt = {key.decode(): (value or b"").decode() for key, value in info.properties.items()}
        assert txt["rp"] == "ipp/print"
        assert txt["UUID"] == printer_uuid()
        assert (txt["Color"], txt["Duplex"], txt["TLS"]) == ("T", "T", "1.2")
        assert txt["URF"] == "V1.4,CP1,PQ3-4-5,RS300-600,W8,SRGB24,DM1"
        assert "image/urf" in txt["pdl"]
        assert txt["adminurl"].startswith("https://")
        assert txt["adminurl"].endswith(f":{port}/")

        second = _advertiser(tmp_path, **settings_env)
        _out, error = second.communicate(timeout=60)
        assert second.returncode == 1
        assert "another advertiser is already running" in error
        assert f"process {first.pid}" in error

        first.send_signal(signal.SIGTERM)
        out, error = first.communicate(timeout=30)
        assert first.returncode == 0, error
        assert f"advertising {ipp_name}" in out
        assert "advertisement withdrawn" in out
        found.wait_for(lambda: ("_ipp._tcp.local.", ipp_name) in found.removed)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()


def test_the_advertiser_refuses_to_run_when_off_or_misconfigured(
    transactional_db: None, tmp_path: Path
) -> None:
    off = _advertiser(tmp_path)
    _out, error = off.communicate(timeout=60)
    assert off.returncode == 1
    assert "DNS-SD advertising is off: set DNSSD_ENABLED=true" in error
    bad = _advertiser(tmp_path, DNSSD_ENABLED="1", DNSSD_NAME="a.b")
    _out, error = bad.communicate(timeout=60)
    assert bad.returncode == 2
    assert error.strip().splitlines() == [
        "printmgmt: DNSSD_NAME='a.b' contains a dot or a control character: use plain words."
    ]


def _txt_seen(zeroconf: Zeroconf, name: str) -> dict[str, str]:
    info = zeroconf.get_service_info("_ipp._tcp.local.", name, timeout=5000)
    assert info is not None, name
    return {key.decode(): (value or b"").decode() for key, value in info.properties.items()}


def test_refresh_republishes_the_txt_record_when_the_printers_change(
    transactional_db: None, browser: tuple[Zeroconf, _Found]
) -> None:
    zeroconf, found = browser
    config = DnsSdConfig(enabled=True, name=f"Refresh {secrets.token_hex(3)}",
                         port=free_port(), addresses=(LOOPBACK,), tls=False)  # fmt: skip
    advertiser = Advertiser(config)
    advertiser.start()
    try:
        name = f"{config.name}._ipp._tcp.local."
        found.wait_for(lambda: ("_ipp._tcp.local.", name) in found.added)
        assert _txt_seen(zeroconf, name)["Color"] == "F"
        assert advertiser.refresh() is False
        Printer.objects.create(name="colour", uri="ipp://192.0.2.9/ipp/print", kind="ipp",
                               capabilities=COLOUR_DUPLEX_A3)  # fmt: skip
        assert advertiser.refresh() is True
        deadline = time.monotonic() + 15
        while _txt_seen(zeroconf, name)["Color"] != "T":
            assert time.monotonic() < deadline, "the new TXT record was not seen"
            time.sleep(0.2)
    finally:
        advertiser.stop()
    advertiser.stop()  # stopping twice is harmless
    found.wait_for(lambda: ("_ipp._tcp.local.", name) in found.removed)


def test_a_refresh_after_the_database_dropped_the_session_reconnects(
    transactional_db: None,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("drops a PostgreSQL session")
    config = DnsSdConfig(enabled=True, name=f"Reconnect {secrets.token_hex(3)}",
                         port=free_port(), addresses=(LOOPBACK,), tls=False)  # fmt: skip
    advertiser = Advertiser(config)
    advertiser.start()
    try:
        # A database restart, as this process sees it: its session is gone.
        with pytest.raises(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        assert refresh_keeping_on(advertiser) is False  # reconnected; nothing changed
        Printer.objects.create(name="colour", uri="ipp://192.0.2.9/ipp/print", kind="ipp",
                               capabilities=COLOUR_DUPLEX_A3)  # fmt: skip
        assert refresh_keeping_on(advertiser) is True
    finally:
        advertiser.stop()


def test_advertise_until_stops_when_told_and_holds_the_lock_meanwhile(
    transactional_db: None, tmp_path: Path
) -> None:
    config = DnsSdConfig(enabled=True, name=f"Once {secrets.token_hex(3)}", port=free_port(),
                         addresses=(LOOPBACK,), tls=False)  # fmt: skip
    stop = threading.Event()
    seen: list[str] = []

    def started(advertiser: Advertiser) -> None:
        seen.extend(advertiser.names)
        second = advertiser_lock(settings.DATA_DIR)
        with pytest.raises(AdvertiseError, match=f"process {os.getpid()}"):
            second.__enter__()
        stop.set()

    advertise_until(stop, config, on_start=started)
    assert seen == [f"{config.name}._ipp._tcp.local."]
    with advertiser_lock(settings.DATA_DIR):  # released: free again
        pass


def test_host_addresses_leave_out_loopback_and_link_local() -> None:
    for address in host_addresses():
        parsed = ipaddress.ip_address(address)
        assert not parsed.is_loopback
        assert not parsed.is_link_local
