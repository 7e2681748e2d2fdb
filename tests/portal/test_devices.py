"""The printing-from-devices page: the printer's address, the printing token (shown once, kept
as a digest, accepted by our IPP printer), and the default printer for Release-Job."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client, override_settings

from apps.ippserver.auth import user_for_credentials
from apps.ippserver.models import PrintingProfile
from apps.ippserver.services import token_digest
from apps.printers.models import Printer
from tests.portal.conftest import People, logged_in, office_printer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site_host() -> Iterator[None]:
    with override_settings(ALLOWED_HOSTS=["testserver", "print.example.edu"]):
        yield


def test_the_page_shows_our_printer_uri_from_the_request_host(people: People) -> None:
    client = logged_in(people.staff)
    page = client.get("/devices/", HTTP_HOST="print.example.edu:8631").content.decode()
    assert "ipp://print.example.edu:8631/ipp/print" in page
    assert "ipp://sam:TOKEN@print.example.edu:8631/ipp/print" in page
    assert "This address is not encrypted" in page
    assert "You have no printing token." in page


def test_behind_https_the_page_says_ipps(people: People) -> None:
    client = logged_in(people.staff)
    page = client.get("/devices/", HTTP_HOST="print.example.edu", secure=True).content.decode()
    # Reached on HTTPS's port 443: an ipps URI without a port would mean 631.
    assert "ipps://print.example.edu:443/ipp/print" in page
    assert "ipps://sam:TOKEN@print.example.edu:443/ipp/print" in page
    assert "address <code>print.example.edu:443</code>" in page  # macOS asks 631 otherwise
    assert "<code>https://print.example.edu/ipp/print</code>" in page  # Windows: HTTPS's own
    assert "not encrypted" not in page


#: What Apache sends with ProxyPreserveHost Off, after a second proxy appended its own.
FORWARDED_HOST = "print.example.edu:8631, lb.internal"


def test_behind_a_proxy_that_says_the_host_the_page_names_it_when_the_setting_is_on(
    people: People,
) -> None:
    client = logged_in(people.staff)
    with override_settings(USE_X_FORWARDED_HOST=True):
        page = client.get("/devices/", HTTP_X_FORWARDED_HOST=FORWARDED_HOST).content.decode()
    assert "ipp://print.example.edu:8631/ipp/print" in page
    assert "ipp://sam:TOKEN@print.example.edu:8631/ipp/print" in page
    assert "testserver" not in page


def test_with_the_setting_off_the_forwarded_host_is_ignored(people: People) -> None:
    client = logged_in(people.staff)
    page = client.get("/devices/", HTTP_X_FORWARDED_HOST=FORWARDED_HOST).content.decode()
    assert "ipp://testserver:80/ipp/print" in page
    assert "print.example.edu" not in page


@pytest.mark.parametrize("forwarded", ['print"example', "print.example.edu/x", "[::1", ""])
def test_a_forwarded_host_that_is_no_host_is_400_when_the_setting_is_on(
    people: People, forwarded: str
) -> None:
    client = logged_in(people.staff)
    with override_settings(USE_X_FORWARDED_HOST=True):
        assert client.get("/devices/", HTTP_X_FORWARDED_HOST=forwarded).status_code == 400


def test_behind_a_proxy_that_says_the_port_the_page_names_it_when_the_setting_is_on(
    people: People,
) -> None:
    client = logged_in(people.staff)
    nginx = {"host": "print.example.edu", "x-forwarded-port": "631"}
    with override_settings(USE_X_FORWARDED_PORT=True):
        page = client.get("/devices/", secure=True, headers=nginx).content.decode()
    assert "ipps://print.example.edu:631/ipp/print" in page
    assert "ipps://sam:TOKEN@print.example.edu:631/ipp/print" in page
    assert "<code>https://print.example.edu:631/ipp/print</code>" in page
    off = client.get("/devices/", secure=True, headers=nginx).content.decode()
    assert "ipps://print.example.edu:443/ipp/print" in off


@pytest.mark.parametrize("forwarded", ["http", "0", "65536", ""])
def test_a_forwarded_port_that_is_no_port_is_400_when_the_setting_is_on(
    people: People, forwarded: str
) -> None:
    client = logged_in(people.staff)
    with override_settings(USE_X_FORWARDED_PORT=True):
        assert client.get("/devices/", HTTP_X_FORWARDED_PORT=forwarded).status_code == 400
    assert client.get("/devices/", HTTP_X_FORWARDED_PORT=forwarded).status_code == 200


def test_phones_are_told_the_announced_name_only_when_announcements_are_on(
    people: People, settings: Any
) -> None:
    client = logged_in(people.staff)
    settings.DNSSD = replace(settings.DNSSD, enabled=False)
    assert "this site does not do" in client.get("/devices/").content.decode()
    settings.DNSSD = replace(settings.DNSSD, enabled=True, name="Library hold queue")
    page = client.get("/devices/").content.decode()
    assert "find this printer by themselves as “Library hold queue”" in page
    assert "this site does not do" not in page


def test_the_navigation_links_the_page(people: People) -> None:
    assert 'href="/devices/"' in logged_in(people.staff).get("/inbox/").content.decode()


def test_a_token_is_shown_once_and_stored_only_as_its_digest(people: People) -> None:
    client = logged_in(people.staff)
    response = client.post("/devices/token/")
    assert "no-store" in response["Cache-Control"]
    match = re.search(r'<code id="printing-token">([^<]+)</code>', response.content.decode())
    assert match is not None
    token = match.group(1)
    profile = PrintingProfile.objects.get(user=people.staff)
    assert profile.token_digest == token_digest(token)
    assert token not in profile.token_digest
    assert user_for_credentials("sam", token, "192.0.2.1") == people.staff

    again = client.get("/devices/").content.decode()
    assert token not in again
    assert "You have a printing token" in again

    regenerated = client.post("/devices/token/").content.decode()
    assert token not in regenerated
    assert user_for_credentials("sam", token, "192.0.2.1") is None


def test_revoking_the_token_stops_it_at_once(people: People) -> None:
    client = logged_in(people.staff)
    page = client.post("/devices/token/").content.decode()
    match = re.search(r'<code id="printing-token">([^<]+)</code>', page)
    assert match is not None
    assert client.post("/devices/token/revoke/").status_code == 302
    assert user_for_credentials("sam", match.group(1), "192.0.2.1") is None
    assert "You have no printing token." in client.get("/devices/").content.decode()


def test_default_printer_only_among_printers_the_user_may_use(
    people: People, printer: Printer
) -> None:
    locked = office_printer("ipp://127.0.0.1:9/ipp/locked", name="locked", rule_file=None)
    locked.allowed_groups.add(Group.objects.create(name="Physics"))
    client = logged_in(people.staff)
    page = client.get("/devices/").content.decode()
    assert f'value="{printer.pk}"' in page
    assert f'value="{locked.pk}"' not in page

    refused = client.post("/devices/default-printer/", {"printer": locked.pk})
    assert refused.status_code == 200
    assert "Select a valid choice." in refused.content.decode()
    assert PrintingProfile.objects.get(user=people.staff).default_printer is None

    assert client.post("/devices/default-printer/", {"printer": printer.pk}).status_code == 302
    assert PrintingProfile.objects.get(user=people.staff).default_printer == printer
    chosen = client.get("/devices/").content.decode()
    assert f'<option value="{printer.pk}" selected>' in chosen

    client.post("/devices/default-printer/", {"printer": ""})
    assert PrintingProfile.objects.get(user=people.staff).default_printer is None


def test_token_forms_need_csrf(people: People) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.staff)
    assert client.post("/devices/token/").status_code == 403
    assert not PrintingProfile.objects.filter(user=people.staff).exclude(token_digest="").exists()
