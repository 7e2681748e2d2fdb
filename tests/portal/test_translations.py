"""The German catalog covers every string marked for translation, and the portal speaks the
language the browser asks for or the footer's switch chose."""

from __future__ import annotations

import html
import io
import shutil
import subprocess
from contextlib import chdir
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings

from tests.portal.conftest import People, logged_in

CATALOG = Path(settings.BASE_DIR) / "locale" / "de" / "LC_MESSAGES" / "django.po"
# Where the project's marked strings live (tests and benchmarks show nothing to users).
SOURCES = ("apps", "printmgmt", "templates")


def fresh_catalog(folder: Path) -> Path:
    """What makemessages extracts from the sources now, into a copy so the real catalog stays."""
    for name in SOURCES:
        shutil.copytree(
            Path(settings.BASE_DIR) / name,
            folder / name,
            ignore=shutil.ignore_patterns("__pycache__", "static"),
        )
    (folder / "locale").mkdir()
    with override_settings(LOCALE_PATHS=[folder / "locale"]), chdir(folder):
        call_command("makemessages", locale=["de"], no_location=True, verbosity=0)
    return folder / "locale" / "de" / "LC_MESSAGES" / "django.po"


def test_every_marked_string_is_translated_in_the_german_catalog(tmp_path: Path) -> None:
    fresh = fresh_catalog(tmp_path)
    # msgcmp counts untranslated and fuzzy entries of our catalog as missing.
    compared = subprocess.run(
        ["msgcmp", str(CATALOG), str(fresh)], capture_output=True, text=True, check=False
    )
    assert compared.returncode == 0, (
        "strings marked for translation but missing or untranslated in "
        f"{CATALOG.relative_to(settings.BASE_DIR)} (README: adding a language):\n"
        f"{compared.stderr}"
    )


def test_a_counted_message_marked_where_a_worker_writes_it_is_extracted_with_its_plural(
    tmp_path: Path,
) -> None:
    # plural_noop is ours: xgettext knows it only from our makemessages command.
    extracted = fresh_catalog(tmp_path).read_text().replace('"\n"', "")  # long lines joined
    assert (
        'msgid "the printer could not be reached after %(attempts)s attempt: %(error)s"\n'
        'msgid_plural "the printer could not be reached after %(attempts)s attempts: %(error)s"'
    ) in extracted


def test_the_german_catalog_keeps_every_placeholder_and_has_no_fuzzy_entry() -> None:
    checked = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(CATALOG)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "fuzzy" not in checked.stderr
    assert "untranslated" not in checked.stderr


@pytest.mark.django_db
def test_the_inbox_speaks_german_when_the_browser_asks(people: People) -> None:
    client = logged_in(people.staff)
    page = client.get("/inbox/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5").content.decode()
    assert '<html lang="de">' in page
    assert ">Eingang</a>" in page
    assert ">Abmelden</button>" in page
    assert ">Inbox</a>" not in page
    english = client.get("/inbox/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">Inbox</a>" in english


@pytest.mark.django_db
def test_the_footer_switch_changes_the_language_for_the_session(people: People) -> None:
    client = Client()
    login_page = client.get("/login/").content.decode()
    assert 'action="/i18n/setlang/"' in login_page
    assert '<option value="de" lang="de">Deutsch</option>' in login_page
    switched = client.post("/i18n/setlang/", {"language": "de", "next": "/login/"})
    assert switched.status_code == 302
    assert switched["Location"] == "/login/"
    assert ">Anmelden</" in client.get("/login/").content.decode()
    client.force_login(people.staff)
    assert ">Geräte</a>" in client.get("/devices/").content.decode()


@pytest.mark.django_db
def test_what_the_services_say_speaks_the_users_language(people: People) -> None:
    client = logged_in(people.staff)
    empty = io.BytesIO(b"")
    empty.name = "zero.pdf"
    page = client.post(
        "/inbox/upload/", {"document": [empty]}, follow=True, HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert "zero.pdf ist leer" in page
    not_a_document = io.BytesIO(b"\x00\x01\x02 binary")
    not_a_document.name = "blob.bin"
    page = client.post(
        "/inbox/upload/", {"document": [not_a_document]}, follow=True, HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert "das Dokument ist weder PDF" in html.unescape(page)
