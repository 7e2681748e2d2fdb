"""Jobs of several documents in the portal: uploaded as one job, their documents listed on the
job's page and in the inbox, and the quote saying how the chosen printer prints them."""

from __future__ import annotations

import html
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.jobs.choices import JobSource
from apps.jobs.models import Job
from apps.jobs.services import DocumentToHold, job_create_held_together
from apps.portal import services as portal_services
from apps.printers.cups_sync import printer_import_cups
from apps.printers.ipp_values import takes_several_documents
from apps.printers.models import Printer
from apps.printers.services import printer_add
from apps.rules.services import rule_file_import
from printmgmt.ipp import Operation
from tests.pdfs import make_pdf
from tests.peers import Cupsd, IppEvePrinter
from tests.portal.accessibility import error_at, page_problems, parse
from tests.portal.conftest import (
    OFFICE_CAPABILITIES,
    People,
    finisher_rule_file,
    logged_in,
    office_printer,
)
from tests.portal.test_staff import release_data

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
OFFICE_MFP_PPD = ROOT / "ppdrules" / "office-mfp.ppd"
OFFICE_MFP_RULES = ROOT / "ppdrules" / "office-mfp-ppd.ppde"

EACH_ON_ITS_OWN = "Each of the {count} documents is printed and finished on its own sheets."
AS_ONE = "The {count} documents are printed as one document on this printer."


def pdf(tmp_path: Path, name: str, pages: int) -> bytes:
    return make_pdf(tmp_path / name, pages).read_bytes()


def upload(client: Client, *files: tuple[str, bytes], together: bool) -> str:
    documents = []
    for name, content in files:
        document = io.BytesIO(content)
        document.name = name
        documents.append(document)
    data: dict[str, object] = {"document": documents}
    if together:
        data["together"] = "on"
    response = client.post("/inbox/upload/", data, follow=True)
    assert response.redirect_chain == [("/inbox/", 302)]
    return response.content.decode()


@pytest.fixture
def held_together(tmp_path: Path) -> Callable[..., Job]:
    def make(owner: User, *pages: int) -> Job:
        names = ["minutes.pdf", "budget.pdf", "annex.pdf"][: len(pages)]
        documents = [
            DocumentToHold(make_pdf(tmp_path / name, count), Path(name).stem, name, move=False)
            for name, count in zip(names, pages, strict=True)
        ]
        return job_create_held_together(owner, documents, title="minutes", source=JobSource.WEB)

    return make


def several_documents_printer() -> Printer:
    """A printer whose capabilities say it takes jobs of several documents (a CUPS queue's)."""
    capabilities = {
        **OFFICE_CAPABILITIES,
        "multiple-document-jobs-supported": [True],
        "operations-supported": [
            int(Operation.PRINT_JOB),
            int(Operation.CREATE_JOB),
            int(Operation.SEND_DOCUMENT),
        ],
        "multiple-document-handling-supported": ["separate-documents-collated-copies"],
    }
    printer = office_printer(
        "ipp://127.0.0.1:9/printers/office", name="office", rule_file=finisher_rule_file()
    )
    printer.capabilities = capabilities
    printer.save(update_fields=["capabilities"])
    assert takes_several_documents(printer.capabilities)
    return printer


# ---------------------------------------------------------------- upload


def test_files_uploaded_as_one_job_are_held_as_one_job_of_their_documents(
    people: People, tmp_path: Path
) -> None:
    page = upload(
        logged_in(people.staff),
        ("minutes.pdf", pdf(tmp_path, "a.pdf", 3)),
        ("budget.pdf", pdf(tmp_path, "b.pdf", 2)),
        together=True,
    )
    messages = parse(page).xpath("//ul[@class='messages']/li")
    assert [item.text for item in messages] == [
        "minutes is waiting in your inbox as one job of 2 documents (5 pages)."
    ]
    job = Job.objects.get(owner=people.staff)
    assert (job.title, job.page_count) == ("minutes", 5)
    assert job.documents == [
        {"name": "minutes.pdf", "pages": 3},
        {"name": "budget.pdf", "pages": 2},
    ]


def test_without_the_choice_each_file_is_a_job_of_its_own(people: People, tmp_path: Path) -> None:
    upload(
        logged_in(people.staff),
        ("minutes.pdf", pdf(tmp_path, "a.pdf", 3)),
        ("budget.pdf", pdf(tmp_path, "b.pdf", 2)),
        together=False,
    )
    jobs = Job.objects.filter(owner=people.staff).order_by("title")
    assert [(job.title, job.page_count, job.documents) for job in jobs] == [
        ("budget", 2, []),
        ("minutes", 3, []),
    ]


def test_one_file_held_as_one_job_is_a_job_of_one_document(people: People, tmp_path: Path) -> None:
    page = upload(logged_in(people.staff), ("memo.pdf", pdf(tmp_path, "a.pdf", 2)), together=True)
    assert "memo is waiting in your inbox (2 pages)." in page
    assert Job.objects.get().documents == []


def test_refused_files_of_one_job_are_named_and_nothing_is_held(
    people: People, tmp_path: Path
) -> None:
    client = logged_in(people.staff)
    page = upload(
        client,
        ("minutes.pdf", pdf(tmp_path, "a.pdf", 3)),
        ("empty.pdf", b""),
        ("program.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"),
        together=True,
    )
    error = error_at(page, "document")
    assert "Not uploaded: empty.pdf is empty." in error
    assert "Not uploaded: program.exe: " in error
    assert "minutes.pdf" not in error
    assert not Job.objects.exists()
    assert not parse(page).xpath("//ul[@class='messages']/li")
    # The choice is kept with the refusal, so sending the files again holds them together.
    assert parse(page).xpath("//input[@name='together']/@checked")
    assert not parse(client.get("/inbox/").content).xpath("//input[@name='together']/@checked")


def test_a_broken_pdf_of_one_job_is_named_and_nothing_is_held(
    people: People, tmp_path: Path
) -> None:
    page = upload(
        logged_in(people.staff),
        ("minutes.pdf", pdf(tmp_path, "a.pdf", 3)),
        ("broken.pdf", b"%PDF-1.7\nthis is not a PDF at all"),
        together=True,
    )
    assert "Not uploaded: broken.pdf: the PDF cannot be read" in error_at(page, "document")
    assert not Job.objects.exists()


def test_the_page_limit_is_each_documents_and_one_over_it_is_named(
    people: People, tmp_path: Path, settings: Any
) -> None:
    settings.MAX_DOCUMENT_PAGES = 3
    client = logged_in(people.staff)
    upload(
        client,
        ("minutes.pdf", pdf(tmp_path, "a.pdf", 3)),
        ("budget.pdf", pdf(tmp_path, "b.pdf", 2)),
        together=True,
    )
    job = Job.objects.get(owner=people.staff)
    assert (job.title, job.page_count) == ("minutes", 5)
    page = upload(
        client,
        ("minutes.pdf", pdf(tmp_path, "a.pdf", 3)),
        ("annex.pdf", pdf(tmp_path, "c.pdf", 4)),
        together=True,
    )
    assert "Not uploaded: annex.pdf: the PDF has more than 3 pages: it is refused." in error_at(
        page, "document"
    )
    assert Job.objects.count() == 1


def test_files_of_one_job_too_slow_to_convert_hold_nothing_and_say_what_to_do(
    people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Held together, the files share the upload's conversion time; uploading a late one
    again on its own (the advice for a job per file) would not make it part of the job."""
    monkeypatch.setattr(portal_services, "UPLOAD_CONVERSION_SECONDS", 3)
    started = time.monotonic()
    page = html.unescape(
        upload(
            logged_in(people.staff),
            ("loop.ps", b"%!PS\n{} loop\n"),
            ("notes.txt", b"hello\n"),
            ("memo.pdf", pdf(tmp_path, "a.pdf", 2)),
            together=True,
        )
    )
    assert time.monotonic() - started < 10
    assert "loop.ps: the PostScript took too long to convert" in page
    assert (
        "notes.txt: not converted: converting the documents before it took the 3 seconds an "
        "upload may take; hold fewer documents as one job, or send PDFs, which need no "
        "conversion"
    ) in page
    assert "memo.pdf" not in page
    assert not Job.objects.exists()


# ---------------------------------------------------------------- job page and inbox


def test_the_jobs_page_lists_its_documents_with_their_pages(
    people: People, printer: Printer, held_together: Callable[..., Job]
) -> None:
    job = held_together(people.staff, 3, 2, 1)
    page = parse(logged_in(people.staff).get(f"/jobs/{job.pk}/").content)
    section = page.xpath("//section[@aria-labelledby='documents-heading']")[0]
    assert section.xpath("string(.//h2)") == "Documents"
    assert [item.text_content() for item in section.xpath(".//ol/li")] == [
        "minutes.pdf — pages 1–3",
        "budget.pdf — pages 4–5",
        "annex.pdf — page 6",
    ]
    assert "3 documents" in page.xpath("string(//p[@class='meta'])")


def test_the_page_of_a_job_of_one_document_lists_no_documents(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff, pages=3)
    page = parse(logged_in(people.staff).get(f"/jobs/{job.pk}/").content)
    assert not page.xpath("//*[@id='documents-heading']")
    assert "document" not in page.xpath("string(//p[@class='meta'])")


def test_the_inbox_says_how_many_documents_a_job_has(
    people: People, held: Callable[..., Job], held_together: Callable[..., Job]
) -> None:
    held(people.staff, pages=4, title="thesis")
    held_together(people.staff, 3, 2)
    page = parse(logged_in(people.staff).get("/inbox/").content)
    meta = {
        item.xpath("string(.//h3)"): item.xpath("string(.//p[@class='meta'])")
        for item in page.xpath("//li[contains(@class, 'job')]")
    }
    assert meta["minutes"].startswith("5 pages · 2 documents · Web upload · ")
    assert meta["thesis"].startswith("4 pages · Web upload · ")


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_pages_of_a_job_of_several_documents_are_accessible(
    language: str,
    people: People,
    printer: Printer,
    held_together: Callable[..., Job],
    tmp_path: Path,
) -> None:
    job = held_together(people.staff, 3, 2)
    client = logged_in(people.staff)
    client.cookies["django_language"] = language
    for url in (f"/jobs/{job.pk}/", "/inbox/"):
        assert page_problems(client.get(url).content, language) == [], url
    refused = upload(
        client,
        ("minutes.pdf", pdf(tmp_path, "a.pdf", 3)),
        ("empty.pdf", b""),
        together=True,
    )
    assert page_problems(refused, language) == []
    assert error_at(refused, "document")


# ---------------------------------------------------------------- the quote


def quote_of(client: Client, job: Job, target: Printer, **changes: str) -> str:
    data = release_data(job, target, client, printer=str(target.pk), **changes)
    return str(parse(client.post(f"/jobs/{job.pk}/quote/", data).content).text_content())


def test_the_quote_says_how_the_chosen_printer_prints_the_documents(
    people: People, printer: Printer, held_together: Callable[..., Job]
) -> None:
    separately = several_documents_printer()
    job = held_together(people.staff, 3, 3)
    client = logged_in(people.staff)
    as_one = quote_of(client, job, printer)
    assert AS_ONE.format(count=2) in as_one
    assert "its own sheets" not in as_one
    each = quote_of(client, job, separately)
    assert EACH_ON_ITS_OWN.format(count=2) in each
    assert "as one document" not in each


def test_the_quote_says_nothing_of_documents_when_the_pages_lie_in_one(
    people: People, printer: Printer, held_together: Callable[..., Job]
) -> None:
    separately = several_documents_printer()
    job = held_together(people.staff, 3, 3, 2)
    client = logged_in(people.staff)
    for target in (printer, separately):
        assert "documents" not in quote_of(client, job, target, pages="4-6")
    # Two of the three documents selected: two are printed, each on its own sheets.
    assert EACH_ON_ITS_OWN.format(count=2) in quote_of(client, job, separately, pages="1-6")
    assert AS_ONE.format(count=2) in quote_of(client, job, printer, pages="1-6")


def test_the_documents_and_the_quote_speak_german(
    people: People, printer: Printer, held_together: Callable[..., Job]
) -> None:
    separately = several_documents_printer()
    job = held_together(people.staff, 3, 3)
    client = logged_in(people.staff)
    data = release_data(job, separately, client, printer=str(separately.pk))
    client.cookies["django_language"] = "de"
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "budget.pdf — Seiten 4–6" in page
    fragment = client.post(f"/jobs/{job.pk}/quote/", data).content.decode()
    assert "Jedes der 2 Dokumente wird auf eigenen Blättern gedruckt" in fragment


@pytest.mark.peers
def test_a_cups_queue_prints_the_documents_each_on_its_own_an_ippeveprinter_as_one(
    people: People,
    ippeveprinter: IppEvePrinter,
    cupsd: Cupsd,
    held_together: Callable[..., Job],
) -> None:
    """The real printers, as they describe themselves: a CUPS queue takes jobs of several
    documents, ippeveprinter one document a job; the quote says so."""
    rule_file = rule_file_import(OFFICE_MFP_RULES).rule_file
    cupsd.add_queue("office-mfp", ippeveprinter.uri, ppd=OFFICE_MFP_PPD)
    printer_import_cups(cupsd.uri, rule_file=rule_file)
    queue = Printer.objects.get(name="office-mfp")
    eve = printer_add("eve", ippeveprinter.uri)
    job = held_together(people.staff, 3, 3)
    client = logged_in(people.staff)
    assert EACH_ON_ITS_OWN.format(count=2) in quote_of(client, job, queue)
    assert AS_ONE.format(count=2) in quote_of(client, job, eve)
