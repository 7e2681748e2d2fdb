"""Documents to print and IPP answers captured from the real peers during the test run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from printmgmt.ipp import Attribute, Operation, encode
from printmgmt.ipp.client import IppClient
from tests.ipp.helpers import write_pdf
from tests.peers import Cupsd, IppEvePrinter


@pytest.fixture(scope="session")
def pdf_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pdf(tmp_path_factory.mktemp("documents") / "blank.pdf", pages=2)


@pytest.fixture
def cover_and_staple() -> list[Attribute]:
    """Job attributes as the print pipeline sends them: staple + punch and a front cover."""
    return [
        Attribute.enum("finishings", 20, 74),
        Attribute.collection(
            "cover-front",
            [
                Attribute.keyword("cover-type", "print-front"),
                Attribute.collection(
                    "media-col", [Attribute.keyword("media-source", "by-pass-tray")]
                ),
            ],
        ),
    ]


def capture(client: IppClient, operation: int, *attributes: Attribute) -> bytes:
    """The raw bytes of a peer's answer to one request."""
    request = client.new_request(operation, operation_attributes=attributes)
    return client.post(encode(request))


@pytest.fixture(scope="module")
def captured_answers(
    ippeveprinter: IppEvePrinter, cupsd: Cupsd, pdf_file: Path
) -> Iterator[dict[str, bytes]]:
    """Answers of ippeveprinter and cupsd, captured now, keyed by what was asked."""
    queue = "golden"
    if queue not in cupsd.queues:
        cupsd.add_queue(queue, ippeveprinter.uri)
    everything = Attribute.keyword("requested-attributes", "all")
    with IppClient(ippeveprinter.uri) as printer, IppClient(cupsd.queue_uri(queue)) as cups:
        job = printer.print_job(
            pdf_file,
            document_format="application/pdf",
            job_attributes=[
                Attribute.enum("finishings", 4),
                Attribute.collection("cover-back", [Attribute.keyword("cover-type", "print-none")]),
            ],
        )
        job_id = Attribute.integer("job-id", job.job_id)
        yield {
            "eve-printer": capture(printer, Operation.GET_PRINTER_ATTRIBUTES, everything),
            "eve-job": capture(printer, Operation.GET_JOB_ATTRIBUTES, job_id, everything),
            "eve-jobs": capture(
                printer,
                Operation.GET_JOBS,
                Attribute.keyword("which-jobs", "all"),
                everything,
            ),
            "eve-not-found": capture(
                printer, Operation.GET_JOB_ATTRIBUTES, Attribute.integer("job-id", 99999)
            ),
            "cupsd-printer": capture(cups, Operation.GET_PRINTER_ATTRIBUTES, everything),
            "cupsd-printers": capture(cups, Operation.CUPS_GET_PRINTERS, everything),
        }
