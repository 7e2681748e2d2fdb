"""Portal request bodies are read on the event loop before a thread takes the request."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apps.core.buffered_body import REPLAY_CHUNK_BYTES, buffered_bodies
from tests.servers import AsgiServer, start_asgi_server, stop_asgi_server

Message = dict[str, Any]


def run(
    headers: list[tuple[bytes, bytes]], messages: list[Message], limit: int = 10**9
) -> tuple[list[Message], int]:
    """What the wrapped application received, and how many client messages were consumed."""
    client = iter(messages)
    consumed = 0
    seen: list[Message] = []

    async def receive() -> Message:
        nonlocal consumed
        consumed += 1
        return next(client)

    async def application(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            seen.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                return

    async def send(message: Any) -> None:
        raise AssertionError("nothing is sent here")

    async def scenario() -> None:
        await buffered_bodies(application, lambda: limit)(
            {"type": "http", "headers": headers}, receive, send
        )

    asyncio.run(scenario())
    return seen, consumed


def test_a_body_is_read_whole_then_given_in_chunks() -> None:
    body = bytes(range(256)) * 1024  # 256 KiB, sent in three uneven parts
    parts = [body[:1000], body[1000:200_000], body[200_000:]]
    messages = [
        {"type": "http.request", "body": part, "more_body": index < 2}
        for index, part in enumerate(parts)
    ]
    seen, consumed = run([(b"content-length", str(len(body)).encode())], messages)
    assert consumed == 3
    assert b"".join(message["body"] for message in seen) == body
    assert all(len(message["body"]) <= REPLAY_CHUNK_BYTES for message in seen)
    assert [message["more_body"] for message in seen] == [True] * (len(seen) - 1) + [False]


def test_after_the_body_the_application_hears_the_real_disconnect() -> None:
    client: list[Message] = [
        {"type": "http.request", "body": b"abc", "more_body": False},
        {"type": "http.disconnect"},
    ]
    later: list[Message] = []

    async def scenario() -> None:
        messages = iter(client)

        async def receive() -> Message:
            return next(messages)

        async def application(scope: Any, receive: Any, send: Any) -> None:
            later.append(await receive())
            later.append(await receive())

        async def send(message: Any) -> None:
            raise AssertionError("nothing is sent here")

        await buffered_bodies(application, lambda: 100)(
            {"type": "http", "headers": [(b"Content-Length", b"3")]}, receive, send
        )

    asyncio.run(scenario())
    assert later == [
        {"type": "http.request", "body": b"abc", "more_body": False},
        {"type": "http.disconnect"},
    ]


def test_a_client_gone_before_its_body_ended_reaches_no_application() -> None:
    seen, consumed = run(
        [(b"content-length", b"10")],
        [{"type": "http.request", "body": b"abc", "more_body": True}, {"type": "http.disconnect"}],
    )
    assert (seen, consumed) == ([], 2)


@pytest.mark.parametrize(
    "headers",
    [[], [(b"content-length", b"0")], [(b"content-length", b"101")], [(b"content-length", b"x")]],
)
def test_no_body_an_oversized_one_or_a_bad_length_passes_through_unread(
    headers: list[tuple[bytes, bytes]],
) -> None:
    seen, consumed = run(headers, [{"type": "http.request", "body": b"", "more_body": False}], 100)
    assert consumed == 1
    assert seen == [{"type": "http.request", "body": b"", "more_body": False}]


@pytest.fixture
def one_thread_server(transactional_db: None, tmp_path: Path) -> Iterator[AsgiServer]:
    server = start_asgi_server(tmp_path / "uvicorn.log", extra_env={"WEB_THREADS": "1"})
    yield server
    stop_asgi_server(server)


def test_a_slow_upload_does_not_hold_the_only_portal_thread(
    one_thread_server: AsgiServer,
) -> None:
    with socket.create_connection(("127.0.0.1", one_thread_server.port), timeout=10) as slow:
        slow.sendall(
            b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
            b"username=someone&pass"
        )
        # The slow client's request waits for its body; the portal keeps answering meanwhile.
        for _ in range(3):
            page = httpx.get(f"{one_thread_server.base_url}/login/", timeout=5)
            assert page.status_code == 200
