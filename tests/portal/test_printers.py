"""Printer admins' printer pages through the test client: wrong input is named on the page,
never a server error, and nothing is half-written."""

from __future__ import annotations

import pytest

from apps.printers.models import Printer
from apps.printers.services import printer_add
from tests.peers import Cupsd, IppEvePrinter
from tests.portal.conftest import People, logged_in

pytestmark = pytest.mark.django_db

MALFORMED_URIS = (
    "ipp://127.0.0.1:99999/ipp/print",
    "ipp://127.0.0.1:abc/x",
    "ipp://[bad/ipp/print",
)


@pytest.mark.parametrize("uri", MALFORMED_URIS)
@pytest.mark.parametrize("action", ["probe", "add"])
def test_a_malformed_printer_uri_is_named_when_probing_and_adding(
    people: People, uri: str, action: str
) -> None:
    client = logged_in(people.printer_admin)
    data = {"name": "lobby", "uri": uri, "location": "", "rule_file": "", "action": action}
    response = client.post("/manage/printers/add/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'role="alert"' in page
    assert "is not a printer URI" in page
    assert not Printer.objects.exists()


@pytest.mark.parametrize("uri", MALFORMED_URIS)
def test_a_malformed_cups_server_uri_is_named(people: People, uri: str) -> None:
    response = logged_in(people.printer_admin).post(
        "/manage/printers/import/", {"server_uri": uri, "rule_file": ""}
    )
    assert response.status_code == 200
    assert "is not a printer URI" in response.content.decode()
    assert not Printer.objects.exists()


@pytest.mark.peers
def test_cups_import_of_a_server_written_differently_with_a_clashing_queue_says_what_it_skipped(
    people: People, cupsd: Cupsd, ippeveprinter: IppEvePrinter
) -> None:
    printer_add("reception", ippeveprinter.uri)
    for name in ("reception", "floor.2"):
        cupsd.add_queue(name, ippeveprinter.uri)
    client = logged_in(people.printer_admin)
    for spelling in (cupsd.uri, f"ipp://localhost:{cupsd.port}"):
        response = client.post("/manage/printers/import/", {"server_uri": spelling})
        assert response.status_code == 200
        page = response.content.decode()
        assert "<strong>reception</strong>: a printer called &#x27;reception&#x27; exists" in page
    assert Printer.objects.get(name="floor.2").cups_server == f"ipp://localhost:{cupsd.port}/"
    assert Printer.objects.get(name="reception").cups_server == ""
