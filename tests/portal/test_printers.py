"""Printer admins' printer pages through the test client: wrong input is named on the page,
never a server error, and nothing is half-written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from apps.jobs.models import Job
from apps.printers.models import Printer, PrinterGroup
from apps.printers.selectors import printers_usable_by, user_may_use_printer
from apps.printers.services import printer_add
from tests.peers import Cupsd, IppEvePrinter, IppEvePrinterFactory, run_cupsd
from tests.portal.accessibility import error_at, page_problems, parse
from tests.portal.conftest import People, logged_in, office_printer

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
    assert "is not a printer URI" in error_at(response.content, "uri")
    assert not Printer.objects.exists()


@pytest.mark.peers
def test_a_name_taken_in_another_case_is_refused_at_the_name_field_in_the_users_language(
    people: People, ippeveprinter: IppEvePrinter
) -> None:
    printer_add("Hall", ippeveprinter.uri)
    data = {"name": "hall", "uri": ippeveprinter.uri, "location": "", "rule_file": ""}
    response = logged_in(people.printer_admin).post(
        "/manage/printers/add/", data, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert response.status_code == 200
    assert error_at(response.content, "name") == (
        "ein Drucker namens 'Hall' besteht bereits, und Namen, die sich nur in Groß- "
        "und Kleinschreibung unterscheiden, gehören wie in CUPS zu einem Drucker"
    )
    assert list(Printer.objects.values_list("name", flat=True)) == ["Hall"]


# A new printer's name or address refused before it is asked anything: (name, URI, the field
# that says why, what it says to a German reader).
REFUSED_NEW_PRINTERS = {
    "name starting with -": (
        "-lobby",
        "ipp://127.0.0.1:631/ipp/print",
        "name",
        "'-lobby' ist kein brauchbarer Druckername: höchstens 64 Zeichen, keine Leerzeichen, "
        "Steuerzeichen oder eines von /\\?'\"#@, und nicht mit '-' am Anfang",
    ),
    "a printer group's name": (
        "FLOOR-2",
        "ipp://127.0.0.1:631/ipp/print",
        "name",
        "eine Druckergruppe heißt 'FLOOR-2': ein Drucker braucht einen anderen Namen",
    ),
    "port past 65535": (
        "lobby",
        "ipp://127.0.0.1:99999/ipp/print",
        "uri",
        "'ipp://127.0.0.1:99999/ipp/print' ist keine Drucker-URI: der Port muss eine Zahl von "
        "1 bis 65535 sein",
    ),
    "not IPP": (
        "lobby",
        "http://printer.example/",
        "uri",
        "'http://printer.example/' ist keine Drucker-URI: verwenden Sie ipp://HOST[:PORT]/PFAD "
        "oder ipps://…",
    ),
    "a space": (
        "lobby",
        "ipp://printer.example/ipp print",
        "uri",
        "'ipp://printer.example/ipp print' ist keine Drucker-URI: sie enthält ein Leer- oder "
        "Steuerzeichen; verwenden Sie ipp://HOST[:PORT]/PFAD oder ipps://…",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED_NEW_PRINTERS))
def test_a_refused_new_printer_name_or_address_is_told_in_the_readers_language(
    people: People, printer: Printer, case: str
) -> None:
    """They were English on a German page."""
    name, uri, field, why = REFUSED_NEW_PRINTERS[case]
    PrinterGroup.objects.create(name="floor-2").printers.add(printer)
    data = {"name": name, "uri": uri, "location": "", "rule_file": "", "action": "add"}
    response = logged_in(people.printer_admin).post(
        "/manage/printers/add/", data, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert response.status_code == 200
    assert error_at(response.content, field) == why
    assert page_problems(response.content, "de") == []
    assert list(Printer.objects.values_list("name", flat=True)) == [printer.name]


@pytest.mark.parametrize("uri", MALFORMED_URIS)
def test_a_malformed_cups_server_uri_is_named(people: People, uri: str) -> None:
    response = logged_in(people.printer_admin).post(
        "/manage/printers/import/", {"server_uri": uri, "rule_file": ""}
    )
    assert response.status_code == 200
    assert "is not a printer URI" in error_at(response.content, "server_uri")
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


@pytest.mark.peers
def test_cups_import_over_ipps_takes_the_servers_self_signed_certificate(
    people: People, ippeveprinter: IppEvePrinter
) -> None:
    client = logged_in(people.printer_admin)
    with run_cupsd(with_auth=False) as cupsd:
        cupsd.add_queue("secure-lobby", ippeveprinter.uri)
        uri = f"ipps://localhost:{cupsd.port}/"
        untrusted = client.post("/manage/printers/import/", {"server_uri": uri})
        assert "its certificate is not trusted" in error_at(untrusted.content, "server_uri")
        (certificate,) = (cupsd.directory / "ssl").glob("*.crt")
        refused = client.post(
            "/manage/printers/import/",
            {"server_uri": uri, "trusted_certificate": "on the printer's web page"},
        )
        assert "the trusted certificate is not a PEM certificate" in refused.content.decode()
        assert not Printer.objects.exists()
        imported = client.post(
            "/manage/printers/import/",
            {"server_uri": uri, "trusted_certificate": certificate.read_text()},
        )
        assert imported.status_code == 200
        lobby = Printer.objects.get(name="secure-lobby")
        assert lobby.trusted_certificate == certificate.read_text().strip() + "\n"
        assert Printer.objects.count() == 1


def _edit_form(printer: Printer, **changes: object) -> dict[str, object]:
    """What the edit page posts for the printer as it is, with `changes`."""
    prices = list(printer.side_prices.order_by("color"))
    data: dict[str, object] = {
        "location": printer.location,
        "used_by": "groups" if printer.restricted_to_groups else "everyone",
        "allowed_groups": [group.pk for group in printer.allowed_groups.all()],
        "rule_file": printer.rule_file_id or "",
        "enabled": "on" if printer.enabled else "",
        "trusted_certificate": printer.trusted_certificate,
        "prices-TOTAL_FORMS": str(len(prices)),
        "prices-INITIAL_FORMS": str(len(prices)),
    }
    for number, price in enumerate(prices):
        data |= {
            f"prices-{number}-media_size": price.media,
            f"prices-{number}-color": "on" if price.color else "",
            f"prices-{number}-media_source": price.media_source,
            f"prices-{number}-one_sided": str(price.one_sided),
            f"prices-{number}-two_sided": str(price.two_sided),
        }
    return data | changes


def _settings(printer: Printer) -> tuple[object, ...]:
    printer.refresh_from_db()
    prices = sorted(
        (p.media, p.color, p.media_source, p.one_sided, p.two_sided)
        for p in printer.side_prices.all()
    )
    groups = sorted(printer.allowed_groups.values_list("name", flat=True))
    return (printer.location, printer.enabled, printer.rule_file_id, groups, prices)


@pytest.mark.parametrize("media", ["iso_a4_210x297mm", " iso_a4_210x297mm "])
def test_a_printer_edit_with_a_duplicate_price_row_saves_nothing_and_names_the_row(
    people: People, printer: Printer, media: str
) -> None:
    before = _settings(printer)
    staff_group = people.staff.groups.get()
    # Every setting changed, and the grey A4 row twice (the second time with spaces around).
    duplicate = _edit_form(
        printer,
        location="Room 99",
        used_by="groups",
        allowed_groups=[staff_group.pk],
        rule_file="",
        enabled="",
        **{"prices-1-media_size": media, "prices-1-color": ""},
    )
    response = logged_in(people.printer_admin).post(f"/manage/printers/{printer.pk}/", duplicate)
    assert response.status_code == 200
    assert _settings(printer) == before
    # Told at the second of the two rows, which takes the focus; what was entered stays.
    assert "the price table names iso_a4_210x297mm, grey, every tray twice" in error_at(
        response.content, "prices-1-media_size"
    )
    root = parse(response.content)
    assert [field.get("name") for field in root.xpath("//*[@autofocus]")] == ["prices-1-media_size"]
    assert not root.xpath("//*[@role='alert']")
    assert root.xpath("//input[@name='location']")[0].get("value") == "Room 99"
    assert page_problems(response.content) == []


def test_a_refused_certificate_is_told_at_its_field_in_the_readers_language(
    people: People, printer: Printer
) -> None:
    client = logged_in(people.printer_admin)
    client.cookies["django_language"] = "de"
    edit = _edit_form(printer, location="Raum 2", trusted_certificate="kein Zertifikat")
    response = client.post(f"/manage/printers/{printer.pk}/", edit)
    assert response.status_code == 200
    assert error_at(response.content, "trusted_certificate") == (
        "das vertrauenswürdige Zertifikat ist kein PEM-Zertifikat: es muss -----BEGIN "
        "CERTIFICATE----- … -----END CERTIFICATE----- enthalten"
    )
    root = parse(response.content)
    assert root.xpath("//input[@name='location']")[0].get("value") == "Raum 2"
    assert page_problems(response.content, "de") == []
    printer.refresh_from_db()
    assert (printer.location, printer.trusted_certificate) == ("Room 12", "")


def test_a_printer_kept_for_groups_stays_kept_when_they_are_deleted(
    people: People, printer: Printer
) -> None:
    physics = Group.objects.create(name="Physics")
    people.staff.groups.add(physics)
    client = logged_in(people.printer_admin)
    kept = _edit_form(printer, used_by="groups", allowed_groups=[physics.pk])
    assert client.post(f"/manage/printers/{printer.pk}/", kept).status_code == 302
    printer.refresh_from_db()
    assert user_may_use_printer(people.staff, printer)
    assert not user_may_use_printer(people.other_staff, printer)
    # Given a group elsewhere (a shell, the Django admin): kept for its groups all the same.
    other = office_printer("ipp://127.0.0.1:9/ipp/other", name="other", rule_file=None)
    physics.printer_set.add(other)
    physics.delete()
    for user in (people.staff, people.other_staff):
        assert not user_may_use_printer(user, Printer.objects.get(pk=printer.pk))
        assert list(printers_usable_by(user)) == []
    assert "nobody (no group left)" in client.get("/manage/printers/").content.decode()
    page = client.get(f"/manage/printers/{printer.pk}/").content.decode()
    assert "No group may use this printer" in page
    # Opening it to everyone is the administrator's own choice, and says so.
    chem = Group.objects.create(name="Chemistry")
    both = _edit_form(printer, used_by="everyone", allowed_groups=[chem.pk])
    refused = client.post(f"/manage/printers/{printer.pk}/", both).content.decode()
    assert "untick the groups, or choose “Only the groups ticked”" in refused
    assert not printers_usable_by(people.other_staff).exists()
    opened = _edit_form(printer, used_by="everyone", allowed_groups=[])
    assert client.post(f"/manage/printers/{printer.pk}/", opened).status_code == 302
    assert list(printers_usable_by(people.other_staff)) == [printer]


def test_a_queue_gone_from_its_cups_server_is_not_offered_even_when_enabled(
    people: People, printer: Printer
) -> None:
    # An administrator may enable a queue the sync found gone: nobody can print on it.
    Printer.objects.filter(pk=printer.pk).update(enabled=True, gone_from_cups_server=True)
    gone = Printer.objects.get(pk=printer.pk)
    for user in (people.staff, people.printer_admin):
        assert list(printers_usable_by(user)) == []
        assert not user_may_use_printer(user, gone)


@pytest.mark.peers
def test_an_ipps_printer_is_probed_added_and_edited_with_its_trusted_certificate(
    people: People, ippeveprinter_factory: IppEvePrinterFactory, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    secure = ippeveprinter_factory(extra_args=["-K", str(keys)])
    uri = f"ipps://localhost:{secure.port}/ipp/print"
    client = logged_in(people.printer_admin)
    data = {"name": "secure", "uri": uri, "location": "", "rule_file": ""}
    untrusted = client.post("/manage/printers/add/", {**data, "action": "probe"})
    assert "its certificate is not trusted" in untrusted.content.decode()
    pem = (keys / "localhost.crt").read_text()
    data["trusted_certificate"] = pem
    probed = client.post("/manage/printers/add/", {**data, "action": "probe"}).content.decode()
    assert "finishings-supported" in probed
    client.post("/manage/printers/add/", {**data, "action": "add"})
    printer = Printer.objects.get(name="secure")
    assert printer.trusted_certificate == pem.strip() + "\n"

    # The edit page shows it, refuses what is not a certificate, and can take it away.
    assert (
        "-----BEGIN CERTIFICATE-----"
        in client.get(f"/manage/printers/{printer.pk}/").content.decode()
    )
    for text, refusal in (
        ("not a certificate", "the trusted certificate is not a PEM certificate"),
        (pem.replace("CERTIFICATE-----\n", "CERTIFICATE-----\nAAAA", 1), "OpenSSL can read"),
    ):
        edit = _edit_form(printer, location="moved", trusted_certificate=text)
        page = client.post(f"/manage/printers/{printer.pk}/", edit).content
        assert refusal in error_at(page, "trusted_certificate")
        printer.refresh_from_db()
        assert (printer.location, printer.trusted_certificate) == ("", pem.strip() + "\n")
    cleared = _edit_form(printer, trusted_certificate="")
    assert client.post(f"/manage/printers/{printer.pk}/", cleared).status_code == 302
    printer.refresh_from_db()
    assert printer.trusted_certificate == ""


def test_printer_groups_are_made_changed_and_removed_in_the_portal(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    lobby = office_printer("ipp://127.0.0.1:9/ipp/lobby", name="lobby", rule_file=None)
    client = logged_in(people.printer_admin)
    assert "/manage/printer-groups/" in client.get("/manage/printers/").content.decode()
    assert "No printer groups yet." in client.get("/manage/printer-groups/").content.decode()
    for data, field, refusal in (
        ({"name": "floor-2"}, "printers", "a printer group needs at least one printer"),
        (
            {"name": "floor 2", "printers": [printer.pk]},
            "name",
            "is not a usable printer group name",
        ),
        ({"name": "lobby", "printers": [printer.pk]}, "name", "a printer is called 'lobby'"),
    ):
        response = client.post("/manage/printer-groups/", data)
        assert response.status_code == 200
        assert refusal in error_at(response.content, field)
        assert page_problems(response.content) == []
        assert (
            parse(response.content).xpath("//input[@name='name']")[0].get("value") == (data["name"])
        )
    assert not PrinterGroup.objects.exists()
    made = client.post(
        "/manage/printer-groups/", {"name": "floor-2", "printers": [printer.pk]}, follow=True
    )
    assert "Printer group floor-2 made." in made.content.decode()
    group = PrinterGroup.objects.get(name="floor-2")
    again = client.post("/manage/printer-groups/", {"name": "floor-2", "printers": [lobby.pk]})
    assert "a printer group called 'floor-2' exists already" in error_at(again.content, "name")
    # Staff release to it from a job's page.
    job_page = logged_in(people.staff).get(f"/jobs/{held(people.staff).pk}/").content.decode()
    assert f'value="group:{group.pk}"' in job_page

    edit = f"/manage/printer-groups/{group.pk}/"
    emptied = client.post(edit, {}, HTTP_ACCEPT_LANGUAGE="de").content
    assert error_at(emptied, "printers") == "eine Druckergruppe braucht mindestens einen Drucker"
    assert page_problems(emptied, "de") == []
    assert list(group.printers.all()) == [printer]
    client.post(edit, {"printers": [printer.pk, lobby.pk]})
    assert sorted(group.printers.values_list("name", flat=True)) == ["finisher", "lobby"]
    page = client.get(edit).content.decode()
    assert f'value="{lobby.pk}" id="id_printers_1" checked' in page

    removed = client.post(f"{edit}delete/", follow=True).content.decode()
    assert "Printer group floor-2 removed; its printers stay." in removed
    assert not PrinterGroup.objects.exists()
    assert Printer.objects.count() == 2


def test_disabling_a_printer_says_what_becomes_of_jobs_released_to_it(
    people: People, printer: Printer
) -> None:
    response = logged_in(people.printer_admin).post(
        f"/manage/printers/{printer.pk}/disable/", follow=True
    )
    assert (
        "Printer finisher is disabled: nobody can release to it, and jobs released to it that "
        "it has not accepted yet are not sent (they fail and are refunded)."
    ) in response.content.decode()
    printer.refresh_from_db()
    assert not printer.enabled


def test_a_printer_group_name_taken_in_another_case_is_refused_at_the_name(
    people: People, printer: Printer
) -> None:
    """ "floor-2" was made beside "Floor-2", though `lp -d floor-2` cannot tell them apart."""
    PrinterGroup.objects.create(name="Floor-2").printers.add(printer)
    response = logged_in(people.printer_admin).post(
        "/manage/printer-groups/",
        {"name": "floor-2", "printers": [printer.pk]},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert error_at(response.content, "name") == (
        "eine Druckergruppe namens 'Floor-2' gibt es bereits, und Namen, die sich nur in Groß- "
        "und Kleinschreibung unterscheiden, gehören wie bei Druckern zu einer Gruppe"
    )
    assert page_problems(response.content, "de") == []
    assert list(PrinterGroup.objects.values_list("name", flat=True)) == ["Floor-2"]
