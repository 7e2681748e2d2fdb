"""A synchronous IPP client over HTTP(S) with httpx.

Every call has a timeout. Documents are streamed from their file in chunks after the
encoded request header, so a 100 MB PDF never sits in memory. Failures are typed:
IppTransportError when the printer cannot be reached or does not answer IPP (saying what
it answered instead), IppStatusError when it answers with an error status; both say whether
a retry makes sense.
"""

from __future__ import annotations

import functools
import itertools
import logging
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import httpx

from printmgmt.ipp.codec import DEFAULT_LIMITS, DecodeLimits, decode, encode
from printmgmt.ipp.errors import (
    IppAcceptedWithoutJobId,
    IppDecodeError,
    IppStatusError,
    IppTransportError,
)
from printmgmt.ipp.model import Attribute, AttributeGroup, Message
from printmgmt.ipp.names import Operation, Status, is_successful, operation_name
from printmgmt.ipp.tags import GroupTag
from printmgmt.ipp.transport_words import (
    NOT_HTTP,
    connect_failure,
    exchange_failure,
    http_of,
    quoted,
)

logger = logging.getLogger(__name__)

IPP_PORT = 631
CHUNK_SIZE = 64 * 1024
DEFAULT_TIMEOUT = 30.0
CONTENT_TYPE = "application/ipp"

# HTTP answers that mean the request itself was refused, as the IPP status they stand for.
_HTTP_REFUSALS = {
    401: Status.CLIENT_ERROR_NOT_AUTHENTICATED,
    403: Status.CLIENT_ERROR_FORBIDDEN,
    404: Status.CLIENT_ERROR_NOT_FOUND,
}


def http_url(uri: str) -> str:
    """The HTTP URL an ipp:// or ipps:// URI is served at (port 631 unless given)."""
    parts = urlsplit(uri)
    schemes = {"ipp": "http", "ipps": "https", "http": "http", "https": "https"}
    scheme = schemes.get(parts.scheme.lower())
    if scheme is None or not parts.hostname:
        raise ValueError(f"not an IPP printer URI: {uri!r}")
    netloc = parts.netloc
    if parts.port is None and parts.scheme.lower() in ("ipp", "ipps"):
        netloc = f"{netloc}:{IPP_PORT}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


@functools.lru_cache(maxsize=32)
def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """A verifying TLS context (the system's CAs, or only `ca_file`), built once and shared.

    Loading the CA store takes longer than a whole IPP request on a local network, so a
    context is made once per trust setting rather than once per client."""
    return ssl.create_default_context(cafile=ca_file)


@dataclass(frozen=True, slots=True)
class SubmittedJob:
    """What the printer said about a job it accepted."""

    job_id: int
    job_uri: str | None
    job_state: int | None
    status_code: int
    #: Attributes the printer ignored or substituted (status ...-ignored-or-substituted-...).
    ignored_attributes: tuple[str, ...] = ()
    #: Those attributes with the values the printer named (an enum's numbers; an attribute
    #: ignored whole may come with an out-of-band value or its values as sent).
    ignored_values: tuple[tuple[str, tuple[object, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class _Answer:
    body: bytes
    #: Its HTTP status and content type, to say what an answer that is not IPP was.
    http: str


class _DocumentBody:
    """The request body: encoded attributes, then the file in chunks.

    A class rather than a generator so that httpx can iterate it again when an
    authentication challenge (Digest) makes it resend the request."""

    def __init__(self, header: bytes, path: Path | None, chunk_size: int) -> None:
        self._header = header
        self._path = path
        self._chunk_size = chunk_size

    def __iter__(self) -> Iterator[bytes]:
        yield self._header
        if self._path is None:
            return
        with self._path.open("rb") as document:
            while chunk := document.read(self._chunk_size):
                yield chunk


class IppClient:
    """Talks to one printer (or one CUPS server) at ``uri``.

    ``auth`` is (user, password) for Basic, or any httpx.Auth such as httpx.DigestAuth.
    For ipps:// the certificate is verified against the system's CAs, or against
    ``ca_file`` (a CA bundle, or the printer's own self-signed certificate in PEM) to trust
    one printer without trusting it for everyone.
    """

    def __init__(
        self,
        uri: str,
        *,
        auth: tuple[str, str] | httpx.Auth | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        ca_file: str | Path | None = None,
        user_name: str = "printmgmt",
        natural_language: str = "en",
        chunk_size: int = CHUNK_SIZE,
        limits: DecodeLimits = DEFAULT_LIMITS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.uri = uri
        self.url = http_url(uri)
        self.timeout = timeout
        self.user_name = user_name
        self.natural_language = natural_language
        self.chunk_size = chunk_size
        self.limits = limits
        self._request_ids = itertools.count(1)
        self._http = httpx.Client(
            auth=httpx.BasicAuth(*auth) if isinstance(auth, tuple) else auth,
            timeout=httpx.Timeout(timeout),
            verify=tls_context(None if ca_file is None else str(ca_file)),
            transport=transport,
            headers={"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE},
        )

    # ---- plumbing

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> IppClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def new_request(
        self,
        operation: int,
        *,
        operation_attributes: Sequence[Attribute] = (),
        groups: Sequence[AttributeGroup] = (),
        target_uri: str | None = None,
    ) -> Message:
        """A request to this printer with the next request id."""
        return Message.request(
            operation,
            next(self._request_ids),
            target_uri=self.uri if target_uri is None else target_uri,
            operation_attributes=operation_attributes,
            groups=groups,
            natural_language=self.natural_language,
        )

    def post(self, body: bytes, document: Path | None = None) -> bytes:
        """POST an encoded request (and stream ``document`` after it); the raw answer.

        The answer is read only up to the decode limit, so a hostile server cannot make
        us buffer an endless body."""
        return self._exchange(body, document).body

    def _exchange(self, body: bytes, document: Path | None) -> _Answer:
        content = _DocumentBody(body, document, self.chunk_size)
        try:
            with self._http.stream("POST", self.url, content=content) as response:
                if response.status_code in _HTTP_REFUSALS:
                    raise IppStatusError(
                        _HTTP_REFUSALS[response.status_code],
                        status_message=f"HTTP {response.status_code} {response.reason_phrase}",
                    )
                http = http_of(response)
                if response.status_code != 200:
                    start = next(response.iter_bytes(), b"")
                    raise self._not_ipp(
                        http,
                        quoted(start) or "bytes that are not text",
                        retryable=response.status_code >= 500,
                    )
                return _Answer(self._read_capped(response), http)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            # Nothing of the request left: the printer cannot have acted on it.
            why = connect_failure(error, url=self.url, timeout=self.timeout)
            raise IppTransportError(
                f"{self.uri}: cannot connect: {why}",
                may_have_made_job=False,
            ) from error
        except httpx.HTTPError as error:
            failure = exchange_failure(error, timeout=self.timeout)
            raise IppTransportError(
                f"{self.uri}: {failure}", answered=failure == NOT_HTTP
            ) from error

    def _not_ipp(self, http: str, what: str, *, retryable: bool = True) -> IppTransportError:
        """The printer answered, but not in IPP: what it answered, briefly. Tried again by
        default: a printer's web server may answer so while it starts."""
        return IppTransportError(
            f"{self.uri}: the printer's answer is not IPP: {http}: {what}",
            retryable=retryable,
            answered=True,
        )

    def _read_capped(self, response: httpx.Response) -> bytes:
        cap = self.limits.max_attribute_bytes
        received = bytearray()
        for chunk in response.iter_bytes():
            received += chunk
            if len(received) > cap:
                raise IppTransportError(
                    f"{self.uri}: the answer is larger than {cap} bytes", retryable=False
                )
        return bytes(received)

    def send(self, request: Message, document: Path | None = None) -> Message:
        """Send a request and return the response; raise IppStatusError unless the
        status is successful."""
        answer = self._exchange(encode(request), document)
        try:
            response = decode(answer.body, self.limits)
        except IppDecodeError as error:
            # A web page says what it is by its start; binary bytes by where they broke.
            what = quoted(answer.body) or f"undecodable ({error})"
            raise self._not_ipp(answer.http, what) from None
        if not is_successful(response.status_code):
            raise _status_error(request, response)
        for group in response.groups:
            repeated = group.repeated_names()
            if repeated:
                # Kept for lossless re-encoding; look-ups use the first occurrence.
                logger.info(
                    "%s repeats %s in its %s group", self.uri, ", ".join(repeated), group.name
                )
        return response

    # ---- operations

    def get_printer_attributes(self, requested: Sequence[str] = ("all",)) -> AttributeGroup:
        """The printer's attributes (``requested`` names or groups such as ``all``)."""
        response = self.send(
            self.new_request(
                Operation.GET_PRINTER_ATTRIBUTES,
                operation_attributes=[Attribute.keyword("requested-attributes", *requested)],
            )
        )
        return response.group(GroupTag.PRINTER) or AttributeGroup(GroupTag.PRINTER)

    def cups_get_printers(
        self, requested: Sequence[str] = ("printer-name", "printer-uri-supported", "printer-state")
    ) -> list[AttributeGroup]:
        """The queues of a CUPS server (``uri`` is the server, e.g. ``ipp://host:631/``)."""
        request = Message.request(
            Operation.CUPS_GET_PRINTERS,
            next(self._request_ids),
            operation_attributes=[Attribute.keyword("requested-attributes", *requested)],
            natural_language=self.natural_language,
        )
        return self.send(request).groups_of(GroupTag.PRINTER)

    def _job_creation_request(
        self,
        operation: Operation,
        job_name: str | None,
        document_format: str | None,
        job_attributes: Sequence[Attribute],
    ) -> Message:
        operation_attributes = [Attribute.name_("requesting-user-name", self.user_name)]
        if job_name is not None:
            operation_attributes.append(Attribute.name_("job-name", job_name))
        if document_format is not None:
            operation_attributes.append(
                Attribute.mime_media_type("document-format", document_format)
            )
        groups = [AttributeGroup(GroupTag.JOB, tuple(job_attributes))] if job_attributes else []
        return self.new_request(operation, operation_attributes=operation_attributes, groups=groups)

    def validate_job(
        self,
        *,
        job_name: str | None = None,
        document_format: str | None = None,
        job_attributes: Sequence[Attribute] = (),
    ) -> Message:
        """Ask whether the printer would accept such a job; raises IppStatusError if not."""
        return self.send(
            self._job_creation_request(
                Operation.VALIDATE_JOB, job_name, document_format, job_attributes
            )
        )

    def print_job(
        self,
        document: str | Path,
        *,
        job_name: str | None = None,
        document_format: str = "application/octet-stream",
        job_attributes: Sequence[Attribute] = (),
    ) -> SubmittedJob:
        """Print-Job: one document, streamed from its file."""
        path = Path(document)
        request = self._job_creation_request(
            Operation.PRINT_JOB, job_name or path.name, document_format, job_attributes
        )
        return _submitted(self.send(request, path))

    def create_job(
        self, *, job_name: str | None = None, job_attributes: Sequence[Attribute] = ()
    ) -> SubmittedJob:
        """Create-Job: a job that documents are then added to with send_document."""
        request = self._job_creation_request(Operation.CREATE_JOB, job_name, None, job_attributes)
        return _submitted(self.send(request))

    def send_document(
        self,
        job_id: int,
        document: str | Path,
        *,
        last_document: bool,
        document_format: str = "application/octet-stream",
        document_name: str | None = None,
    ) -> SubmittedJob:
        """Send-Document: add one document to a created job (streamed from its file)."""
        path = Path(document)
        request = self.new_request(
            Operation.SEND_DOCUMENT,
            operation_attributes=[
                Attribute.integer("job-id", job_id),
                Attribute.name_("requesting-user-name", self.user_name),
                Attribute.name_("document-name", document_name or path.name),
                Attribute.mime_media_type("document-format", document_format),
                Attribute.boolean("last-document", last_document),
            ],
        )
        return _submitted(self.send(request, path))

    def get_jobs(
        self,
        *,
        which_jobs: str = "not-completed",
        my_jobs: bool = False,
        requested: Sequence[str] = ("job-id", "job-name", "job-state", "job-state-reasons"),
    ) -> list[AttributeGroup]:
        """Get-Jobs: one job group per job."""
        request = self.new_request(
            Operation.GET_JOBS,
            operation_attributes=[
                Attribute.name_("requesting-user-name", self.user_name),
                Attribute.keyword("which-jobs", which_jobs),
                Attribute.boolean("my-jobs", my_jobs),
                Attribute.keyword("requested-attributes", *requested),
            ],
        )
        return self.send(request).groups_of(GroupTag.JOB)

    def _job_request(self, operation: Operation, job_id: int, *extra: Attribute) -> Message:
        return self.new_request(
            operation,
            operation_attributes=[
                Attribute.integer("job-id", job_id),
                Attribute.name_("requesting-user-name", self.user_name),
                *extra,
            ],
        )

    def get_job_attributes(
        self, job_id: int, requested: Sequence[str] = ("all",)
    ) -> AttributeGroup:
        response = self.send(
            self._job_request(
                Operation.GET_JOB_ATTRIBUTES,
                job_id,
                Attribute.keyword("requested-attributes", *requested),
            )
        )
        return response.group(GroupTag.JOB) or AttributeGroup(GroupTag.JOB)

    def cancel_job(self, job_id: int) -> None:
        self.send(self._job_request(Operation.CANCEL_JOB, job_id))

    def hold_job(self, job_id: int) -> None:
        self.send(self._job_request(Operation.HOLD_JOB, job_id))

    def release_job(self, job_id: int) -> None:
        self.send(self._job_request(Operation.RELEASE_JOB, job_id))


def _unsupported_names(response: Message) -> tuple[str, ...]:
    group = response.group(GroupTag.UNSUPPORTED)
    return tuple(attribute.name for attribute in group) if group is not None else ()


def _unsupported_values(response: Message) -> tuple[tuple[str, tuple[object, ...]], ...]:
    group = response.group(GroupTag.UNSUPPORTED)
    if group is None:
        return ()
    return tuple((attribute.name, attribute.python_values) for attribute in group)


def _status_error(request: Message, response: Message) -> IppStatusError:
    message = response.get("status-message", GroupTag.OPERATION)
    return IppStatusError(
        response.status_code,
        status_message=str(message.value) if message is not None else None,
        unsupported_attributes=_unsupported_names(response),
        operation=operation_name(request.operation_id),
    )


def _submitted(response: Message) -> SubmittedJob:
    job = response.group(GroupTag.JOB)
    job_id = job.get("job-id") if job is not None else None
    if job is None or job_id is None or not isinstance(job_id.value, int):
        # The job may well print: asking later (a caller that marks its jobs can then find it
        # with Get-Jobs) is better than calling it refused and giving the money back.
        raise IppAcceptedWithoutJobId
    job_uri = job.get("job-uri")
    job_state = job.get("job-state")
    return SubmittedJob(
        job_id=job_id.value,
        job_uri=str(job_uri.value) if job_uri is not None else None,
        job_state=(
            job_state.value if job_state is not None and isinstance(job_state.value, int) else None
        ),
        status_code=response.status_code,
        ignored_attributes=_unsupported_names(response),
        ignored_values=_unsupported_values(response),
    )
