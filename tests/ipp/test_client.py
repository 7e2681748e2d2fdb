"""The client against a scripted HTTP transport: errors, retry advice, streaming."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from printmgmt.ipp import (
    Attribute,
    AttributeGroup,
    DecodeLimits,
    GroupTag,
    IppStatusError,
    IppTransportError,
    Message,
    Operation,
    Status,
    StatusClass,
    decode,
    encode,
)
from printmgmt.ipp.client import IppClient, http_url

PRINTER = "ipp://printer.test/ipp/print"


def answer(
    status: int = 0,
    *,
    job_id: int | None = None,
    message: str | None = None,
    unsupported: tuple[str, ...] = (),
) -> bytes:
    groups = []
    if unsupported:
        attributes = tuple(Attribute.keyword(name, "x") for name in unsupported)
        groups.append(AttributeGroup(GroupTag.UNSUPPORTED, attributes))
    if job_id is not None:
        groups.append(
            AttributeGroup(
                GroupTag.JOB,
                (
                    Attribute.integer("job-id", job_id),
                    Attribute.uri("job-uri", f"{PRINTER}/{job_id}"),
                    Attribute.enum("job-state", 3),
                ),
            )
        )
    return encode(Message.response(status, 1, status_message=message, groups=groups))


def client_with(handler: Callable[[httpx.Request], httpx.Response], **options: object) -> IppClient:
    return IppClient(PRINTER, transport=httpx.MockTransport(handler), **options)  # type: ignore[arg-type]


def ipp_response(body: bytes) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, content=body)


@pytest.mark.parametrize(
    ("uri", "url"),
    [
        ("ipp://p.example/ipp/print", "http://p.example:631/ipp/print"),
        ("ipps://p.example/ipp/print", "https://p.example:631/ipp/print"),
        ("IPP://p.example:8631/printers/q", "http://p.example:8631/printers/q"),
        ("ipp://p.example", "http://p.example:631/"),
        ("ipp://[::1]/ipp/print", "http://[::1]:631/ipp/print"),
        ("http://p.example/ipp", "http://p.example/ipp"),
    ],
)
def test_ipp_uris_map_to_http(uri: str, url: str) -> None:
    assert http_url(uri) == url


@pytest.mark.parametrize("uri", ["lpd://p/queue", "ipp:///nohost", "printer"])
def test_other_uris_are_refused(uri: str) -> None:
    with pytest.raises(ValueError, match="not an IPP printer URI"):
        http_url(uri)


def test_requests_carry_the_required_operation_attributes() -> None:
    seen: list[Message] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["content-type"] == "application/ipp"
        assert request.url == "http://printer.test:631/ipp/print"
        seen.append(decode(request.read()))
        return httpx.Response(200, content=answer())

    with client_with(handler, user_name="alice") as client:
        client.get_printer_attributes(["printer-state"])
        client.hold_job(5)
        client.release_job(5)
        client.cancel_job(5)
    first, *_, cancel = seen
    assert [a.name for a in first.operation_attributes][:3] == [
        "attributes-charset",
        "attributes-natural-language",
        "printer-uri",
    ]
    assert [m.operation_id for m in seen[1:]] == [
        Operation.HOLD_JOB,
        Operation.RELEASE_JOB,
        Operation.CANCEL_JOB,
    ]
    assert [m.request_id for m in seen] == [1, 2, 3, 4]
    user = cancel.get("requesting-user-name")
    assert user is not None
    assert user.value == "alice"


def test_error_status_becomes_a_final_status_error() -> None:
    body = answer(
        Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
        message="Unsupported finishings value.",
        unsupported=("finishings",),
    )
    with client_with(ipp_response(body)) as client, pytest.raises(IppStatusError) as caught:
        client.validate_job(job_attributes=[Attribute.enum("finishings", 50)])
    error = caught.value
    assert error.status_code == 0x040B
    assert error.status_name == "client-error-attributes-or-values-not-supported"
    assert error.status_class is StatusClass.CLIENT_ERROR
    assert error.status_message == "Unsupported finishings value."
    assert error.unsupported_attributes == ("finishings",)
    assert not error.retryable
    assert str(error) == (
        "Validate-Job: Unsupported finishings value. "
        "[client-error-attributes-or-values-not-supported] (unsupported: finishings)"
    )


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (Status.SERVER_ERROR_BUSY, True),
        (Status.SERVER_ERROR_SERVICE_UNAVAILABLE, True),
        (Status.SERVER_ERROR_TEMPORARY_ERROR, True),
        (Status.SERVER_ERROR_INTERNAL_ERROR, False),
        (Status.CLIENT_ERROR_NOT_FOUND, False),
        (0x05AB, False),
    ],
)
def test_retry_advice(status: int, retryable: bool) -> None:
    with client_with(ipp_response(answer(status))) as client, pytest.raises(IppStatusError) as e:
        client.get_jobs()
    assert e.value.retryable is retryable
    assert e.value.status_message is None
    assert "Get-Jobs: " in str(e.value)


@pytest.mark.parametrize(
    ("http_status", "ipp_status"),
    [(401, Status.CLIENT_ERROR_NOT_AUTHENTICATED), (403, Status.CLIENT_ERROR_FORBIDDEN)],
)
def test_http_refusals_are_final_status_errors(http_status: int, ipp_status: Status) -> None:
    with (
        client_with(lambda request: httpx.Response(http_status)) as client,
        pytest.raises(IppStatusError) as caught,
    ):
        client.get_printer_attributes()
    assert caught.value.status_code == ipp_status
    assert not caught.value.retryable


@pytest.mark.parametrize(("http_status", "retryable"), [(500, True), (503, True), (400, False)])
def test_other_http_failures_are_transport_errors(http_status: int, retryable: bool) -> None:
    with (
        client_with(lambda request: httpx.Response(http_status)) as client,
        pytest.raises(IppTransportError, match=f"HTTP {http_status}") as caught,
    ):
        client.get_printer_attributes()
    assert caught.value.retryable is retryable


def test_an_answer_that_is_not_ipp_is_a_transport_error() -> None:
    with (
        client_with(ipp_response(b"<html>hello</html>")) as client,
        pytest.raises(IppTransportError, match="the printer's answer is not IPP: HTTP 200"),
    ):
        client.get_printer_attributes()


@pytest.mark.parametrize(
    ("status", "printer_failed"),
    [
        (Status.SERVER_ERROR_INTERNAL_ERROR, True),
        (Status.SERVER_ERROR_DEVICE_ERROR, True),
        (0x05AB, True),  # an unknown server error is internal-error (RFC 8011 §4.1.6)
        (Status.SERVER_ERROR_BUSY, False),
        (Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED, False),
        (Status.CLIENT_ERROR_NOT_FOUND, False),
    ],
)
def test_a_printer_failing_is_told_apart_from_a_refusal(status: int, printer_failed: bool) -> None:
    error = IppStatusError(status)
    assert error.printer_failed is printer_failed
    assert error.answered
    assert not (error.printer_failed and error.retryable)  # final, as ipp-notes has it


def test_a_refusal_by_status_made_no_job() -> None:
    assert not IppStatusError(Status.SERVER_ERROR_BUSY).may_have_made_job


class ChunkRecorder(httpx.BaseTransport):
    """Records the request body chunk by chunk, as a socket would receive it (httpx's
    MockTransport reads the whole body first, which would hide how it is sent)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.headers: httpx.Headers | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.headers = request.headers
        assert isinstance(request.stream, httpx.SyncByteStream)
        self.chunks.extend(request.stream)
        return httpx.Response(200, content=answer(job_id=12))


def test_document_is_streamed_in_chunks_after_the_header(tmp_path: Path) -> None:
    document = tmp_path / "big.pdf"
    document.write_bytes(bytes(range(256)) * 1000)  # 256 000 bytes
    recorder = ChunkRecorder()
    with IppClient(PRINTER, transport=recorder, chunk_size=10_000) as client:
        job = client.print_job(document, document_format="application/pdf")
    assert job.job_id == 12
    assert job.job_uri == f"{PRINTER}/12"
    assert job.job_state == 3
    assert recorder.headers is not None
    assert recorder.headers["transfer-encoding"] == "chunked"  # never sized up front
    header = decode(recorder.chunks[0])
    assert header.operation_id == Operation.PRINT_JOB
    job_name = header.get("job-name")
    assert job_name is not None
    assert job_name.value == "big.pdf"
    assert [len(chunk) for chunk in recorder.chunks[1:]] == [10_000] * 25 + [6_000]
    assert b"".join(recorder.chunks[1:]) == document.read_bytes()


def test_create_job_then_documents(tmp_path: Path) -> None:
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    first.write_bytes(b"A")
    second.write_bytes(b"B")
    requests: list[tuple[Message, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = request.read()
        decoded = decode(body)
        assert decoded.data_offset is not None
        requests.append((decoded, body[decoded.data_offset :]))
        return httpx.Response(200, content=answer(job_id=3))

    with client_with(handler) as client:
        created = client.create_job(
            job_name="two docs", job_attributes=[Attribute.enum("finishings", 4)]
        )
        client.send_document(created.job_id, first, last_document=False)
        client.send_document(created.job_id, second, last_document=True, document_name="Two")
    (create, _), (send_a, data_a), (send_b, data_b) = requests
    assert create.get("finishings", GroupTag.JOB) == Attribute.enum("finishings", 4)
    assert [data_a, data_b] == [b"A", b"B"]
    flags = [m.get("last-document") for m in (send_a, send_b)]
    assert [f.value for f in flags if f is not None] == [False, True]
    name = send_b.get("document-name")
    assert name is not None
    assert name.value == "Two"


def test_digest_auth_can_resend_the_streamed_document(tmp_path: Path) -> None:
    document = tmp_path / "doc.pdf"
    document.write_bytes(b"%PDF-1.7 payload")
    bodies: list[bytes] = []
    challenge = 'Digest realm="printer", nonce="abc", qop="auth", algorithm=MD5'

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        if "authorization" not in request.headers:
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        assert request.headers["authorization"].startswith("Digest ")
        return httpx.Response(200, content=answer(job_id=1))

    with client_with(handler, auth=httpx.DigestAuth("alice", "secret")) as client:
        client.print_job(document)
    assert len(bodies) == 2
    assert bodies[0] == bodies[1]
    assert bodies[0].endswith(b"%PDF-1.7 payload")


def test_basic_auth_from_a_pair() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Basic YWxpY2U6c2VjcmV0"
        return httpx.Response(200, content=answer())

    with client_with(handler, auth=("alice", "secret")) as client:
        assert client.get_printer_attributes().tag == GroupTag.PRINTER


def test_accepted_job_without_job_id_is_a_retryable_error(tmp_path: Path) -> None:
    document = tmp_path / "doc.pdf"
    document.write_bytes(b"x")
    with (
        client_with(ipp_response(answer())) as client,
        pytest.raises(IppTransportError, match="no job-id") as caught,
    ):
        client.print_job(document)
    assert caught.value.retryable


def test_ignored_attributes_are_reported(tmp_path: Path) -> None:
    body = answer(
        Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES, job_id=4, unsupported=("x-y",)
    )
    document = tmp_path / "doc.pdf"
    document.write_bytes(b"x")
    with client_with(ipp_response(body)) as client:
        job = client.print_job(document)
    assert job.status_code == 1
    assert job.ignored_attributes == ("x-y",)
    # With the values it named, which tell which finishings of several it ignored.
    assert job.ignored_values == (("x-y", ("x",)),)


def test_empty_answers_give_empty_groups() -> None:
    with client_with(ipp_response(answer())) as client:
        assert client.get_printer_attributes().attributes == ()
        assert client.get_job_attributes(1).attributes == ()
        assert client.get_jobs() == []
        assert client.cups_get_printers() == []


def test_ca_file_is_used_for_verification(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(FileNotFoundError):
        IppClient("ipps://p.example/ipp/print", ca_file=missing)


def test_an_endless_answer_is_cut_off() -> None:
    huge = answer() + b"\x00" * 5000
    with (
        client_with(ipp_response(huge), limits=DecodeLimits(max_attribute_bytes=1000)) as client,
        pytest.raises(IppTransportError, match="larger than 1000 bytes") as caught,
    ):
        client.get_printer_attributes()
    assert not caught.value.retryable


def test_repeated_attributes_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    printer = AttributeGroup(
        GroupTag.PRINTER,
        (
            Attribute.keyword("sides-supported", "one-sided"),
            Attribute.keyword("sides-supported", "two-sided-long-edge"),
        ),
    )
    body = encode(Message.response(0, 1, groups=[printer]))
    with (
        caplog.at_level(logging.INFO, "printmgmt.ipp.client"),
        client_with(ipp_response(body)) as client,
    ):
        attributes = client.get_printer_attributes()
    first = attributes.get("sides-supported")
    assert first is not None
    assert first.value == "one-sided"
    ours = [r.getMessage() for r in caplog.records if r.name == "printmgmt.ipp.client"]
    assert ours == [f"{PRINTER} repeats sides-supported in its printer-attributes-tag group"]
