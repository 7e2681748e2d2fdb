"""How the client words a printer it cannot reach or that breaks off: real local sockets,
so the errors are those the OS, OpenSSL and httpx really raise; the message names the URI
once and says what happened in words, not as an exception's repr."""

from __future__ import annotations

import errno
import socket
import struct
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from printmgmt.ipp import IppTransportError
from printmgmt.ipp.client import IppClient
from tests.peers import free_port

Behaviour = Callable[[socket.socket], object]


@pytest.fixture
def peer() -> Iterator[Callable[[Behaviour], int]]:
    """Starts a local server that treats its one connection as told; gives its port."""
    listeners: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def start(behaviour: Behaviour) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def serve() -> None:
            connection, _ = listener.accept()
            with connection:
                behaviour(connection)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        threads.append(thread)
        return int(listener.getsockname()[1])

    yield start
    for thread in threads:
        thread.join(timeout=5)
    for listener in listeners:
        listener.close()


def failure(uri: str, timeout: float = 5) -> IppTransportError:
    with IppClient(uri, timeout=timeout) as client, pytest.raises(IppTransportError) as caught:
        client.get_printer_attributes()
    assert caught.value.retryable
    return caught.value


def read_request(connection: socket.socket) -> None:
    """Read the whole request (the client sends its body chunked), so that closing the
    connection then is a clean close, not a reset for unread data."""
    connection.settimeout(5)
    received = b""
    while not received.endswith(b"\r\n0\r\n\r\n"):
        received += connection.recv(65536)


def reset(connection: socket.socket) -> None:
    """Close with a TCP reset, as a printer that crashes or restarts does."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_a_closed_port_refuses_the_connection() -> None:
    uri = f"ipp://127.0.0.1:{free_port()}/ipp/print"
    error = failure(uri)
    assert str(error) == f"{uri}: cannot connect: the connection was refused"
    assert not error.may_have_made_job


def test_a_host_name_that_does_not_exist_is_named() -> None:
    uri = "ipp://printer.invalid/ipp/print"
    error = failure(uri)
    assert str(error) == f"{uri}: cannot connect: the host name printer.invalid was not found"
    assert not error.may_have_made_job


def test_a_printer_that_never_answers_did_not_answer_within_the_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        # The kernel accepts the connection; nothing ever reads or answers.
        unanswered = failure(f"ipp://127.0.0.1:{port}/ipp/print", timeout=0.3)
        no_handshake = failure(f"ipps://127.0.0.1:{port}/ipp/print", timeout=0.3)
    assert str(unanswered) == f"ipp://127.0.0.1:{port}/ipp/print: did not answer within 0.3 s"
    assert unanswered.may_have_made_job  # the request went out
    assert str(no_handshake) == (
        f"ipps://127.0.0.1:{port}/ipp/print: cannot connect: no answer within 0.3 s"
    )
    assert not no_handshake.may_have_made_job


def test_ipps_to_a_plain_http_server_is_a_failed_tls_handshake(
    peer: Callable[[Behaviour], int],
) -> None:
    def plain_http(connection: socket.socket) -> None:
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")

    uri = f"ipps://127.0.0.1:{peer(plain_http)}/ipp/print"
    error = failure(uri)
    assert str(error) == f"{uri}: cannot connect: the TLS handshake failed: wrong version number"
    assert not error.may_have_made_job


@pytest.mark.parametrize("closing", [reset, lambda connection: None], ids=["reset", "closed"])
def test_a_connection_cut_off_after_the_request_says_so(
    peer: Callable[[Behaviour], int], closing: Behaviour
) -> None:
    def hang_up(connection: socket.socket) -> None:
        read_request(connection)
        closing(connection)

    uri = f"ipp://127.0.0.1:{peer(hang_up)}/ipp/print"
    error = failure(uri)
    assert str(error) == f"{uri}: the connection was cut off before a complete answer came"
    assert error.may_have_made_job


def test_an_answer_that_is_not_http_says_so_without_quoting_bytes(
    peer: Callable[[Behaviour], int],
) -> None:
    def garbage(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(b"hello there\r\n\r\n")

    uri = f"ipp://127.0.0.1:{peer(garbage)}/ipp/print"
    error = failure(uri)
    assert str(error) == f"{uri}: the printer's answer is not IPP, nor even HTTP"
    assert error.may_have_made_job
    assert error.answered  # reached: not to be told as a printer that cannot be reached


def answering(status_line: str, content_type: str | None, body: bytes) -> Behaviour:
    """A peer that answers the request with this HTTP answer."""

    def answer(connection: socket.socket) -> None:
        read_request(connection)
        header = f"HTTP/1.1 {status_line}\r\ncontent-length: {len(body)}\r\n"
        if content_type is not None:
            header += f"content-type: {content_type}\r\n"
        connection.sendall(header.encode() + b"\r\n" + body)

    return answer


WEB_PAGE = b"<!DOCTYPE html>\n<html>\n  <head><title>Printer web page</title></head></html>"


@pytest.mark.parametrize(
    ("status_line", "content_type", "body", "said"),
    [
        (
            "200 OK",
            "text/html; charset=utf-8",
            WEB_PAGE,
            "HTTP 200 OK, text/html: '<!DOCTYPE html> <html> <head><title>Pr…'",
        ),
        (
            "500 Internal Server Error",
            "text/html",
            b"<h1>500</h1>",
            "HTTP 500 Internal Server Error, text/html: '<h1>500</h1>'",
        ),
        ("200 OK", None, b"", "HTTP 200 OK, no content type: an empty body"),
        (
            "200 OK",
            "application/ipp",
            # An IPP header, then an attribute whose name runs past the end.
            bytes.fromhex("0200000000000001014700"),
            "HTTP 200 OK, application/ipp: undecodable (offset 10: name length runs past the "
            "end of the message)",
        ),
        (
            "502 Bad Gateway",
            "application/octet-stream",
            bytes(range(256)),
            "HTTP 502 Bad Gateway, application/octet-stream: bytes that are not text",
        ),
    ],
)
def test_an_answer_that_is_not_ipp_says_what_it_was(
    peer: Callable[[Behaviour], int],
    status_line: str,
    content_type: str | None,
    body: bytes,
    said: str,
) -> None:
    uri = f"ipp://127.0.0.1:{peer(answering(status_line, content_type, body))}/ipp/print"
    error = failure(uri)
    assert str(error) == f"{uri}: the printer's answer is not IPP: {said}"
    assert error.answered


def test_an_http_error_the_request_caused_is_not_ipp_and_not_retried(
    peer: Callable[[Behaviour], int],
) -> None:
    uri = f"ipp://127.0.0.1:{peer(answering('405 Method Not Allowed', 'text/plain', b'no'))}/x"
    with IppClient(uri, timeout=5) as client, pytest.raises(IppTransportError) as caught:
        client.get_printer_attributes()
    assert str(caught.value) == (
        f"{uri}: the printer's answer is not IPP: HTTP 405 Method Not Allowed, text/plain: 'no'"
    )
    assert (caught.value.answered, caught.value.retryable) == (True, False)


def _raising(error: Exception) -> IppTransportError:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    client = IppClient(
        "ipp://printer.test/ipp/print", timeout=7, transport=httpx.MockTransport(handler)
    )
    with client, pytest.raises(IppTransportError) as caught:
        client.get_printer_attributes()
    return caught.value


def _chained(error: httpx.HTTPError, cause: BaseException) -> httpx.HTTPError:
    error.__cause__ = cause
    return error


# Failures no local socket can bring about reliably (a stalled upload, a DNS server that is
# down, an unroutable network) or that carry no OS error: raised as httpx raises them.
@pytest.mark.parametrize(
    ("raised", "text", "may_have_made_job"),
    [
        (httpx.WriteTimeout("timed out"), "stopped reading the request for 7 s", True),
        (
            _chained(
                httpx.ConnectError("x"),
                socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
            ),
            "cannot connect: the host name printer.test cannot be looked up: "
            "Temporary failure in name resolution",
            False,
        ),
        (
            _chained(httpx.ConnectError("x"), OSError(errno.ENETUNREACH, "Network is unreachable")),
            "cannot connect: Network is unreachable",
            False,
        ),
        (httpx.ConnectError("no route"), "cannot connect: no route", False),
        (
            httpx.UnsupportedProtocol("no transport"),
            "the HTTP exchange failed: no transport",
            True,
        ),
    ],
)
def test_failures_without_a_local_cause_are_worded_too(
    raised: httpx.HTTPError, text: str, may_have_made_job: bool
) -> None:
    error = _raising(raised)
    assert str(error) == f"ipp://printer.test/ipp/print: {text}"
    assert error.may_have_made_job is may_have_made_job
