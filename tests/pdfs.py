"""PDFs made by the tests themselves, with reportlab: numbered pages we can recognise."""

from __future__ import annotations

from pathlib import Path

import pikepdf
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas


def make_pdf(path: Path, pages: int, *, size: tuple[float, float] = A4) -> Path:
    canvas = Canvas(str(path), pagesize=size, invariant=True)
    for number in range(1, pages + 1):
        canvas.setFont("Helvetica", 48)
        canvas.drawString(72, size[1] / 2, f"Page {number}")
        canvas.showPage()
    canvas.save()
    return path


def slow_page_pdf(path: Path, segments: int = 300_000) -> Path:
    """One page of many short lines: a few megabytes that PDFium takes seconds to draw."""
    document = pikepdf.new()
    page = document.add_blank_page()
    page.Contents = document.make_stream(
        b"".join(
            b"%d %d m %d %d l S\n" % (i % 595, i * 7 % 842, i * 13 % 595, i * 3 % 842)
            for i in range(segments)
        )
    )
    document.save(path, compress_streams=True)
    return path
