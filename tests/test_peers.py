"""The peer fixtures start real, answering programs (checked with CUPS's own ipptool)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from printmgmt.ipp.client import IppClient
from tests.ipp.helpers import write_pdf
from tests.peers import Cupsd, IppEvePrinter, IppEvePrinterFactory, PeerError

pytestmark = pytest.mark.peers


def ipptool(uri: str, test_file: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ipptool", *options, uri, test_file],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_stock_ippeveprinter_passes_the_cups_conformance_test(
    ippeveprinter_factory: IppEvePrinterFactory,
) -> None:
    printer = ippeveprinter_factory(name="Stock", attributes=None)
    result = ipptool(printer.uri, "get-printer-attributes.test", "-t")
    assert result.returncode == 0, result.stdout
    assert "[PASS]" in result.stdout


def test_finisher_printer_declares_finishings_and_covers(ippeveprinter: IppEvePrinter) -> None:
    result = ipptool(ippeveprinter.uri, "get-printer-attributes.test", "-tv")
    # ipptool marks the run failed only for the repeated document-format-supported,
    # which this printer sends on purpose.
    assert "status-code = successful-ok" in result.stdout
    assert 'Duplicate "document-format-supported"' in result.stdout
    listed = result.stdout
    assert "finishings-supported (1setOf enum) = none,staple,booklet-maker,jog-offset" in listed
    assert "cover-front-supported (1setOf keyword) = cover-type,media,media-col" in listed
    assert "printer-make-and-model (textWithoutLanguage) = Example Finisher 9000" in listed
    assert ippeveprinter.spool_dir.is_dir()


def test_cupsd_lists_queues_and_prints_to_ippeveprinter(
    cupsd: Cupsd, ippeveprinter: IppEvePrinter, tmp_path: Path
) -> None:
    cupsd.add_queue("office", ippeveprinter.uri)
    result = ipptool(cupsd.uri, "get-printers.test", "-t")
    assert result.returncode == 0, result.stdout
    job_id = cupsd.lp("office", write_pdf(tmp_path / "page.pdf"), "copies=1")
    assert job_id >= 1
    jobs = subprocess.run(
        ["lpstat", "-W", "all", "-o", "office"],
        capture_output=True,
        text=True,
        env=cupsd.environment,
        timeout=30,
        check=False,
    )
    assert f"office-{job_id}" in jobs.stdout


@contextlib.contextmanager
def slow_answers(port: int, delay: float) -> Iterator[int]:
    """A loopback relay to ``port`` that holds each answer back by ``delay`` seconds, as a
    busy printer does; yields the relay's port."""
    listener = socket.create_server(("127.0.0.1", 0))
    connections: list[socket.socket] = []
    stop = threading.Event()

    def pump(source: socket.socket, target: socket.socket, hold: float) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if hold:
                    stop.wait(hold)
                    hold = 0
                target.sendall(data)
            target.shutdown(socket.SHUT_WR)

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = listener.accept()
                device = socket.create_connection(("127.0.0.1", port))
                connections.extend((client, device))
                for source, target, hold in ((client, device, 0.0), (device, client, delay)):
                    threading.Thread(target=pump, args=(source, target, hold), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()
        for connection in connections:
            connection.close()


def test_a_driverless_queue_is_ready_when_added(
    cupsd: Cupsd, ippeveprinter_factory: IppEvePrinterFactory
) -> None:
    """cupsd makes the PPD after lpadmin has returned; a job sent before it is in place
    printed raw, or was aborted ("Unable to convert file 0 to printable format")."""
    stock = ippeveprinter_factory(name="Stock", attributes=None)
    with slow_answers(stock.port, delay=1.5) as port:
        uri = f"ipp://127.0.0.1:{port}/ipp/print"
        queue = cupsd.add_queue("slow-device", uri, model="everywhere")
        with IppClient(queue) as client:
            attributes = client.get_printer_attributes(["printer-make-and-model"])
    make_and_model = attributes.get("printer-make-and-model")
    # The PPD's name; "Local Raw Printer" until cupsd has made it.
    assert make_and_model is not None
    assert str(make_and_model.value).endswith(" - IPP Everywhere")


def test_a_driverless_queue_cupsd_cannot_make_a_ppd_for_is_refused(
    cupsd: Cupsd, ippeveprinter: IppEvePrinter
) -> None:
    with pytest.raises(PeerError) as refused:
        cupsd.add_queue("no-ppd", ippeveprinter.uri, model="everywhere")
    assert str(refused.value) == (
        "cupsd could not make a driverless queue no-ppd: PPD creation failed: Printer does "
        "not support required IPP attributes or document formats."
    )
