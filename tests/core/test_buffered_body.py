"""Portal request bodies are read on the event loop before a thread takes the request."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest

from apps.core.buffered_body import (
    FORM_BODY_LIMIT_BYTES,
    REPLAY_CHUNK_BYTES,
    BodyLimits,
    buffered_bodies,
)
from tests.servers import AsgiServer, start_asgi_server, stop_asgi_server

Message = dict[str, Any]
UPLOAD = "/inbox/upload/"


def limits(upload: int = 10**9) -> BodyLimits:
    return BodyLimits(upload_path=UPLOAD, upload_limit=lambda: upload)


class Exchange:
    """One request through buffered_bodies: what the client sends, what the application got."""

    def __init__(self, headers: list[tuple[bytes, bytes]], messages: list[Message]) -> None:
        self.scope: dict[str, Any] = {"type": "http", "path": UPLOAD, "headers": headers}
        self.client = iter(messages)
        self.consumed = 0
        self.received: list[Message] = []
        self.app_scope: dict[str, Any] | None = None
        self.sent: list[Message] = []

    def run(self, body_limits: BodyLimits, path: str = UPLOAD) -> Exchange:
        async def receive() -> Message:
            self.consumed += 1
            return next(self.client)

        async def application(scope: Any, receive: Any, send: Any) -> None:
            self.app_scope = scope
            while True:
                message = await receive()
                self.received.append(message)
                if message["type"] != "http.request" or not message.get("more_body"):
                    return

        async def send(message: Any) -> None:
            self.sent.append(message)

        async def scenario() -> None:
            await buffered_bodies(application, body_limits)(
                {**self.scope, "path": path}, receive, send
            )

        asyncio.run(scenario())
        return self

    @property
    def body(self) -> bytes:
        return b"".join(message.get("body", b"") for message in self.received)

    def header(self, name: bytes) -> bytes | None:
        assert self.app_scope is not None
        return dict(self.app_scope["headers"]).get(name)


def parts(body: bytes, *cuts: int) -> list[Message]:
    edges = [0, *cuts, len(body)]
    return [
        {"type": "http.request", "body": body[start:end], "more_body": end < len(body)}
        for start, end in pairwise(edges)
    ]


def test_a_body_is_read_whole_then_given_in_chunks() -> None:
    body = bytes(range(256)) * 1024  # 256 KiB, sent in three uneven parts
    exchange = Exchange([(b"content-length", str(len(body)).encode())], parts(body, 1000, 200_000))
    exchange.run(limits())
    assert exchange.consumed == 3
    assert exchange.body == body
    assert all(len(message["body"]) <= REPLAY_CHUNK_BYTES for message in exchange.received)
    assert [m["more_body"] for m in exchange.received] == [True] * (len(exchange.received) - 1) + [
        False
    ]


def test_a_chunked_body_reaches_the_application_with_its_length() -> None:
    body = b"csrfmiddlewaretoken=x&username=y"
    exchange = Exchange([(b"Transfer-Encoding", b"chunked")], parts(body, 5, 9))
    exchange.run(limits())
    assert exchange.body == body
    assert exchange.header(b"content-length") == str(len(body)).encode()
    assert exchange.header(b"Transfer-Encoding") is None


def test_after_the_body_the_application_hears_the_real_disconnect() -> None:
    exchange = Exchange(
        [(b"Content-Length", b"3")],
        [{"type": "http.request", "body": b"abc", "more_body": False}, {"type": "http.disconnect"}],
    )

    async def receive() -> Message:
        return next(exchange.client)

    later: list[Message] = []

    async def application(scope: Any, receive: Any, send: Any) -> None:
        later.append(await receive())
        later.append(await receive())

    async def send(message: Any) -> None:
        raise AssertionError("nothing is sent here")

    async def scenario() -> None:
        await buffered_bodies(application, limits())(exchange.scope, receive, send)

    asyncio.run(scenario())
    assert later == [
        {"type": "http.request", "body": b"abc", "more_body": False},
        {"type": "http.disconnect"},
    ]


def test_a_client_gone_before_its_body_ended_reaches_no_application() -> None:
    exchange = Exchange(
        [(b"content-length", b"10")],
        [{"type": "http.request", "body": b"abc", "more_body": True}, {"type": "http.disconnect"}],
    ).run(limits())
    assert (exchange.app_scope, exchange.consumed, exchange.sent) == (None, 2, [])


def test_a_request_without_a_body_passes_through_untouched() -> None:
    exchange = Exchange([], [{"type": "http.request", "body": b"", "more_body": False}])
    exchange.run(limits())
    assert exchange.app_scope is not None
    assert exchange.app_scope["headers"] == []
    assert exchange.received == [{"type": "http.request", "body": b"", "more_body": False}]


def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    exchange = Exchange(
        [(b"content-length", str(20 * 1024 * 1024 + 1).encode())],
        [{"type": "http.request", "body": b"x", "more_body": True}],
    ).run(limits(upload=20 * 1024 * 1024))
    assert exchange.app_scope is None
    assert exchange.consumed == 0
    assert exchange.sent[0]["status"] == 413
    assert (b"connection", b"close") in exchange.sent[0]["headers"]
    assert exchange.sent[1]["body"] == b"The request is too large: at most 20 MB.\n"


def test_a_chunked_body_over_the_limit_is_refused_once_it_passes_it() -> None:
    body = b"x" * (FORM_BODY_LIMIT_BYTES + 1)
    cuts = range(1024 * 1024, len(body), 1024 * 1024)
    exchange = Exchange([(b"transfer-encoding", b"chunked")], parts(body, *cuts))
    exchange.run(limits(), path="/login/")
    assert exchange.app_scope is None
    assert exchange.sent[0]["status"] == 413
    assert exchange.consumed == 11


def test_uploads_may_be_larger_than_any_other_body() -> None:
    assert limits(upload=5).for_path(UPLOAD) == 5
    assert limits(upload=5).for_path("/login/") == FORM_BODY_LIMIT_BYTES


@pytest.fixture
def one_thread_server(transactional_db: None, tmp_path: Path) -> Iterator[AsgiServer]:
    server = start_asgi_server(
        tmp_path / "uvicorn.log", extra_env={"WEB_THREADS": "1", "MAX_DOCUMENT_MB": "1"}
    )
    yield server
    stop_asgi_server(server)


def test_slow_and_oversized_uploads_do_not_hold_the_only_portal_thread(
    one_thread_server: AsgiServer,
) -> None:
    address = ("127.0.0.1", one_thread_server.port)
    with (
        socket.create_connection(address, timeout=10) as slow,
        socket.create_connection(address, timeout=10) as oversized,
    ):
        slow.sendall(
            b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
            b"username=someone&pass"
        )
        oversized.sendall(
            b"POST /inbox/upload/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 21000000\r\n\r\n"
            b"--b\r\n"
        )
        answer = b""
        while chunk := oversized.recv(4096):  # the server closes the connection after it
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 413 ")
        assert b"at most 20 MB" in answer
        # The slow client's request waits for its body; the portal keeps answering meanwhile.
        started = time.monotonic()
        for _ in range(3):
            page = httpx.get(f"{one_thread_server.base_url}/login/", timeout=5)
            assert page.status_code == 200
        assert time.monotonic() - started < 5


def test_a_chunked_form_reaches_django_whole(one_thread_server: AsgiServer) -> None:
    with httpx.Client(base_url=one_thread_server.base_url, timeout=10) as client:
        client.get("/login/")
        form = f"csrfmiddlewaretoken={client.cookies['csrftoken']}&username=nobody&password=x"

        def chunks() -> Iterator[bytes]:
            yield form[:10].encode()
            yield form[10:].encode()

        answer = client.post(
            "/login/",
            content=chunks(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"{one_thread_server.base_url}/login/",
            },
        )
    # The form was read: the CSRF token passed and the log-in itself was refused.
    assert answer.status_code == 200
    assert "Username" in answer.text
