"""Behind a proxy that does not pass the Host header on (Apache's `ProxyPreserveHost Off`) but
sets X-Forwarded-Host, our printer names the host the client asked for in its URIs, when the
admin has said so with USE_X_FORWARDED_HOST; otherwise a client could name any host. Likewise
the port in X-Forwarded-Port, with USE_X_FORWARDED_PORT, for a Host that names none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from printmgmt.ipp import Operation, decode, encode
from tests.ippserver.conftest import IppTester, Printing, attribute_value
from tests.pdfs import make_pdf
from tests.servers import start_asgi_server, stop_asgi_server

#: What Apache sends with ProxyPreserveHost Off, after a second proxy appended its own.
PROXIED = {"host": "127.0.0.1:8000", "x-forwarded-host": "print.example.edu:8631, lb.internal"}


@pytest.fixture(scope="module")
def ipp_behind_proxy(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IppTester]:
    log = tmp_path_factory.mktemp("asgi-forwarded") / "uvicorn.log"
    server = start_asgi_server(
        log, extra_env={"USE_X_FORWARDED_HOST": "true", "USE_X_FORWARDED_PORT": "true"}
    )
    yield IppTester(server)
    stop_asgi_server(server)


def test_with_the_setting_on_the_uris_name_the_forwarded_host(
    ipp_behind_proxy: IppTester, printing: Printing, tmp_path: Path
) -> None:
    ipp = ipp_behind_proxy
    request = encode(ipp.request(Operation.GET_PRINTER_ATTRIBUTES))
    printer = decode(ipp.post(request, headers=PROXIED).content)
    assert (
        attribute_value(printer, "printer-uri-supported")
        == "ipp://print.example.edu:8631/ipp/print"
    )
    assert attribute_value(printer, "printer-more-info") == "http://print.example.edu:8631/"
    document = make_pdf(tmp_path / "page.pdf", 1).read_bytes()
    created = ipp.post(
        encode(ipp.request(Operation.PRINT_JOB)) + document,
        auth=(printing.username, printing.password),
        headers=PROXIED,
    )
    assert created.status_code == 200, created.text
    job = decode(created.content)
    job_id = attribute_value(job, "job-id")
    assert isinstance(job_id, int), job
    assert attribute_value(job, "job-uri") == f"ipp://print.example.edu:8631/ipp/print/{job_id}"
    # A request that came straight to us, without the header, is answered from its Host.
    direct = decode(ipp.post(request).content)
    assert attribute_value(direct, "printer-uri-supported") == ipp.server.ipp_uri


@pytest.mark.parametrize("forwarded", ['print"example', "print.example.edu/x", "[::1", ""])
def test_with_the_setting_on_a_forwarded_host_that_is_no_host_is_400(
    transactional_db: None, ipp_behind_proxy: IppTester, forwarded: str
) -> None:
    request = encode(ipp_behind_proxy.request(Operation.GET_PRINTER_ATTRIBUTES))
    refused = ipp_behind_proxy.post(request, headers={"x-forwarded-host": forwarded})
    assert refused.status_code == 400
    assert refused.text == "the X-Forwarded-Host header is not a host name\n"


def test_with_the_setting_off_the_forwarded_host_is_ignored(ipp: IppTester) -> None:
    request = encode(ipp.request(Operation.GET_PRINTER_ATTRIBUTES))
    printer = decode(ipp.post(request, headers=PROXIED).content)
    assert attribute_value(printer, "printer-uri-supported") == "ipp://127.0.0.1:8000/ipp/print"
    assert attribute_value(printer, "printer-more-info") == "http://127.0.0.1:8000/"
    malformed = ipp.post(request, headers={"x-forwarded-host": 'print"example'})
    assert malformed.status_code == 200


def test_with_the_setting_on_a_host_without_port_gets_the_forwarded_port(
    ipp_behind_proxy: IppTester, printing: Printing, tmp_path: Path
) -> None:
    ipp = ipp_behind_proxy
    # nginx: proxy_set_header Host $host; X-Forwarded-Proto https; X-Forwarded-Port $server_port
    nginx = {"host": "print.example.edu", "x-forwarded-proto": "https", "x-forwarded-port": "631"}
    request = encode(ipp.request(Operation.GET_PRINTER_ATTRIBUTES))
    printer = decode(ipp.post(request, headers=nginx).content)
    assert (
        attribute_value(printer, "printer-uri-supported")
        == "ipps://print.example.edu:631/ipp/print"
    )
    assert attribute_value(printer, "printer-more-info") == "https://print.example.edu:631/"
    document = make_pdf(tmp_path / "page.pdf", 1).read_bytes()
    created = ipp.post(
        encode(ipp.request(Operation.PRINT_JOB)) + document,
        auth=(printing.username, printing.password),
        headers=nginx,
    )
    job = decode(created.content)
    job_id = attribute_value(job, "job-id")
    assert isinstance(job_id, int), job
    assert attribute_value(job, "job-uri") == f"ipps://print.example.edu:631/ipp/print/{job_id}"
    # A forwarded host without a port gets it too; one with a port keeps its own, the port the
    # client used (a proxy behind a port mapping listens on another).
    for headers, uri in (
        (
            {"x-forwarded-host": "print.example.edu", "x-forwarded-port": "8631, 443"},
            "ipp://print.example.edu:8631/ipp/print",
        ),
        (
            {"x-forwarded-host": "print.example.edu:631", "x-forwarded-port": "8631"},
            "ipp://print.example.edu:631/ipp/print",
        ),
        ({"host": "[fd00::10]", "x-forwarded-port": "8631"}, "ipp://[fd00::10]:8631/ipp/print"),
    ):
        printer = decode(ipp.post(request, headers=headers).content)
        assert attribute_value(printer, "printer-uri-supported") == uri


@pytest.mark.parametrize("forwarded", ["http", "0", "65536", "-1", "+631", "6 31", ""])
def test_with_the_setting_on_a_forwarded_port_that_is_no_port_is_400(
    transactional_db: None, ipp_behind_proxy: IppTester, forwarded: str
) -> None:
    request = encode(ipp_behind_proxy.request(Operation.GET_PRINTER_ATTRIBUTES))
    refused = ipp_behind_proxy.post(request, headers={"x-forwarded-port": forwarded})
    assert refused.status_code == 400
    assert refused.text == "the X-Forwarded-Port header is not a port number\n"


def test_with_the_setting_off_the_forwarded_port_is_ignored(ipp: IppTester) -> None:
    request = encode(ipp.request(Operation.GET_PRINTER_ATTRIBUTES))
    for forwarded in ("631", "no port"):
        headers = {"host": "print.example.edu", "x-forwarded-port": forwarded}
        printer = decode(ipp.post(request, headers=headers).content)
        assert (
            attribute_value(printer, "printer-uri-supported")
            == "ipp://print.example.edu:80/ipp/print"
        )
