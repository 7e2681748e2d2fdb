"""Jobs of several documents in the portal: several files uploaded as one job."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.test import Client

from apps.jobs.models import Job
from tests.pdfs import make_pdf
from tests.portal.accessibility import error_at, parse
from tests.portal.conftest import People, logged_in

pytestmark = pytest.mark.django_db


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
