"""Documents a printer could not print are refused at intake, with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfWriter
from reportlab.lib.pagesizes import A4, landscape

from apps.jobs.documents import DocumentError, inspect_pdf, spool_path, store_pdf
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


def test_an_empty_pdf_is_refused(tmp_path: Path) -> None:
    PdfWriter().write(tmp_path / "empty.pdf")
    with pytest.raises(DocumentError, match="has no pages"):
        inspect_pdf(tmp_path / "empty.pdf")


@pytest.mark.parametrize(
    "content", [b"", b"%PDF-1.4\n garbage", b"\x00\xff" * 100, b"hello, world"]
)
def test_a_broken_pdf_is_refused_and_nothing_is_spooled(
    content: bytes, tmp_path: Path, settings: object
) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(content)
    spool = Path(settings.SPOOL_DIR)  # type: ignore[attr-defined]
    before = set(spool.iterdir()) if spool.exists() else set()
    with pytest.raises(DocumentError, match="cannot be read"):
        store_pdf(broken)
    after = set(spool.iterdir()) if spool.exists() else set()
    assert after == before


def test_stored_documents_get_generated_names_inside_the_spool(tmp_path: Path) -> None:
    stored = store_pdf(make_pdf(tmp_path / "../../etc-passwd.pdf", 1))
    assert stored.name.endswith(".pdf")
    assert "etc" not in stored.name
    assert spool_path(stored.name).exists()
    for bad in ("../x.pdf", ".hidden", ""):
        with pytest.raises(DocumentError, match="not a spool document name"):
            spool_path(bad)
