"""How the IPP client tells, in words, why an exchange with a printer failed: no connection
(the OS's or OpenSSL's reason without httpx's reprs), an exchange cut off or timed out, or an
answer that is not IPP (what it was instead, briefly)."""

from __future__ import annotations

import socket
import ssl
from urllib.parse import urlsplit

import httpx

#: How much of an answer that is not IPP is quoted (a web page's start tells what it is).
QUOTED_BYTES = 40
NOT_HTTP = "the printer's answer is not IPP, nor even HTTP"


def connect_failure(
    error: httpx.ConnectError | httpx.ConnectTimeout, *, url: str, timeout: float
) -> str:
    """Why no connection was made, in words (httpx's own text is the OS's or OpenSSL's
    message wrapped in reprs)."""
    if isinstance(error, httpx.ConnectTimeout):
        return f"no answer within {timeout:g} s"
    cause = os_error_cause(error)
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"its certificate is not trusted: {cause.verify_message}"
    if isinstance(cause, ssl.SSLError):
        return f"the TLS handshake failed: {ssl_reason(cause)}"
    if isinstance(cause, socket.gaierror):
        host = urlsplit(url).hostname
        if cause.errno == socket.EAI_NONAME:
            return f"the host name {host} was not found"
        return f"the host name {host} cannot be looked up: {cause.strerror}"
    if isinstance(cause, ConnectionRefusedError):
        return "the connection was refused"
    if cause is not None and cause.strerror:
        return str(cause.strerror)
    return str(error)


def exchange_failure(error: httpx.HTTPError, *, timeout: float) -> str:
    """What went wrong after the connection was made, in words."""
    if isinstance(error, httpx.WriteTimeout):
        return f"stopped reading the request for {timeout:g} s"
    if isinstance(error, httpx.TimeoutException):
        return f"did not answer within {timeout:g} s"
    # A peer that hangs up gives a ReadError (reset) or, closing cleanly, httpcore's
    # "Server disconnected"; any other protocol error is an answer h11 could not parse,
    # whose text quotes the bytes as a Python repr.
    if isinstance(error, httpx.NetworkError) or str(error).startswith("Server disconnected"):
        return "the connection was cut off before a complete answer came"
    if isinstance(error, httpx.RemoteProtocolError):
        return NOT_HTTP
    return f"the HTTP exchange failed: {error}"


def os_error_cause(error: BaseException) -> OSError | None:
    """The OS (or TLS) error at the root of an httpx error, if there is one."""
    cause = error.__cause__ or error.__context__
    while cause is not None:
        if isinstance(cause, OSError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def http_of(response: httpx.Response) -> str:
    """An answer's HTTP status and content type, as words."""
    content_type = response.headers.get("Content-Type", "").partition(";")[0].strip()
    return (
        f"HTTP {response.status_code} {response.reason_phrase}, {content_type or 'no content type'}"
    )


def quoted(body: bytes) -> str:
    """The start of an answer that is text (a web page, an error message), quoted on one
    line; "" for bytes that are not text."""
    if not body:
        return "an empty body"
    start = body[:QUOTED_BYTES]
    text = " ".join(start.decode("ascii", "replace").split())
    if not start.isascii() or not text.isprintable():
        return ""
    return f"'{text}…'" if len(body) > QUOTED_BYTES else f"'{text}'"


def ssl_reason(error: ssl.SSLError) -> str:
    """OpenSSL's reason (WRONG_VERSION_NUMBER) as words, without its source line."""
    return error.reason.replace("_", " ").lower() if error.reason else str(error)
