"""Documents a printer could not print are refused at intake, with the reason."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from django.utils import translation
from pypdf import PdfWriter
from reportlab.lib.pagesizes import A4, landscape

from apps.accounts.models import User
from apps.jobs.build import pdf_geometry
from apps.jobs.choices import JobSource
from apps.jobs.documents import (
    LEFTOVER_AGE_SECONDS,
    MAX_DOCUMENTS_PER_JOB,
    DocumentError,
    _reason,
    inspect_pdf,
    max_job_pages,
    spool_leftovers_remove,
    spool_path,
    store_pdf,
)
from apps.jobs.services import (
    DocumentToHold,
    discard_prepared,
    job_create_held,
    prepare_held,
    prepare_held_together,
    stored_orphans_remove,
)
from tests.pdfs import make_pdf


def test_facts_of_a_pdf(tmp_path: Path) -> None:
    facts = inspect_pdf(make_pdf(tmp_path / "a.pdf", 3, size=landscape(A4)))
    assert (facts.page_count, facts.landscape, facts.rotation) == (3, True, 0)
    writer = PdfWriter(clone_from=make_pdf(tmp_path / "b.pdf", 1))
    writer.pages[0].rotate(90)
    writer.write(tmp_path / "rotated.pdf")
    assert inspect_pdf(tmp_path / "rotated.pdf").rotation == 90


def test_an_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=make_pdf(tmp_path / "plain.pdf", 1))
    writer.encrypt("secret")
    writer.write(tmp_path / "locked.pdf")
    with pytest.raises(DocumentError, match="encrypted: remove its password"):
        inspect_pdf(tmp_path / "locked.pdf")


def test_a_pdf_with_an_owner_password_only_is_refused_as_protected(tmp_path: Path) -> None:
    # Any viewer opens it without asking: there is no password its sender could remove.
    writer = PdfWriter(clone_from=make_pdf(tmp_path / "plain.pdf", 1))
    writer.encrypt(user_password="", owner_password="author")
    writer.write(tmp_path / "protected.pdf")
    with pytest.raises(DocumentError, match=r"^the PDF is protected by its author \(it opens"):
        inspect_pdf(tmp_path / "protected.pdf")


def test_an_empty_pdf_is_refused(tmp_path: Path) -> None:
    PdfWriter().write(tmp_path / "empty.pdf")
    with pytest.raises(DocumentError, match="has no pages"):
        inspect_pdf(tmp_path / "empty.pdf")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the document is empty"),
        (b"%PDF-1.4\n garbage", "cannot be read"),
        (b"\x00\xff" * 100, "cannot be read"),
        (b"hello, world", "cannot be read"),
    ],
)
def test_a_broken_pdf_is_refused_and_nothing_is_spooled(
    content: bytes, reason: str, tmp_path: Path, settings: object
) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(content)
    spool = Path(settings.SPOOL_DIR)  # type: ignore[attr-defined]
    before = set(spool.iterdir()) if spool.exists() else set()
    with pytest.raises(DocumentError, match=reason):
        store_pdf(broken)
    after = set(spool.iterdir()) if spool.exists() else set()
    assert after == before


def test_the_page_count_is_the_page_tree_s_not_its_count_entry(tmp_path: Path) -> None:
    # A page tree that claims one page but has three: counting /Count would undercharge.
    content = make_pdf(tmp_path / "three.pdf", 3).read_bytes()
    assert content.count(b"/Count 3") == 1
    lying = tmp_path / "lying.pdf"
    lying.write_bytes(content.replace(b"/Count 3", b"/Count 1"))
    assert inspect_pdf(lying).page_count == 3


def test_size_and_rotation_inherited_from_the_page_tree(tmp_path: Path) -> None:
    with pikepdf.open(make_pdf(tmp_path / "a.pdf", 2)) as document:
        document.Root.Pages.Rotate = 270
        document.Root.Pages.MediaBox = [0, 0, 842, 595]
        for page in document.pages:
            for inherited in ("/MediaBox", "/Rotate"):
                if inherited in page.obj:
                    del page.obj[inherited]
        document.save(tmp_path / "inherited.pdf")
    facts = inspect_pdf(tmp_path / "inherited.pdf")
    assert (facts.page_count, facts.landscape, facts.rotation) == (2, True, 270)


def test_a_pdf_cut_short_is_refused_without_naming_the_file(tmp_path: Path) -> None:
    content = make_pdf(tmp_path / "whole.pdf", 3).read_bytes()
    for cut in (len(content) - 20, len(content) // 3):
        partial = tmp_path / "partial.pdf"
        partial.write_bytes(content[:cut])
        with pytest.raises(DocumentError, match="cut short") as refused:
            inspect_pdf(partial)
        assert str(tmp_path) not in str(refused.value)
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n")
    with pytest.raises(DocumentError, match="cannot be read") as refused:
        inspect_pdf(damaged)
    assert str(tmp_path) not in str(refused.value)


def _pdf_of(objects: list[bytes], trailer: bytes) -> bytes:
    """A PDF of these objects (1 0 obj, 2 0 obj, ...) with a correct cross-reference table."""
    content, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(content))
        content += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(content)
    content += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    content += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return content + b"trailer\n%s\nstartxref\n%d\n%%%%EOF\n" % (trailer, xref)


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
NO_PAGES = b"<< /Type /Pages /Kids [] /Count 0 >>"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"%PDF-1.4\n garbage\n%%EOF\n",
         "es ist kein PDF oder so beschädigt, dass sein Aufbau nicht zu finden ist"),
        (_pdf_of([b"<< /Type /Catalog >>"], b"<< /Size 2 /Root 1 0 R >>"),
         "die Liste seiner Seiten (sein Seitenbaum) fehlt oder ist beschädigt"),
        (_pdf_of([CATALOG, NO_PAGES], b"<< /Size 3 >>"),
         "die Liste seiner Seiten (sein Seitenbaum) fehlt oder ist beschädigt"),
        (_pdf_of([CATALOG, NO_PAGES, b"<< /Filter /Unknown /V 9 >>"],
                 b"<< /Size 4 /Root 1 0 R /Encrypt 3 0 R /ID [<00> <00>] >>"),
         "es ist auf eine Weise verschlüsselt, die nicht gelesen werden kann"),
    ],
)  # fmt: skip
def test_why_qpdf_cannot_read_a_pdf_is_said_in_the_readers_language(
    content: bytes, reason: str, tmp_path: Path
) -> None:
    """qpdf's English ("unable to find trailer dictionary while recovering damaged file") was
    shown inside the German refusal."""
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(content)
    with translation.override("de"), pytest.raises(DocumentError) as refused:
        inspect_pdf(broken)
    assert str(refused.value).startswith(f"das PDF kann nicht gelesen werden ({reason}")
    assert "qpdf" not in str(refused.value)


def test_a_damage_qpdf_names_otherwise_is_passed_on_marked_as_its_english() -> None:
    unknown = pikepdf.PdfError("/spool/.upload-1.pdf (offset 7): some new complaint")
    with translation.override("de"):
        reason = _reason(unknown, Path("/spool/.upload-1.pdf"))
    assert reason == (
        "es ist beschädigt; das PDF-Leseprogramm qpdf sagt dazu auf Englisch: "
        "„(offset 7): some new complaint“"
    )


@pytest.mark.parametrize("where", ["spool file system", "another file system"])
def test_a_moved_document_is_stored_whole_and_its_source_is_gone(
    where: str, tmp_path: Path, settings: object
) -> None:
    spool = Path(settings.SPOOL_DIR)  # type: ignore[attr-defined]
    spool.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(
        dir=spool if where == "spool file system" else "/dev/shm"
    ) as d:
        source = make_pdf(Path(d) / "upload.pdf", 2)
        if where == "another file system" and source.stat().st_dev == spool.stat().st_dev:
            pytest.skip("/dev/shm is on the spool's file system here")
        content = source.read_bytes()
        before = set(spool.iterdir())
        stored = store_pdf(source, move=True)
        assert not source.exists()
        assert spool_path(stored.name).read_bytes() == content
        assert set(spool.iterdir()) - before == {spool_path(stored.name)}


def test_stored_documents_get_generated_names_inside_the_spool(tmp_path: Path) -> None:
    stored = store_pdf(make_pdf(tmp_path / "../../etc-passwd.pdf", 1))
    assert stored.name.endswith(".pdf")
    assert "etc" not in stored.name
    assert spool_path(stored.name).exists()
    for bad in ("../x.pdf", ".hidden", ""):
        with pytest.raises(DocumentError, match="not a spool document name"):
            spool_path(bad)


def test_working_files_a_dead_process_left_in_the_spool_are_removed(settings: object) -> None:
    spool = Path(settings.SPOOL_DIR)  # type: ignore[attr-defined]
    spool.mkdir(parents=True, exist_ok=True)
    old = time.time() - LEFTOVER_AGE_SECONDS - 60
    left = [spool / ".ipp-0123.upload", spool / ".ipp-0123.upload.converted.pdf"]
    in_use = spool / ".ipp-4567.upload"
    stored = spool / "0123456789abcdef0123456789abcdef.pdf"
    for path in (*left, in_use, stored):
        path.write_bytes(b"x")
    for path in (*left, stored):
        os.utime(path, (old, old))
    assert spool_leftovers_remove() == 2
    assert not any(path.exists() for path in left)
    assert in_use.exists()  # a request may still be writing it
    assert stored.exists()  # a held job's document, however old


@pytest.mark.django_db
def test_stored_documents_of_jobs_never_created_are_removed_when_old(
    tmp_path: Path, settings: object
) -> None:
    owner = User.objects.create_user("orphans")
    held = make_pdf(tmp_path / "held.pdf", 1)
    job = job_create_held(owner, held, title="held", source=JobSource.WEB)
    # As a process that died between storing a document and creating its job leaves them.
    orphan = spool_path(prepare_held(make_pdf(tmp_path / "orphan.pdf", 1)).stored.name)
    recent = spool_path(prepare_held(make_pdf(tmp_path / "recent.pdf", 1)).stored.name)
    old = time.time() - LEFTOVER_AGE_SECONDS - 60
    for path in (orphan, spool_path(job.document_name)):
        os.utime(path, (old, old))
    assert stored_orphans_remove() == 1
    assert not orphan.exists()
    assert recent.exists()  # its job may be about to be created
    assert spool_path(job.document_name).exists()  # a held job's document, however old


def test_a_document_moved_into_the_spool_is_stamped_as_stored_now(
    tmp_path: Path, settings: object
) -> None:
    Path(settings.SPOOL_DIR).mkdir(parents=True, exist_ok=True)  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory(dir=settings.SPOOL_DIR) as d:  # type: ignore[attr-defined]
        source = make_pdf(Path(d) / "upload.pdf", 1)
        old = time.time() - LEFTOVER_AGE_SECONDS - 60
        os.utime(source, (old, old))
        stored = store_pdf(source, move=True)
    assert spool_path(stored.name).stat().st_mtime > time.time() - 60


def test_the_page_limit_is_a_documents_and_a_job_of_several_has_its_own_bound(
    tmp_path: Path, settings: Any
) -> None:
    settings.MAX_DOCUMENT_PAGES = 3
    assert max_job_pages() == 3 * MAX_DOCUMENTS_PER_JOB
    five = make_pdf(tmp_path / "five.pdf", 5)
    with pytest.raises(DocumentError, match=r"^the PDF has more than 3 pages: it is refused$"):
        inspect_pdf(five)
    assert inspect_pdf(five, most_pages=5).page_count == 5
    with pytest.raises(DocumentError, match=r"^the PDF has more than 4 pages: it is refused$"):
        inspect_pdf(five, most_pages=4)


@pytest.mark.django_db
def test_documents_held_together_are_each_held_to_the_page_limit_and_named(
    tmp_path: Path, settings: Any
) -> None:
    settings.MAX_DOCUMENT_PAGES = 3
    two = make_pdf(tmp_path / "two.pdf", 2)
    three = make_pdf(tmp_path / "three.pdf", 3)
    four = make_pdf(tmp_path / "four.pdf", 4)
    prepared = prepare_held_together(
        [DocumentToHold(path, path.stem, path.name, move=False) for path in (two, three, two)]
    )
    try:
        assert prepared.stored.page_count == 7
        assert [document["pages"] for document in prepared.documents] == [2, 3, 2]
    finally:
        discard_prepared(prepared)
    with pytest.raises(DocumentError) as refused:
        prepare_held_together(
            [DocumentToHold(path, path.stem, path.name, move=False) for path in (two, four)]
        )
    assert str(refused.value) == "four.pdf: the PDF has more than 3 pages: it is refused"


def test_the_geometry_of_a_jobs_selected_pages_is_read_past_a_documents_limit(
    tmp_path: Path, settings: Any
) -> None:
    """Pages selected from a job of several documents may be more than one document's limit:
    sending them must not refuse them as a document."""
    settings.MAX_DOCUMENT_PAGES = 3
    selected = make_pdf(tmp_path / "selected.pdf", 5, size=landscape(A4))
    assert pdf_geometry(selected).orientation == "landscape"
