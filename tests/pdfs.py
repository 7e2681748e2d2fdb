"""PDFs made by the tests themselves, with reportlab: numbered pages we can recognise."""

from __future__ import annotations

from pathlib import Path

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
