"""Phones print: the printer says what AirPrint and IPP Everywhere clients look for, and
ipptool's Print-Job of real Apple and PWG rasters (from Ghostscript) lands held jobs with the
right pages; a broken raster is refused with the page at fault and leaves nothing behind."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

from apps.jobs.choices import JobSource, JobState
from apps.jobs.models import Job
from printmgmt.ipp import Attribute, Operation, Resolution, Status
from tests.ippserver.conftest import IppTester, Printing, spool_entries
from tests.jobs.rasters import gs_raster, urf_file, urf_page_header
from tests.pdfs import make_pdf
from tests.servers import AsgiServer

pytestmark = [pytest.mark.peers]

PRINT_RASTER_TEST = """{
  NAME "Print-Job of a raster"
  OPERATION Print-Job
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name $user
  ATTR name job-name "from a phone"
  ATTR mimeMediaType document-format $format
  FILE $filename
  STATUS successful-ok
  EXPECT job-id OF-TYPE integer
  EXPECT job-state OF-TYPE enum WITH-VALUE 4
}
"""


def test_printer_attributes_answer_airprint_and_ipp_everywhere_clients(ipp: IppTester) -> None:
    answer = ipp.send(
        ipp.request(
            Operation.GET_PRINTER_ATTRIBUTES,
            operation_attributes=[Attribute.keyword("requested-attributes", "all")],
        )
    )
    assert answer.status_code == Status.SUCCESSFUL_OK
    formats = answer.get("document-format-supported")
    assert formats is not None
    assert {"image/urf", "image/pwg-raster"} <= set(formats.python_values)
    expected = {
        "urf-supported": ("V1.4", "CP1", "PQ3-4-5", "RS300-600", "W8"),
        "pwg-raster-document-type-supported": ("black_1", "sgray_8"),
        "pwg-raster-document-sheet-back": ("normal",),
        "pwg-raster-document-resolution-supported": (
            Resolution(300, 300, 3),
            Resolution(600, 600, 3),
        ),
        "media-source-supported": ("auto",),
        "media-top-margin-supported": (423,),
        "printer-get-attributes-supported": ("document-format",),
    }
    for name, values in expected.items():
        attribute = answer.get(name)
        assert attribute is not None, name
        assert attribute.python_values == values, name
    for name in (
        "printer-current-time", "printer-config-change-time", "printer-config-change-date-time",
        "printer-geo-location", "printer-organization", "printer-organizational-unit",
        "jpeg-k-octets-supported", "jpeg-x-dimension-supported", "print-scaling-supported",
        "print-content-optimize-supported", "print-rendering-intent-supported",
        "media-type-supported", "job-ids-supported", "printer-kind", "printer-state-change-time",
        "printer-state-change-date-time", "preferred-attributes-supported",
    ):  # fmt: skip
        assert answer.get(name) is not None, name


@pytest.fixture
def ipptool() -> str:
    found = shutil.which("ipptool")
    if found is None:
        pytest.skip("ipptool is not installed (cups-ipp-utils)")
    return found


def _ipptool_print(
    ipptool: str, server: AsgiServer, printing: Printing, document: Path, document_format: str
) -> subprocess.CompletedProcess[str]:
    test_file = document.parent / "print-raster.test"
    test_file.write_text(PRINT_RASTER_TEST)
    secret = quote(printing.password, safe="")
    uri = f"ipp://{printing.username}:{secret}@127.0.0.1:{server.port}/ipp/print"
    return subprocess.run(
        [ipptool, "-t", "-T", "60", "-f", str(document), "-d", f"format={document_format}",
         uri, str(test_file)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("device", "document_format"), [("urf", "image/urf"), ("pwgraster", "image/pwg-raster")]
)
def test_ipptool_prints_a_real_raster_that_lands_held_with_its_pages(
    asgi_server: AsgiServer,
    printing: Printing,
    ipptool: str,
    tmp_path: Path,
    device: str,
    document_format: str,
) -> None:
    raster = gs_raster(make_pdf(tmp_path / "d.pdf", 3), tmp_path / "d.raster", device=device)
    result = _ipptool_print(ipptool, asgi_server, printing, raster, document_format)
    assert result.returncode == 0, result.stdout + result.stderr
    job = Job.objects.get(owner=printing.user)
    assert (job.state, job.source, job.page_count, job.title) == (
        JobState.HELD,
        JobSource.IPP,
        3,
        "from a phone",
    )


def test_a_truncated_raster_is_refused_naming_the_page(
    asgi_server: AsgiServer, printing: Printing, ipp: IppTester, tmp_path: Path
) -> None:
    before = spool_entries()
    gray = urf_page_header(4, 3, bits_per_pixel=8, color_space=4)
    broken = urf_file([gray + bytes([0, 128])])  # one line of three, then the end
    answer = ipp.print_job(
        (printing.username, printing.password), broken, document_format="image/urf"
    )
    assert answer.status_code == Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR, answer
    message = answer.get("status-message")
    assert message is not None
    assert str(message.value).endswith("page 1: the raster ends at line 2 of 3")
    assert not Job.objects.filter(owner=printing.user).exists()
    assert spool_entries() == before
