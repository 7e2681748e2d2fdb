"""Request bodies read on the event loop before a portal thread is given the request.

The portal runs on a few threads per process (WEB_THREADS, printmgmt/asgi.py). A WSGI
application reads the request body itself, so a client uploading slowly would hold a thread
for as long as its upload takes, and a few of them would stall the portal of that process.
This reads a body whose declared length is within `limit` first, without a thread, into a
temporary file spooled to disk past 1 MB, then hands the request over with the body at hand.

Anything else passes through as it came: requests without a body, and bodies declared larger
than the limit, which the view refuses from the declared length without reading them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable, Mapping
from typing import IO, Any

from printmgmt.digits import whole_number

Scope = dict[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SPOOL_IN_MEMORY_BYTES = 1024 * 1024
REPLAY_CHUNK_BYTES = 64 * 1024


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            return whole_number(value.decode("latin-1"), maximum=2**62)
    return None


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


def buffered_bodies(app: AsgiApp, limit: Callable[[], int]) -> AsgiApp:
    """`app`, given HTTP requests whose body (declared at most `limit()` bytes) is read."""

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        size = declared_length(scope) if scope["type"] == "http" else None
        if not size or size > limit():
            await app(scope, receive, send)
            return
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES) as body:
            received, more = 0, True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # The client left before sending its request: nobody to answer.
                chunk = message.get("body", b"")
                received += len(chunk)
                body.write(chunk)
                more = bool(message.get("more_body", False))
            body.seek(0)
            await app(scope, _replay(body, received, receive), send)

    return application
