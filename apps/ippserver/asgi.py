"""Our IPP printer as a small raw ASGI application, mounted at /ipp/ by printmgmt/asgi.py.

Django's ASGI handler reads a whole request body into memory before the view runs; a print job
can be hundreds of megabytes, so this endpoint reads the body itself, chunk by chunk: the IPP
attributes into a small buffer, the document straight into a file in the spool directory.
uvicorn does the HTTP part (chunked bodies, `Expect: 100-continue`: the 100 is sent when we
first ask for the body). The database work runs in worker threads.

Every outcome is an IPP response or a plain HTTP status; no traceback ever reaches a client,
and the spool keeps nothing of a request that did not become a held job.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, close_old_connections

from apps.accounts.models import User
from apps.core.asgi import AsgiApp, Receive, Scope, Send, header
from apps.core.forwarded import first_forwarded_host, forwarded_port, with_port
from apps.ippserver.job_documents import Arrival, document_arrived
from apps.ippserver.operations import DOCUMENT_OPERATIONS, Admission, admit, answer, begin_document
from apps.ippserver.protocol import Endpoint, is_host, respond
from apps.jobs.convert import conversion_target
from printmgmt.digits import MAX_BYTE_COUNT, whole_number
from printmgmt.ipp import (
    DecodeLimits,
    IppAttributesTooLarge,
    IppDecodeError,
    Message,
    Operation,
    Status,
    decode,
    encode,
    operation_name,
)

logger = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

IPP_PREFIX = "/ipp"
IPP_CONTENT_TYPE = b"application/ipp"
#: The attributes of a request (everything before the document) must fit in this.
MAX_ATTRIBUTE_BYTES = 1024 * 1024
DECODE_LIMITS = DecodeLimits(max_attribute_bytes=MAX_ATTRIBUTE_BYTES, max_values=10_000)
REALM = 'Basic realm="printmgmt", charset="UTF-8"'
#: After the limit, this much more is read and dropped before answering 413 (then the
#: connection is closed): a client that sent a little too much gets the answer.
DRAIN_AFTER_LIMIT_BYTES = 4 * 1024 * 1024
CLOSE_CONNECTION = (b"connection", b"close")


class ClientGone(Exception):
    """The client closed the connection before its request was complete."""


class TooLarge(Exception):
    """The request body is larger than the configured limit."""


class ClientStalled(Exception):
    """The request body stopped arriving: nothing came for BODY_IDLE_SECONDS."""


#: How long a request's body may pause: a client that stops sending must not hold a
#: connection, a file and a worker for ever (thousands of them would starve the server).
BODY_IDLE_SECONDS = 60.0


def max_body_bytes() -> int:
    return int(settings.MAX_DOCUMENT_MB) * 1024 * 1024


def routed(django_app: AsgiApp) -> AsgiApp:
    """The product's ASGI application: /ipp/... to the IPP printer, the rest to Django."""

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == IPP_PREFIX or path.startswith(IPP_PREFIX + "/")):
            await ipp_endpoint(scope, receive, send)
        else:
            await django_app(scope, receive, send)

    return application


@dataclass(frozen=True)
class Reply:
    """An HTTP response to send once the request is dealt with (and its files are gone)."""

    status: int
    content_type: bytes
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()

    async def send_to(self, send: Send) -> None:
        headers = [
            (b"content-type", self.content_type),
            (b"content-length", str(len(self.body)).encode()),
            *self.headers,
        ]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def _plain(status: int, text: str, *headers: tuple[bytes, bytes]) -> Reply:
    return Reply(status, b"text/plain; charset=utf-8", text.encode(), headers)


def _ipp(message: Message) -> Reply:
    return Reply(200, IPP_CONTENT_TYPE, encode(message))


def _too_large() -> Reply:
    # Connection: close, so that the client stops sending the rest of its body to us.
    return _plain(413, f"requests are limited to {settings.MAX_DOCUMENT_MB} MB\n", CLOSE_CONNECTION)


class BodyReader:
    """Reads a request body from ASGI `receive`, counting bytes against the limit."""

    def __init__(self, receive: Receive, limit: int, idle_seconds: float) -> None:
        self._receive = receive
        self._limit = limit
        self._idle_seconds = idle_seconds
        self.received = 0
        self.more = True

    async def chunk(self) -> bytes:
        while self.more:
            try:
                async with asyncio.timeout(self._idle_seconds):
                    event = await self._receive()
            except TimeoutError:
                raise ClientStalled from None
            if event["type"] == "http.disconnect":
                raise ClientGone
            data = bytes(event.get("body", b""))
            self.more = bool(event.get("more_body", False))
            self.received += len(data)
            if self.received > self._limit:
                raise TooLarge
            if data:
                return data
        return b""

    async def drain(self, most: int) -> None:
        """Read and drop up to `most` more bytes, so that a client still sending the body of a
        refused request can read the answer instead of having its connection reset."""
        dropped = 0
        while self.more and dropped <= most:
            try:
                async with asyncio.timeout(self._idle_seconds):
                    event = await self._receive()
            except TimeoutError:
                return  # it stopped sending: the answer goes out, and the connection closes
            if event["type"] == "http.disconnect":
                return
            dropped += len(event.get("body", b""))
            self.more = bool(event.get("more_body", False))


@dataclass(frozen=True)
class ReadAttributes:
    """The start of a request's body: its attributes, decoded, or why they did not decode."""

    message: Message | None
    head: bytes  # the first 8 bytes: version and request-id, to answer in
    rest: bytes = b""  # document data read with the attributes
    problem: str = ""  # when the message is None


async def read_attributes(body: BodyReader) -> ReadAttributes:
    """Read until the attributes decode, or until it is clear they will not: garbage,
    truncated, or attributes larger than MAX_ATTRIBUTE_BYTES. Decoding is tried again each time
    the buffer has doubled, so a large header costs a few decodes, not one per chunk.
    """
    buffer = bytearray()
    next_try = 0
    while True:
        chunk = await body.chunk()
        buffer += chunk
        if len(buffer) >= next_try or not body.more:
            try:
                message = decode(bytes(buffer), DECODE_LIMITS)
            except IppAttributesTooLarge:
                problem = f"its attributes are larger than {MAX_ATTRIBUTE_BYTES // 2**20} MB"
                return ReadAttributes(None, bytes(buffer[:8]), problem=problem)
            except IppDecodeError as error:
                if body.more and len(buffer) <= MAX_ATTRIBUTE_BYTES:
                    next_try = max(2 * len(buffer), 4096)
                    continue
                problem = f"{error.reason} (at byte {error.offset})"
                return ReadAttributes(None, bytes(buffer[:8]), problem=problem)
            offset = message.data_offset or len(buffer)
            return ReadAttributes(message, bytes(buffer[:8]), bytes(buffer[offset:]))


async def discard_rest(body: BodyReader) -> None:
    while await body.chunk():
        pass


async def refused(body: BodyReader, reply: Reply) -> Reply:
    """The answer to a request refused before its document is read: at most
    DRAIN_AFTER_LIMIT_BYTES more of the body are read and dropped (so that the client reads the
    answer), and a connection whose body goes on is closed. A client that sent a large document
    without credentials (having been told 100-continue) is answered at once, not after all of it.
    """
    await body.drain(DRAIN_AFTER_LIMIT_BYTES)
    if body.more:
        return Reply(
            reply.status, reply.content_type, reply.body, (*reply.headers, CLOSE_CONNECTION)
        )
    return reply


def _create(path: Path) -> BinaryIO:
    """A new file for writing, making its directory only when missing (rarely: once)."""
    try:
        return path.open("wb")
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("wb")


async def store_rest(body: BodyReader, first: bytes, file: BinaryIO) -> None:
    # Writes go to the page cache and return at once; a thread hop per chunk would cost more.
    if first:
        file.write(first)
    while chunk := await body.chunk():
        file.write(chunk)


def _bad_request_response(read: ReadAttributes) -> Message:
    """A client-error-bad-request for bytes that did not decode, in their version if any,
    saying why."""
    head = read.head
    version = (head[0], head[1]) if len(head) >= 2 else (1, 1)
    request_id = int.from_bytes(head[4:8], "big", signed=True) if len(head) >= 8 else 0
    stub = Message(version, 0, request_id)
    why = f"the request is not a valid IPP message: {read.problem}"
    return respond(stub, Status.CLIENT_ERROR_BAD_REQUEST, why)


# Admission and a Send-Document's arrival mark run with thread_sensitive=True, as Django runs
# sync code from async: on one thread per process. Answers run on threads of their own
# (_answer); on SQLite their writing transactions take turns on a lock (apps/core/writers.py)
# rather than sleeping in SQLite's busy handler.


def _as_a_request(function: Callable[P, R]) -> Callable[P, R]:
    """Database work on a worker thread, with its connection handled as Django handles a
    request's (close_old_connections before and after: a dropped connection costs a new one)."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return run


def _database_unavailable(message: Message, error: DatabaseError) -> Message:
    """The answer while the database cannot be used (restarting, unreachable): a status that
    clients retry later (CUPS's ipp backend does, where an HTTP 500 fails the print)."""
    logger.error(
        "IPP %s request %s: the database cannot be used: %s",
        operation_name(message.operation_id),
        message.request_id,
        error,
    )
    return respond(
        message,
        Status.SERVER_ERROR_SERVICE_UNAVAILABLE,
        "the print service cannot reach its database: try again in a moment",
    )


@_as_a_request
def _run_admit(message: Message, authorization: str | None, address: str) -> Admission:
    try:
        return admit(message, authorization, address)
    except DatabaseError as error:
        return Admission(None, _database_unavailable(message, error))


@_as_a_request
def _run_begin_document(message: Message, user: User) -> Message | Arrival | None:
    try:
        return begin_document(message, user)
    except DatabaseError as error:
        return _database_unavailable(message, error)


@_as_a_request
def _run_end_document(arrival: Arrival) -> None:
    try:
        document_arrived(arrival)
    except DatabaseError:
        # The answer stands; the mark lapses on its own (DOCUMENT_ARRIVAL_LIMIT).
        logger.exception("IPP job %s: its arrival mark could not be cleared", arrival.ipp_job_id)


@_as_a_request
def _run_answer(
    message: Message, admission: Admission, endpoint: Endpoint, document: Path | None
) -> Message:
    try:
        return answer(message, admission.user, endpoint, document)
    except DatabaseError as error:
        return _database_unavailable(message, error)
    except Exception:
        logger.exception("IPP %s request %s failed", message.operation_id, message.request_id)
        return respond(message, Status.SERVER_ERROR_INTERNAL_ERROR, "internal error: try again")


def _requested_host(scope: Scope) -> tuple[str, str]:
    """The host the client asked for and the header that says it: Host, or with
    USE_X_FORWARDED_HOST on, the proxy's X-Forwarded-Host when it sends one."""
    forwarded = header(scope, b"x-forwarded-host") if settings.USE_X_FORWARDED_HOST else None
    if forwarded is not None:
        return "X-Forwarded-Host", first_forwarded_host(forwarded)
    return "Host", header(scope, b"host") or "localhost"


async def ipp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    if scope.get("method") != "POST":
        await _plain(405, "IPP requests are POSTed\n", (b"allow", b"POST")).send_to(send)
        return
    content_type = (header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()
    if content_type != IPP_CONTENT_TYPE.decode():
        await _plain(400, "the body must be application/ipp\n").send_to(send)
        return
    host_header, host = _requested_host(scope)
    if not is_host(host):
        # Our answers carry URIs built from it (RFC 9110: 400 for an invalid Host).
        await _plain(400, f"the {host_header} header is not a host name\n").send_to(send)
        return
    forwarded = header(scope, b"x-forwarded-port") if settings.USE_X_FORWARDED_PORT else None
    if forwarded is not None:
        port = forwarded_port(forwarded)
        if port is None:
            await _plain(400, "the X-Forwarded-Port header is not a port number\n").send_to(send)
            return
        host = with_port(host, port)
    endpoint = Endpoint(
        host=host,
        secure=scope.get("scheme") == "https",
        from_cups=(header(scope, b"user-agent") or "").startswith("CUPS/"),
    )
    limit = max_body_bytes()
    declared = whole_number(header(scope, b"content-length") or "", maximum=MAX_BYTE_COUNT)
    if declared is not None and declared > limit:
        await _too_large().send_to(send)
        return
    body = BodyReader(receive, limit, BODY_IDLE_SECONDS)
    try:
        reply = await _handle(scope, endpoint, body)
    except ClientGone:
        logger.info("IPP client left before its request was complete")
        return
    except ClientStalled:
        logger.info("IPP client stopped sending its request")
        reply = _plain(408, "the request stopped arriving\n", CLOSE_CONNECTION)
    except TooLarge:
        await body.drain(DRAIN_AFTER_LIMIT_BYTES)
        reply = _too_large()
    try:
        await reply.send_to(send)
    except OSError:  # uvicorn's ClientDisconnected: the client left while we worked
        logger.info("IPP client left before its answer was sent")


async def _handle(scope: Scope, endpoint: Endpoint, body: BodyReader) -> Reply:
    """Read and carry out one request; its working files are gone when this returns."""
    read = await read_attributes(body)
    message, rest = read.message, read.rest
    if message is None:
        return await refused(body, _ipp(_bad_request_response(read)))
    client = scope.get("client") or ("", 0)
    admission = await sync_to_async(_run_admit, thread_sensitive=True)(
        message, header(scope, b"authorization"), str(client[0])
    )
    if admission.refusal is not None:
        return await refused(body, _ipp(admission.refusal))
    if admission.needs_credentials:
        return await refused(
            body, _plain(401, "log in to print\n", (b"www-authenticate", REALM.encode()))
        )
    if message.operation_id not in DOCUMENT_OPERATIONS:
        await discard_rest(body)
        return _ipp(await _answer(message, admission, endpoint, None))
    arrival = None
    if message.operation_id == Operation.SEND_DOCUMENT:
        assert admission.user is not None  # admit() asked for credentials otherwise
        begun = await sync_to_async(_run_begin_document, thread_sensitive=True)(
            message, admission.user
        )
        if isinstance(begun, Message):
            return await refused(body, _ipp(begun))
        arrival = begun
    # A hidden name in the spool: the same file system as the stored documents, so that a PDF
    # is stored by a rename, and one file rather than a working directory (a mkdir and rmdir
    # per request cost more than the rest of the intake on some file systems).
    document = Path(settings.SPOOL_DIR) / f".ipp-{secrets.token_hex(12)}.upload"
    try:
        with _create(document) as file:
            await store_rest(body, rest, file)
        return _ipp(await _answer(message, admission, endpoint, document))
    finally:
        for leftover in (document, conversion_target(document)):
            leftover.unlink(missing_ok=True)
        if arrival is not None:
            await sync_to_async(_run_end_document, thread_sensitive=True)(arrival)


#: Requests that bring a document are answered on threads of their own: converting one can
#: take minutes (Ghostscript, a long raster), and a few of them at once must leave threads
#: for everything else (Get-Jobs, Cancel-Job, the printer's attributes).
_DOCUMENT_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ipp-document")


async def _answer(
    message: Message, admission: Admission, endpoint: Endpoint, document: Path | None
) -> Message:
    # Not on the thread Django's sync views share: converting a document (Ghostscript, a long
    # raster) would hold up every portal request of this process meanwhile. _run_answer
    # handles its database connection as a request does (close_old_connections around it).
    executor = _DOCUMENT_THREADS if document is not None else None
    return await sync_to_async(_run_answer, thread_sensitive=False, executor=executor)(
        message, admission, endpoint, document
    )
