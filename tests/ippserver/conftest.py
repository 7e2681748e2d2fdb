"""A user who prints from devices, a real printer to release to, and a raw IPP client."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.core.cache import cache

from apps.accounts.models import User
from apps.accounts.movements import account_deposit
from apps.accounts.roles import PRINTER_ADMIN, STAFF, Role
from apps.accounts.services import personal_account_ensure, user_create
from apps.ippserver.services import default_printer_set, printing_token_issue
from apps.printers.models import Printer, SidePrice
from apps.printers.services import printer_add
from apps.rules.services import rule_file_activate, rule_file_save
from printmgmt.ipp import (
    Attribute,
    AttributeGroup,
    GroupTag,
    Message,
    Operation,
    PyValue,
    decode,
    encode,
)
from tests.jobs.conftest import FINISHER_RULES
from tests.pdfs import make_pdf
from tests.peers import OFFICE_FINISHER_ATTRIBUTES, IppEvePrinter, run_ippeveprinter
from tests.servers import AsgiServer

PASSWORD = "a long enough password"
# The office finisher, also taking US Letter: ipp-1.1.test sends its A4 PostScript job with
# the Letter media name it found, and needs one.
DESK_ATTRIBUTES = OFFICE_FINISHER_ATTRIBUTES.replace(
    "iso_a5_148x210mm\n", "iso_a5_148x210mm,na_letter_8.5x11in\n"
)
assert DESK_ATTRIBUTES != OFFICE_FINISHER_ATTRIBUTES


@dataclass
class Printing:
    """A staff member set up to print from a device: password, printing token, default printer."""

    user: User
    password: str
    token: str

    @property
    def username(self) -> str:
        return self.user.username


@pytest.fixture(scope="module")
def release_peer() -> Iterator[IppEvePrinter]:
    with run_ippeveprinter(name="Release Desk", attributes=DESK_ATTRIBUTES) as peer:
        yield peer


@pytest.fixture
def release_printer(transactional_db: None, release_peer: IppEvePrinter) -> Printer:
    """A duplex finisher with a rule file and side prices, as a site would set one up."""
    version = rule_file_save("ipp-desk", FINISHER_RULES)
    rule_file_activate(version.pk)
    printer = printer_add("desk", release_peer.uri, rule_file=version.rule_file)
    for media in printer.capabilities["media-supported"]:
        for color in (False, True):
            SidePrice.objects.create(
                printer=printer,
                media=media,
                color=color,
                one_sided=Decimal("0.10"),
                two_sided=Decimal("0.08"),
            )
    return printer


def _printing_user(username: str, role: Role = STAFF) -> Printing:
    user = user_create(username, PASSWORD, role=role)
    account_deposit(personal_account_ensure(user).pk, Decimal("100.00"), actor=None, reason="t")
    return Printing(user, PASSWORD, printing_token_issue(user))


@pytest.fixture
def printing(transactional_db: None) -> Printing:
    return _printing_user("dana")


@pytest.fixture
def other_printing(transactional_db: None) -> Printing:
    return _printing_user("eli")


@pytest.fixture
def operator_printing(transactional_db: None) -> Printing:
    return _printing_user("pat", PRINTER_ADMIN)


@pytest.fixture
def printing_with_desk(printing: Printing, release_printer: Printer) -> Printing:
    default_printer_set(printing.user, release_printer)
    return printing


def basic_authorization(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def spool_entries() -> set[str]:
    spool = Path(settings.SPOOL_DIR)
    return {entry.name for entry in spool.iterdir()} if spool.exists() else set()


class IppTester:
    """Sends IPP requests to the server as a given user and decodes the answers."""

    def __init__(self, server: AsgiServer) -> None:
        self.server = server
        self.url = f"{server.base_url}/ipp/print"
        self._request_id = 0
        #: Headers every request carries (a test sets a client's User-Agent).
        self.headers: dict[str, str] = {}

    def request(
        self,
        operation: int,
        *,
        operation_attributes: list[Attribute] | None = None,
        job_attributes: list[Attribute] | None = None,
        job_id: int | None = None,
        version: tuple[int, int] = (2, 0),
    ) -> Message:
        self._request_id += 1
        attributes = list(operation_attributes or [])
        if job_id is not None:
            attributes.insert(0, Attribute.integer("job-id", job_id))
        groups = [AttributeGroup(GroupTag.JOB, tuple(job_attributes))] if job_attributes else []
        return Message.request(
            operation,
            self._request_id,
            target_uri=self.server.ipp_uri,
            operation_attributes=attributes,
            groups=groups,
            version=version,
        )

    def post(
        self,
        body: bytes,
        *,
        auth: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {"content-type": "application/ipp", **self.headers, **(headers or {})}
        if auth is not None:
            sent["authorization"] = basic_authorization(*auth)
        return httpx.post(self.url, content=body, headers=sent, timeout=60)

    def post_stream(self, body: Iterator[bytes], *, auth: tuple[str, str]) -> httpx.Response:
        """POST a body sent as it is produced (chunked), as a slow client sends it."""
        headers = {
            "content-type": "application/ipp",
            "authorization": basic_authorization(*auth),
        }
        return httpx.post(self.url, content=body, headers=headers, timeout=60)

    def send(
        self, message: Message, document: bytes = b"", *, auth: tuple[str, str] | None = None
    ) -> Message:
        response = self.post(encode(message) + document, auth=auth)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/ipp"
        return decode(response.content)

    def print_job(
        self,
        auth: tuple[str, str],
        document: bytes,
        *,
        document_format: str = "application/pdf",
        job_attributes: list[Attribute] | None = None,
        fidelity: bool | None = None,
        name: str = "from a device",
    ) -> Message:
        operation = [
            Attribute.name_("job-name", name),
            Attribute.mime_media_type("document-format", document_format),
        ]
        if fidelity is not None:
            operation.append(Attribute.boolean("ipp-attribute-fidelity", fidelity))
        request = self.request(
            Operation.PRINT_JOB, operation_attributes=operation, job_attributes=job_attributes
        )
        return self.send(request, document, auth=auth)


@pytest.fixture
def ipp(asgi_server: AsgiServer) -> IppTester:
    return IppTester(asgi_server)


@pytest.fixture
def pdf_bytes(tmp_path: Path) -> bytes:
    return make_pdf(tmp_path / "document.pdf", 1).read_bytes()


@pytest.fixture(autouse=True)
def _no_failed_log_ins_left() -> Iterator[None]:
    """Failed password checks are counted in the cache, for a quarter of an hour: each test
    starts with none (the users of every test have the same names)."""
    yield
    cache.clear()


def attribute_value(answer: Message | AttributeGroup, name: str) -> PyValue:
    """The (first) value of an attribute the answer must have."""
    attribute = answer.get(name)
    assert attribute is not None, f"{name} missing in {answer}"
    return attribute.value


def job_id_of(answer: Message) -> int:
    """The job-id of a job-creating answer."""
    job_id = attribute_value(answer, "job-id")
    assert isinstance(job_id, int), answer
    return job_id
