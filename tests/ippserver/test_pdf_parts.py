"""Finding and splitting PDFs sent back to back in one document."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest

from apps.ippserver.pdf_parts import pdf_starts, split_pdfs
from tests.pdfs import make_pdf

MIB = 1024 * 1024


@pytest.mark.parametrize("boundary_at", [MIB - 8, MIB - 3, MIB + 2])
def test_a_pdf_beginning_across_two_chunks_is_found_once(tmp_path: Path, boundary_at: int) -> None:
    first = b"%PDF-1.4\n"
    first += b"x" * (boundary_at - len(first) - len(b"%%EOF\r\n")) + b"%%EOF\r\n"
    path = tmp_path / "two.pdf"
    path.write_bytes(first + b"%PDF-1.4\n%%EOF\n")
    assert pdf_starts(path, 100) == [len(first)]


def test_an_incremental_update_is_one_pdf(tmp_path: Path) -> None:
    path = tmp_path / "updated.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n2 0 obj\n<<>>\nendobj\n%%EOF\n")
    assert pdf_starts(path, 100) == []


def test_each_pdf_is_split_into_a_file_of_its_own(tmp_path: Path) -> None:
    parts = [make_pdf(tmp_path / f"{pages}.pdf", pages).read_bytes() for pages in (2, 1, 3)]
    path = tmp_path / "three.pdf"
    path.write_bytes(b"".join(parts))
    starts = pdf_starts(path, 100)
    assert starts == [len(parts[0]), len(parts[0]) + len(parts[1])]
    split = split_pdfs(path, starts)
    assert [part.read_bytes() for part in split] == parts
    for part, pages in zip(split, (2, 1, 3), strict=True):
        with pikepdf.open(part) as pdf:
            assert len(pdf.pages) == pages
