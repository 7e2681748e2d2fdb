"""Our IPP printer holds MAX_DOCUMENT_PAGES to each document of a job, not to the job: a job
of several documents (Create-Job and Send-Document, or PDFs that CUPS sent back to back) was
refused when their pages together passed it, without naming a document."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.jobs.models import Job
from printmgmt.ipp import Attribute, Message, Operation, Status
from tests.ippserver.conftest import IppTester, Printing, attribute_value
from tests.pdfs import make_pdf
from tests.servers import start_asgi_server, stop_asgi_server

LIMIT = 3
CUPS_AGENT = "CUPS/2.4.2 (Linux 6.1.0; x86_64) IPP/2.0"


@pytest.fixture(scope="module")
def ipp_with_a_page_limit(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IppTester]:
    log = tmp_path_factory.mktemp("asgi-page-limit") / "uvicorn.log"
    server = start_asgi_server(log, extra_env={"MAX_DOCUMENT_PAGES": str(LIMIT)})
    yield IppTester(server)
    stop_asgi_server(server)


def _send(
    ipp: IppTester, auth: tuple[str, str], job_id: int, document: bytes, *, last: bool, name: str
) -> Message:
    operation = [
        Attribute.boolean("last-document", last),
        Attribute.mime_media_type("document-format", "application/pdf"),
        Attribute.name_("document-name", name),
    ]
    request = ipp.request(Operation.SEND_DOCUMENT, job_id=job_id, operation_attributes=operation)
    return ipp.send(request, document, auth=auth)


def _create_job(ipp: IppTester, auth: tuple[str, str]) -> int:
    created = ipp.send(ipp.request(Operation.CREATE_JOB), auth=auth)
    job_id = attribute_value(created, "job-id")
    assert isinstance(job_id, int), created
    return job_id


def test_documents_sent_one_by_one_are_each_held_to_the_page_limit(
    ipp_with_a_page_limit: IppTester, printing: Printing, tmp_path: Path
) -> None:
    ipp, auth = ipp_with_a_page_limit, (printing.username, printing.password)
    two = make_pdf(tmp_path / "two.pdf", 2).read_bytes()
    job_id = _create_job(ipp, auth)
    first = _send(ipp, auth, job_id, two, last=False, name="a.pdf")
    assert first.status_code == Status.SUCCESSFUL_OK
    held = _send(ipp, auth, job_id, two, last=True, name="b.pdf")
    assert held.status_code == Status.SUCCESSFUL_OK, held
    job = Job.objects.get()
    assert (job.page_count, [document["pages"] for document in job.documents]) == (4, [2, 2])

    four = make_pdf(tmp_path / "four.pdf", 4).read_bytes()
    job_id = _create_job(ipp, auth)
    first = _send(ipp, auth, job_id, two, last=False, name="a.pdf")
    assert first.status_code == Status.SUCCESSFUL_OK
    refused = _send(ipp, auth, job_id, four, last=True, name="thesis.pdf")
    assert refused.status_code == Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR
    assert attribute_value(refused, "status-message") == (
        f"thesis.pdf: the PDF has more than {LIMIT} pages: it is refused"
    )
    assert Job.objects.count() == 1


def test_pdfs_cups_sends_back_to_back_are_each_held_to_the_page_limit(
    ipp_with_a_page_limit: IppTester,
    printing: Printing,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ipp, auth = ipp_with_a_page_limit, (printing.username, printing.password)
    monkeypatch.setitem(ipp.headers, "user-agent", CUPS_AGENT)
    two = make_pdf(tmp_path / "two.pdf", 2).read_bytes()
    four = make_pdf(tmp_path / "four.pdf", 4).read_bytes()
    printed = ipp.print_job(auth, two + two, name="two files")
    assert printed.status_code == Status.SUCCESSFUL_OK, printed
    job = Job.objects.get()
    assert (job.page_count, [document["pages"] for document in job.documents]) == (4, [2, 2])
    refused = ipp.print_job(auth, two + four, name="two files")
    assert refused.status_code == Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR
    assert attribute_value(refused, "status-message") == (
        f"document 2: the PDF has more than {LIMIT} pages: it is refused"
    )
    assert Job.objects.count() == 1


@pytest.mark.parametrize(
    ("names", "named"),
    [
        ({"job-name": "report", "document-name": "thesis.pdf"}, "thesis.pdf"),
        ({"job-name": "report"}, "report"),
        ({}, "document 1"),
    ],
    ids=["document-name", "job-name", "no-name"],
)
def test_a_print_job_of_one_document_over_the_page_limit_names_it(
    ipp_with_a_page_limit: IppTester,
    printing: Printing,
    tmp_path: Path,
    names: dict[str, str],
    named: str,
) -> None:
    # It was refused as "the PDF has more than 3 pages: it is refused", where a job of several
    # documents names the one refused.
    ipp, auth = ipp_with_a_page_limit, (printing.username, printing.password)
    four = make_pdf(tmp_path / "four.pdf", 4).read_bytes()
    documents = [
        (four, "application/pdf", "the PDF has more than 3 pages"),
        (b"page\f" * 5, "text/plain", "the text makes more than 3 pages"),
    ]
    for document, document_format, why in documents:
        operation = [
            *(Attribute.name_(name, value) for name, value in names.items()),
            Attribute.mime_media_type("document-format", document_format),
        ]
        request = ipp.request(Operation.PRINT_JOB, operation_attributes=operation)
        refused = ipp.send(request, document, auth=auth)
        assert refused.status_code == Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR
        assert attribute_value(refused, "status-message") == f"{named}: {why}: it is refused"
    assert not Job.objects.exists()


def test_the_only_document_of_a_created_job_over_the_page_limit_is_named(
    ipp_with_a_page_limit: IppTester, printing: Printing, tmp_path: Path
) -> None:
    ipp, auth = ipp_with_a_page_limit, (printing.username, printing.password)
    four = make_pdf(tmp_path / "four.pdf", 4).read_bytes()
    refused = _send(ipp, auth, _create_job(ipp, auth), four, last=True, name="thesis.pdf")
    assert refused.status_code == Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR
    assert attribute_value(refused, "status-message") == (
        f"thesis.pdf: the PDF has more than {LIMIT} pages: it is refused"
    )
    assert not Job.objects.exists()
