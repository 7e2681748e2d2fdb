"""pytest fixtures for the real IPP peers (apps/printers/peers.py starts and stops them).

Load them with ``pytest_plugins = ["tests.peers"]``.
"""

from __future__ import annotations

import contextlib
import http.server
import shutil
import socket
from collections.abc import Callable, Iterator, Sequence

import pytest

from apps.printers.peers import (
    CUPSD_TEST_PASSWORD,
    CUPSD_TEST_USER,
    FINISHER_ATTRIBUTES,
    OFFICE_FINISHER_ATTRIBUTES,
    Cupsd,
    IppEvePrinter,
    PeerError,
    free_port,
    run_cupsd,
    run_ippeveprinter,
    run_private_dbus,
)

__all__ = [
    "CUPSD_TEST_PASSWORD",
    "CUPSD_TEST_USER",
    "FINISHER_ATTRIBUTES",
    "OFFICE_FINISHER_ATTRIBUTES",
    "Cupsd",
    "IppEvePrinter",
    "PeerError",
    "free_port",
    "run_cupsd",
    "run_ippeveprinter",
    "run_private_dbus",
]


def ipv6_loopback() -> bool:
    """Whether this machine can listen on ::1 (a container may have no IPv6)."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def _require(*programs: str) -> None:
    missing = [program for program in programs if shutil.which(program) is None]
    if missing:
        pytest.skip(f"peer programs not installed: {', '.join(missing)}")


IppEvePrinterFactory = Callable[..., IppEvePrinter]


@pytest.fixture
def ippeveprinter_factory() -> Iterator[IppEvePrinterFactory]:
    """Start custom printers: ``ippeveprinter_factory(name=..., attributes=..., extra_args=...)``
    (the keyword arguments of run_ippeveprinter); all stop when the test ends."""
    _require("ippeveprinter", "dbus-daemon")
    with contextlib.ExitStack() as stack:

        def start(
            *,
            name: str = "Finisher",
            attributes: str | None = FINISHER_ATTRIBUTES,
            extra_args: Sequence[str] = (),
        ) -> IppEvePrinter:
            return stack.enter_context(
                run_ippeveprinter(name=name, attributes=attributes, extra_args=extra_args)
            )

        yield start


@pytest.fixture(scope="module")
def ippeveprinter() -> Iterator[IppEvePrinter]:
    """A printer with finishings, covers and PDF support (FINISHER_ATTRIBUTES), shared by
    the tests of one module."""
    _require("ippeveprinter", "dbus-daemon")
    with run_ippeveprinter() as printer:
        yield printer


@pytest.fixture(scope="module")
def cupsd() -> Iterator[Cupsd]:
    """A private cupsd shared by the tests of one module, with the Basic-auth test account
    when the machine allows mount namespaces (``cupsd.auth_user`` is None otherwise)."""
    _require("cupsd", "lpadmin", "lp")
    with run_cupsd() as server:
        yield server


def http_request_body(handler: http.server.BaseHTTPRequestHandler) -> bytes:
    """The body of a request, sent with a length or in chunks (as our client streams it)."""
    if handler.headers.get("Transfer-Encoding", "").lower() != "chunked":
        return handler.rfile.read(int(handler.headers.get("Content-Length", 0) or 0))
    body = b""
    while size := int(handler.rfile.readline().split(b";")[0], 16):
        body += handler.rfile.read(size)
        handler.rfile.readline()
    handler.rfile.readline()
    return body


def send_ipp_answer(handler: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
    """Answer a request with HTTP 200 and `body` as application/ipp."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/ipp")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
