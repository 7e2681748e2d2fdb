"""Bad input gets the right IPP status or HTTP code, leaves no file and no job behind, and the
next request is served normally."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from apps.ippserver import asgi as ipp_asgi
from apps.ippserver.models import IppJob
from apps.ippserver.operations import Admission
from apps.ippserver.protocol import Endpoint
from apps.jobs.models import Job
from printmgmt.ipp import (
    Attribute,
    AttributeGroup,
    GroupTag,
    Message,
    Operation,
    Status,
    decode,
    encode,
)
from tests.ippserver.conftest import IppTester, Printing, basic_authorization, spool_entries
from tests.ippserver.documents import make_image
from tests.pdfs import make_pdf
from tests.servers import AsgiServer, start_asgi_server, stop_asgi_server


@pytest.fixture
def pdf(tmp_path: Path) -> bytes:
    return make_pdf(tmp_path / "doc.pdf", 2).read_bytes()


def _auth(printing: Printing) -> tuple[str, str]:
    return printing.username, printing.password


def _answer(response: httpx.Response) -> Message:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/ipp"
    return decode(response.content)


def _status_message(answer: Message) -> str:
    status = answer.get("status-message")
    assert status is not None, answer
    return str(status.value)


def _served_normally(ipp: IppTester, printing: Printing, pdf: bytes) -> None:
    answer = ipp.print_job(_auth(printing), pdf)
    assert answer.status_code == Status.SUCCESSFUL_OK


def _print_job_bytes(ipp: IppTester, document_format: str = "application/pdf") -> bytes:
    request = ipp.request(
        Operation.PRINT_JOB,
        operation_attributes=[Attribute.mime_media_type("document-format", document_format)],
    )
    return encode(request)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x00",
        b"GET / HTTP/1.1\r\n\r\n",
        bytes(range(256)) * 4,
        b"\x02\x00\x00\x02\x00\x00\x00\x01\x01\x47\xff\xff",  # a value longer than the message
    ],
    ids=["empty", "one-byte", "http-in-ipp", "garbage", "length-past-end"],
)
def test_garbage_is_a_bad_request(
    ipp: IppTester, printing: Printing, pdf: bytes, body: bytes
) -> None:
    before = spool_entries()
    answer = _answer(ipp.post(body, auth=_auth(printing)))
    assert answer.status_code == Status.CLIENT_ERROR_BAD_REQUEST
    assert spool_entries() == before
    assert not Job.objects.exists()
    _served_normally(ipp, printing, pdf)


def test_a_truncated_message_is_a_bad_request(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    whole = _print_job_bytes(ipp)
    answer = _answer(ipp.post(whole[: len(whole) - 5], auth=_auth(printing)))
    assert answer.status_code == Status.CLIENT_ERROR_BAD_REQUEST
    assert (answer.version, answer.request_id) == ((2, 0), 1)
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("version", "closest"),
    [((0, 0), (1, 0)), ((3, 0), (2, 0)), ((2, 3), (2, 0)), ((1, 9), (1, 1))],
)
def test_an_unsupported_version_is_refused_in_the_closest_one_supported(
    transactional_db: None, ipp: IppTester, version: tuple[int, int], closest: tuple[int, int]
) -> None:
    """RFC 8011 section 4.1.8: the client learns which version to retry in (a 3.0 request was
    answered in 1.1, as if 2.0 were not spoken)."""
    request = ipp.request(Operation.GET_PRINTER_ATTRIBUTES, version=version)
    answer = _answer(ipp.post(encode(request)))
    assert answer.status_code == Status.SERVER_ERROR_VERSION_NOT_SUPPORTED
    assert answer.version == closest
    assert answer.group(GroupTag.PRINTER) is None


def _with_operation_group(ipp: IppTester, *attributes: Attribute) -> bytes:
    return encode(
        Message((2, 0), Operation.PRINT_JOB, 9, (AttributeGroup(GroupTag.OPERATION, attributes),))
    )


@pytest.mark.parametrize("missing", ["charset", "language", "uri", "all"])
def test_missing_first_attributes_are_a_bad_request(
    ipp: IppTester, printing: Printing, pdf: bytes, missing: str
) -> None:
    first = {
        "charset": Attribute.charset("attributes-charset", "utf-8"),
        "language": Attribute.natural_language("attributes-natural-language", "en"),
        "uri": Attribute.uri("printer-uri", ipp.server.ipp_uri),
    }
    kept = [] if missing == "all" else [a for key, a in first.items() if key != missing]
    before = spool_entries()
    answer = _answer(ipp.post(_with_operation_group(ipp, *kept) + pdf, auth=_auth(printing)))
    assert answer.status_code == Status.CLIENT_ERROR_BAD_REQUEST
    assert spool_entries() == before
    assert not Job.objects.exists()


def test_attributes_in_the_wrong_order_are_a_bad_request(ipp: IppTester) -> None:
    body = _with_operation_group(
        ipp,
        Attribute.natural_language("attributes-natural-language", "en"),
        Attribute.charset("attributes-charset", "utf-8"),
        Attribute.uri("printer-uri", ipp.server.ipp_uri),
    )
    assert _answer(ipp.post(body)).status_code == Status.CLIENT_ERROR_BAD_REQUEST


def test_oversized_attributes_are_a_bad_request(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    huge_name = ipp.request(
        Operation.PRINT_JOB, operation_attributes=[Attribute.text("x" * 5000, "value")]
    )
    many_values = ipp.request(
        Operation.PRINT_JOB,
        operation_attributes=[Attribute.keyword("requested-attributes", *["all"] * 20_000)],
    )
    large = ipp.request(
        Operation.PRINT_JOB,
        operation_attributes=[Attribute.text(f"x-{n}", "y" * 60_000) for n in range(20)],
    )
    for request, why in [
        (huge_name, "name length 5000 exceeds the limit of 1024"),
        (many_values, "more than 10000 values"),
        (large, "its attributes are larger than 1 MB"),
    ]:
        answer = _answer(ipp.post(encode(request) + pdf, auth=_auth(printing)))
        assert answer.status_code == Status.CLIENT_ERROR_BAD_REQUEST
        message = _status_message(answer)
        assert message.startswith("the request is not a valid IPP message: "), message
        assert why in message
    assert not Job.objects.exists()
    _served_normally(ipp, printing, pdf)


@pytest.mark.parametrize(
    "uri",
    [
        "ipp://[::1/ipp/print",  # an IPv6 address never closed: urlsplit raises
        "ipp://127.0.0.1:port/ipp/print",
        "/ipp/print",
        "print",
        "mailto:root@localhost",
        "ipp:///ipp/print",
        "ipp://127.0.0.1/ipp/print\x00",
        "ipp://127.0.0.1/ipp/print now",
    ],
)
@pytest.mark.parametrize("name", ["printer-uri", "job-uri"])
def test_a_target_uri_that_is_not_an_absolute_ipp_uri_is_a_bad_request(
    ipp: IppTester, printing: Printing, pdf: bytes, uri: str, name: str
) -> None:
    operation = Operation.GET_PRINTER_ATTRIBUTES if name == "printer-uri" else Operation.CANCEL_JOB
    request = Message.request(operation, 3, target_uri=uri, target_name=name)
    response = ipp.post(encode(request), auth=_auth(printing))
    answer = _answer(response)
    assert answer.status_code == Status.CLIENT_ERROR_BAD_REQUEST
    message = _status_message(answer)
    assert message.startswith(f"{name} must be an absolute URI"), message
    assert "\x00" not in message
    _served_normally(ipp, printing, pdf)


def test_uris_that_are_not_the_printers_or_its_jobs_are_not_found(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _auth(printing)
    assert ipp.print_job(auth, pdf).status_code == Status.SUCCESSFUL_OK
    job_id = IppJob.objects.get().pk
    base = ipp.server.ipp_uri.removesuffix("/ipp/print")
    for name, uri in [
        ("printer-uri", f"{base}/ipp/printer"),
        ("printer-uri", f"{base}/ipp/print/other"),
        ("job-uri", f"{base}/ipp/printer/{job_id}"),
        ("job-uri", f"{base}/ipp/print/other/{job_id}"),
        ("job-uri", f"{base}/ipp/print"),
    ]:
        operation = Operation.PRINT_JOB if name == "printer-uri" else Operation.CANCEL_JOB
        request = Message.request(operation, 3, target_uri=uri, target_name=name)
        answer = _answer(ipp.post(encode(request) + pdf, auth=auth))
        assert answer.status_code == Status.CLIENT_ERROR_NOT_FOUND, uri
        assert f"at {uri.removeprefix(base)}" in str(answer.get("status-message")), answer
    assert Job.objects.get().state == "held"  # one job: the first, not canceled


def test_a_job_id_that_is_no_integer_is_a_bad_request(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _auth(printing)
    assert ipp.print_job(auth, pdf).status_code == Status.SUCCESSFUL_OK
    for job_id in (Attribute.boolean("job-id", True), Attribute.enum("job-id", 1)):
        request = ipp.request(Operation.CANCEL_JOB, operation_attributes=[job_id])
        answer = _answer(ipp.post(encode(request), auth=auth))
        assert answer.status_code == Status.CLIENT_ERROR_BAD_REQUEST, job_id
    assert Job.objects.get().state == "held"


def test_an_unknown_operation_is_not_supported(ipp: IppTester, printing: Printing) -> None:
    request = ipp.request(0x3FFF)
    answer = _answer(ipp.post(encode(request), auth=_auth(printing)))
    assert answer.status_code == Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED


@pytest.mark.parametrize(
    ("claimed", "actual"),
    [("application/pdf", "jpeg"), ("image/jpeg", "pdf"), ("image/png", "text")],
)
def test_a_document_that_is_not_what_its_format_says_is_refused(
    ipp: IppTester, printing: Printing, pdf: bytes, tmp_path: Path, claimed: str, actual: str
) -> None:
    documents = {
        "jpeg": make_image(tmp_path / "photo.jpg").read_bytes(),
        "pdf": pdf,
        "text": b"just some words\n",
    }
    before = spool_entries()
    answer = ipp.print_job(_auth(printing), documents[actual], document_format=claimed)
    assert answer.status_code == Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR
    assert "not" in str(answer.get("status-message"))
    assert spool_entries() == before
    assert not Job.objects.exists()
    _served_normally(ipp, printing, pdf)


@pytest.mark.parametrize("document_format", ["text/plain", "application/octet-stream"])
def test_a_text_of_white_space_only_is_refused_as_an_empty_document(
    ipp: IppTester, printing: Printing, pdf: bytes, document_format: str
) -> None:
    # It was held as a blank page; an empty file is refused.
    before = spool_entries()
    answer = ipp.print_job(
        _auth(printing), b"  \r\n\n\t\f", document_format=document_format, name="notes"
    )
    assert answer.status_code == Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR, answer
    assert _status_message(answer).endswith("the document is empty")
    assert spool_entries() == before
    assert not Job.objects.exists()
    _served_normally(ipp, printing, pdf)


def test_a_broken_pdf_is_refused(ipp: IppTester, printing: Printing, pdf: bytes) -> None:
    before = spool_entries()
    answer = ipp.print_job(_auth(printing), pdf[: len(pdf) // 3])
    assert answer.status_code == Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR
    assert spool_entries() == before
    assert not Job.objects.exists()


def test_an_unsupported_document_format_is_refused(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    answer = ipp.print_job(_auth(printing), pdf, document_format="application/vnd.hp-pcl")
    assert answer.status_code == Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED
    unsupported = answer.group(GroupTag.UNSUPPORTED)
    assert unsupported is not None
    assert "document-format" in unsupported


def test_compression_is_refused(ipp: IppTester, printing: Printing, pdf: bytes) -> None:
    request = ipp.request(
        Operation.PRINT_JOB, operation_attributes=[Attribute.keyword("compression", "gzip")]
    )
    answer = _answer(ipp.post(encode(request) + pdf, auth=_auth(printing)))
    assert answer.status_code == Status.CLIENT_ERROR_COMPRESSION_NOT_SUPPORTED


def test_get_is_405_and_other_content_types_are_400(ipp: IppTester) -> None:
    got = httpx.get(ipp.url)
    assert got.status_code == 405
    assert got.headers["allow"] == "POST"
    assert (
        httpx.post(ipp.url, content=b"x", headers={"content-type": "text/plain"}).status_code == 400
    )


@pytest.mark.parametrize("host", ['print"example', "print.example.edu/x", "[::1", "a:b:c"])
def test_a_host_header_that_is_no_host_is_400(
    transactional_db: None, ipp: IppTester, host: str
) -> None:
    # The printer's URIs in the answer are built from it: they would not be URIs.
    request = encode(ipp.request(Operation.GET_PRINTER_ATTRIBUTES))
    refused = ipp.post(request, headers={"host": host})
    assert refused.status_code == 400
    assert refused.text == "the Host header is not a host name\n"
    assert ipp.post(request).status_code == 200


def test_a_chunked_upload_with_expect_continue_is_streamed_in(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    head = _print_job_bytes(ipp)

    def chunks() -> Iterator[bytes]:
        yield head
        for start in range(0, len(pdf), 1000):
            yield pdf[start : start + 1000]

    response = httpx.post(
        ipp.url,
        content=chunks(),
        headers={"content-type": "application/ipp", "expect": "100-continue"},
        auth=_auth(printing),
        timeout=30,
    )
    assert _answer(response).status_code == Status.SUCCESSFUL_OK
    assert Job.objects.get().page_count == 2


def _wait_for_spool(expected: set[str], timeout: float = 10.0) -> set[str]:
    deadline = time.monotonic() + timeout
    while spool_entries() != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return spool_entries()


def test_a_client_that_disconnects_mid_upload_leaves_nothing(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    before = spool_entries()
    head = _print_job_bytes(ipp)
    credentials = basic_authorization(*_auth(printing))
    with socket.create_connection(("127.0.0.1", ipp.server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /ipp/print HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/ipp\r\nContent-Length: 10000000\r\n"
            + f"Authorization: {credentials}\r\n\r\n".encode()
            + head
            + b"%PDF-1.4\n"
            + b"x" * 200_000
        )
        # Wait until the server has started writing the document, then vanish.
        deadline = time.monotonic() + 10
        while spool_entries() == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert spool_entries() != before, "the upload never reached the spool"
    assert _wait_for_spool(before) == before
    assert not Job.objects.exists()
    _served_normally(ipp, printing, pdf)


@pytest.fixture(scope="module")
def small_limit_server(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AsgiServer]:
    """A second server whose documents are limited to 1 MB."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAX_DOCUMENT_MB", "1")
        server = start_asgi_server(tmp_path_factory.mktemp("small") / "uvicorn.log")
    yield server
    stop_asgi_server(server)


def test_while_the_database_cannot_be_used_requests_are_told_to_come_back(
    tmp_path: Path, pdf: bytes
) -> None:
    """A database being restarted or out of reach: server-error-service-unavailable, which CUPS
    retries (the Print-Job was HTTP 500 with a traceback, and the printer's attributes
    server-error-internal-error); nothing is kept."""
    unreachable = f"sqlite:///{tmp_path / 'no such directory' / 'db.sqlite3'}"
    server = start_asgi_server(tmp_path / "uvicorn.log", extra_env={"DATABASE_URL": unreachable})
    before = spool_entries()
    try:
        ipp = IppTester(server)
        printer = _answer(ipp.post(encode(ipp.request(Operation.GET_PRINTER_ATTRIBUTES))))
        job = _answer(ipp.post(_print_job_bytes(ipp) + pdf, auth=("dana", "a password")))
    finally:
        stop_asgi_server(server)
    for answer in (printer, job):
        assert answer.status_code == Status.SERVER_ERROR_SERVICE_UNAVAILABLE
        assert answer.get("status-message") == Attribute.text(
            "status-message", "the print service cannot reach its database: try again in a moment"
        )
    assert spool_entries() == before
    log = (tmp_path / "uvicorn.log").read_text()
    assert "Exception in ASGI application" not in log
    assert "IPP Print-Job request 2: the database cannot be used: unable to open" in log


def _exchange(server: AsgiServer, headers: str, body: Iterator[bytes]) -> bytes:
    """Send a request over a raw socket (body pieces as given) and read the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(f"POST /ipp/print HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode())
        for piece in body:
            sock.sendall(piece)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_an_upload_past_the_limit_is_413(
    small_limit_server: AsgiServer, printing: Printing, pdf: bytes
) -> None:
    ipp = IppTester(small_limit_server)
    before = spool_entries()
    auth = f"Authorization: {basic_authorization(*_auth(printing))}\r\n"
    # Declared too large: refused before the body is read (a client waiting for 100-continue
    # sends nothing).
    declared = _exchange(
        small_limit_server,
        f"Content-Type: application/ipp\r\n{auth}Content-Length: 2000000\r\n"
        "Expect: 100-continue\r\n",
        iter(()),
    )
    assert declared.startswith(b"HTTP/1.1 413 ")

    def chunked(pieces: list[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        yield b"0\r\n\r\n"

    # Chunked, no length: found out while streaming, past 1 MB; the little that was sent past
    # the limit is read and dropped, so the client reads the answer.
    pieces = [_print_job_bytes(ipp) + pdf, *[b"%" * 65536] * 17]
    streamed = _exchange(
        small_limit_server,
        f"Content-Type: application/ipp\r\n{auth}Transfer-Encoding: chunked\r\n",
        chunked(pieces),
    )
    assert streamed.startswith(b"HTTP/1.1 413 ")
    assert _wait_for_spool(before) == before
    assert not Job.objects.exists()
    _served_normally(ipp, printing, pdf)


def _stalling_client(*pieces: bytes) -> list[Mapping[str, Any]]:
    """Drive the endpoint in this process with a client that sends `pieces` and then nothing,
    without closing; what the endpoint sent, and within seconds (BODY_IDLE_SECONDS is cut
    where a test needs it)."""
    events = [{"type": "http.request", "body": piece, "more_body": True} for piece in pieces]
    sent: list[Mapping[str, Any]] = []

    async def receive() -> dict[str, object]:
        if events:
            return events.pop(0)
        await asyncio.sleep(3600)  # the client says nothing more
        raise AssertionError("not reached")

    async def send(message: Mapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/ipp/print",
        "headers": [(b"content-type", b"application/ipp"), (b"host", b"localhost")],
    }
    started = time.monotonic()
    asyncio.run(ipp_asgi.ipp_endpoint(scope, receive, send))
    assert time.monotonic() - started < 5
    return sent


def test_a_request_that_stops_arriving_is_answered_408_and_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A client that sends part of a request and then nothing holds no connection for ever."""
    monkeypatch.setattr(ipp_asgi, "BODY_IDLE_SECONDS", 0.2)
    # The first bytes of a Get-Printer-Attributes.
    sent = _stalling_client(b"\x02\x00\x00\x0b\x00\x00\x00\x01")
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]


def test_documents_are_converted_on_threads_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slow conversions (a PostScript loop runs until Ghostscript's time limit) take at most
    the document threads; every other request is answered on the others."""
    threads: list[str] = []

    def answer_on(*args: object) -> None:
        threads.append(threading.current_thread().name)

    monkeypatch.setattr(ipp_asgi, "_run_answer", answer_on)
    endpoint = Endpoint(host="localhost", secure=False)
    request = Message.request(Operation.PRINT_JOB, 1, target_uri="ipp://localhost/ipp/print")
    admission = Admission(None)
    asyncio.run(ipp_asgi._answer(request, admission, endpoint, Path("document")))
    asyncio.run(ipp_asgi._answer(request, admission, endpoint, None))
    assert threads[0].startswith("ipp-document")
    assert not threads[1].startswith("ipp-document")


def test_a_client_that_stops_after_sending_too_much_still_gets_its_413(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.MAX_DOCUMENT_MB = 1
    monkeypatch.setattr(ipp_asgi, "BODY_IDLE_SECONDS", 0.2)
    sent = _stalling_client(b"\x02\x00" + bytes(1024 * 1024))
    assert sent[0]["status"] == 413


def test_a_document_sent_without_credentials_is_answered_401_without_reading_all_of_it() -> None:
    # Told 100-continue, a client sends its whole document before it can read the 401: the
    # rest past a few megabytes is not read (the connection is closed instead), so a client
    # that sends more, or stops sending, gets its answer at once.
    request = Message.request(Operation.PRINT_JOB, 1, target_uri="ipp://localhost/ipp/print")
    megabyte = b"%" * (1024 * 1024)
    sent = _stalling_client(encode(request) + megabyte, *[megabyte] * 5)
    assert sent[0]["status"] == 401
    assert (b"connection", b"close") in sent[0]["headers"]
