"""The client against the real peers: ippeveprinter and a private cupsd."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from printmgmt.ipp import (
    Attribute,
    AttributeGroup,
    Collection,
    IppStatusError,
    IppTransportError,
    JobState,
    Status,
)
from printmgmt.ipp.client import IppClient
from tests.ipp.helpers import first_values
from tests.peers import Cupsd, IppEvePrinter, IppEvePrinterFactory, free_port

pytestmark = pytest.mark.peers


def wait_for_job(
    client: IppClient, job_id: int, done: Callable[[int], bool], timeout: float = 30.0
) -> AttributeGroup:
    """Poll Get-Job-Attributes until the job state satisfies ``done``."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get_job_attributes(job_id, ["job-state", "job-state-reasons"])
        state = job.get("job-state")
        assert state is not None
        assert isinstance(state.value, int)
        if done(state.value):
            return job
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} still in state {state.value} after {timeout} s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cupsd_queue(cupsd: Cupsd, ippeveprinter: IppEvePrinter) -> str:
    """A driverless cupsd queue in front of the module's ippeveprinter."""
    return cupsd.add_queue("finisher", ippeveprinter.uri)


def test_get_printer_attributes_from_ippeveprinter(ippeveprinter: IppEvePrinter) -> None:
    with IppClient(ippeveprinter.uri) as client:
        printer = client.get_printer_attributes(["printer-state", "finishings-supported"])
    state = printer.get("printer-state")
    assert state is not None
    assert state.value in (3, 4)
    finishings = printer.get("finishings-supported")
    assert finishings is not None
    assert finishings.syntax == "1setOf enum"
    assert 20 in finishings.python_values
    assert printer.get("printer-name") is None  # only what was asked for


def test_get_printer_attributes_from_cupsd(cupsd_queue: str) -> None:
    with IppClient(cupsd_queue) as client:
        printer = client.get_printer_attributes()
    name = printer.get("printer-name")
    assert name is not None
    assert name.value == "finisher"
    assert printer.get("device-uri") is not None


def test_cups_get_printers_lists_the_queue(cupsd: Cupsd, cupsd_queue: str) -> None:
    with IppClient(cupsd.uri) as client:
        queues = client.cups_get_printers()
    assert "finisher" in first_values(queues, "printer-name")


def test_print_job_with_finishings_and_cover(
    ippeveprinter: IppEvePrinter, pdf_file: Path, cover_and_staple: list[Attribute]
) -> None:
    with IppClient(ippeveprinter.uri) as client:
        client.validate_job(document_format="application/pdf", job_attributes=cover_and_staple)
        job = client.print_job(
            pdf_file, document_format="application/pdf", job_attributes=cover_and_staple
        )
        attributes = client.get_job_attributes(job.job_id)
    assert job.status_code == Status.SUCCESSFUL_OK
    finishings = attributes.get("finishings")
    assert finishings is not None
    assert finishings.python_values == (20, 74)
    cover = attributes.get("cover-front")
    assert cover is not None
    assert isinstance(cover.value, Collection)
    assert cover.value["cover-type"] == "print-front"
    media_col = cover.value["media-col"]
    assert isinstance(media_col, Collection)
    assert media_col["media-source"] == "by-pass-tray"
    spooled = list(ippeveprinter.spool_dir.glob(f"{job.job_id}-*.pdf"))
    assert [path.read_bytes() for path in spooled] == [pdf_file.read_bytes()]


def test_create_job_and_send_document(
    ippeveprinter: IppEvePrinter, pdf_file: Path, cover_and_staple: list[Attribute]
) -> None:
    with IppClient(ippeveprinter.uri) as client:
        created = client.create_job(job_name="created", job_attributes=cover_and_staple)
        sent = client.send_document(
            created.job_id, pdf_file, last_document=True, document_format="application/pdf"
        )
        job = wait_for_job(client, created.job_id, lambda state: state == JobState.COMPLETED)
        attributes = client.get_job_attributes(created.job_id)
    assert sent.job_id == created.job_id
    assert job.get("job-state") is not None
    finishings = attributes.get("finishings")
    assert finishings is not None
    assert finishings.python_values == (20, 74)
    assert attributes.get("cover-front") is not None


def test_unsupported_document_format_is_a_final_error(
    ippeveprinter: IppEvePrinter, tmp_path: Path
) -> None:
    document = tmp_path / "note.txt"
    document.write_text("plain text")
    with IppClient(ippeveprinter.uri) as client, pytest.raises(IppStatusError) as caught:
        client.print_job(document, document_format="text/x-unheard-of")
    # ippeveprinter names the attribute rather than using document-format-not-supported.
    assert caught.value.status_code == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    assert caught.value.unsupported_attributes == ("document-format",)
    assert not caught.value.retryable
    assert caught.value.status_message


def test_cancel_job(ippeveprinter: IppEvePrinter) -> None:
    with IppClient(ippeveprinter.uri) as client:
        created = client.create_job(job_name="to cancel")
        client.cancel_job(created.job_id)
        job = client.get_job_attributes(created.job_id, ["job-state"])
        jobs = client.get_jobs(which_jobs="completed")
    state = job.get("job-state")
    assert state is not None
    assert state.value == JobState.CANCELED
    assert created.job_id in first_values(jobs, "job-id")


def test_job_through_a_cupsd_queue_reaches_the_printer(
    cupsd_queue: str, ippeveprinter: IppEvePrinter, pdf_file: Path
) -> None:
    before = set(ippeveprinter.spool_dir.iterdir())
    with IppClient(cupsd_queue) as client:
        job = client.print_job(pdf_file, document_format="application/pdf")
        wait_for_job(client, job.job_id, lambda state: state == JobState.COMPLETED, 60)
    arrived = set(ippeveprinter.spool_dir.iterdir()) - before
    assert arrived, "cupsd completed the job but the printer spool stayed empty"


def test_hold_release_and_several_documents_at_cupsd(cupsd_queue: str, pdf_file: Path) -> None:
    with IppClient(cupsd_queue) as client:
        created = client.create_job(job_name="held")
        client.hold_job(created.job_id)
        client.send_document(created.job_id, pdf_file, last_document=False)
        client.send_document(created.job_id, pdf_file, last_document=True)
        held = wait_for_job(client, created.job_id, lambda s: s == JobState.PENDING_HELD)
        documents = client.get_job_attributes(created.job_id, ["number-of-documents"])
        client.release_job(created.job_id)
        done = wait_for_job(client, created.job_id, lambda s: s == JobState.COMPLETED, 60)
        listed = client.get_jobs(which_jobs="completed")
    assert held.get("job-state") is not None
    assert done.get("job-state") is not None
    count = documents.get("number-of-documents")
    assert count is not None
    assert count.value == 2
    assert created.job_id in first_values(listed, "job-id")


def test_basic_auth_against_cupsd(cupsd: Cupsd, ippeveprinter: IppEvePrinter) -> None:
    if cupsd.auth_user is None or cupsd.auth_password is None:
        pytest.skip("no mount namespace here, so no private PAM configuration for cupsd")
    secure = cupsd.add_queue("secure", ippeveprinter.uri, requires_auth=True)
    with IppClient(secure) as anonymous, pytest.raises(IppStatusError) as refused:
        anonymous.get_printer_attributes(["printer-state"])
    assert refused.value.status_code == Status.CLIENT_ERROR_NOT_AUTHENTICATED
    assert not refused.value.retryable
    wrong = (cupsd.auth_user, "wrong password")
    with IppClient(secure, auth=wrong) as client, pytest.raises(IppStatusError):
        client.get_printer_attributes(["printer-state"])
    right = (cupsd.auth_user, cupsd.auth_password)
    with IppClient(secure, auth=right) as client:
        assert client.get_printer_attributes(["printer-state"]).get("printer-state")


def test_printer_that_is_down_gives_a_retryable_transport_error() -> None:
    with (
        IppClient(f"ipp://127.0.0.1:{free_port()}/ipp/print", timeout=5) as client,
        pytest.raises(
            IppTransportError, match="cannot connect: the connection was refused"
        ) as caught,
    ):
        client.get_printer_attributes()
    assert caught.value.retryable


def test_ipps_verifies_certificates_and_trusts_a_pinned_one(
    ippeveprinter_factory: IppEvePrinterFactory, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    printer = ippeveprinter_factory(extra_args=["-K", str(keys)])
    uri = f"ipps://localhost:{printer.port}/ipp/print"
    with (
        IppClient(uri) as client,
        pytest.raises(
            IppTransportError, match="its certificate is not trusted: self-signed certificate"
        ),
    ):
        client.get_printer_attributes(["printer-state"])
    # ippeveprinter made its self-signed certificate on that first TLS connection.
    certificate = keys / "localhost.crt"
    with IppClient(uri, ca_file=certificate) as client:
        assert client.get_printer_attributes(["printer-state"]).get("printer-state")
