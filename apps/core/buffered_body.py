"""Request bodies read on the event loop before a portal thread is given the request.

The portal runs on a few threads per process (WEB_THREADS, printmgmt/asgi.py). A WSGI
application reads the request body itself, so a client uploading slowly would hold a thread
for as long as its upload takes, and a few of them would stall the portal of that process.
This reads every body first, without a thread, into a temporary file spooled to disk past
1 MB, then hands the request over with the body at hand and its length declared (a chunked
body included, which WSGI would otherwise see as empty).

A body larger than the limit for its path is refused with 413 before any thread sees it:
document uploads may be large, every other form is small.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import IO

from apps.core.asgi import AsgiApp, Message, Receive, Scope, Send, header
from printmgmt.digits import MAX_BYTE_COUNT, whole_number

SPOOL_IN_MEMORY_BYTES = 1024 * 1024
REPLAY_CHUNK_BYTES = 64 * 1024
#: Any request body but a document upload: forms, a rule file's text (at most 2 MB).
FORM_BODY_LIMIT_BYTES = 10 * 1024 * 1024


class BodyLimits:
    """The largest body accepted on each path: `upload_path` takes `upload_limit()` bytes,
    every other path FORM_BODY_LIMIT_BYTES."""

    def __init__(
        self, upload_path: str, upload_limit: Callable[[], int], spool_dir: str | None = None
    ) -> None:
        self.upload_path = upload_path
        self.upload_limit = upload_limit
        self.spool_dir = spool_dir

    def for_path(self, path: str) -> int:
        return self.upload_limit() if path == self.upload_path else FORM_BODY_LIMIT_BYTES


def _with_length(scope: Scope, size: int) -> Scope:
    """The scope with the body's real length declared, instead of any chunked encoding."""
    headers = [
        (name, value)
        for name, value in scope.get("headers", ())
        if name.lower() not in (b"content-length", b"transfer-encoding")
    ]
    return {**scope, "headers": [*headers, (b"content-length", str(size).encode())]}


def _replay(body: IO[bytes], size: int, receive: Receive) -> Receive:
    """A `receive` that gives the stored body in chunks, then waits on the real one (for the
    disconnect)."""
    done = False

    async def replayed() -> Message:
        nonlocal done
        if done:
            return await receive()
        chunk = body.read(REPLAY_CHUNK_BYTES)
        done = body.tell() >= size
        return {"type": "http.request", "body": chunk, "more_body": not done}

    return replayed


async def _too_large(send: Send, limit: int) -> None:
    text = f"The request is too large: at most {limit // (1024 * 1024)} MB.\n".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(text)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": text})


def buffered_bodies(app: AsgiApp, limits: BodyLimits) -> AsgiApp:
    """`app`, given HTTP requests whose body has been read in full."""

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        declared_text = header(scope, b"content-length")
        chunked = header(scope, b"transfer-encoding") is not None
        if declared_text is None and not chunked:
            await app(scope, receive, send)  # No body.
            return
        limit = limits.for_path(scope.get("path", ""))
        declared = whole_number(declared_text or "0", maximum=MAX_BYTE_COUNT)
        if declared is None or declared > limit:
            await _too_large(send, limit)
            return
        with tempfile.SpooledTemporaryFile(
            max_size=SPOOL_IN_MEMORY_BYTES, dir=limits.spool_dir
        ) as body:
            received, more = 0, True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # The client left before sending its request: nobody to answer.
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    await _too_large(send, limit)
                    return
                body.write(chunk)
                more = bool(message.get("more_body", False))
            body.seek(0)
            await app(_with_length(scope, received), _replay(body, received, receive), send)

    return application
