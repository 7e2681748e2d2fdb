"""The peer fixtures start real, answering programs (checked with CUPS's own ipptool)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.ipp.helpers import write_pdf
from tests.peers import Cupsd, IppEvePrinter, IppEvePrinterFactory

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
