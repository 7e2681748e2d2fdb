"""A PDF written page by page, for listings of any length in constant memory.

reportlab keeps every page of a document in memory until it saves, which a listing of a
million records (tens of thousands of pages) cannot afford. This writer puts each page's
objects in the file as soon as the page is done (printmgmt.pdfwrite). It draws
text in the standard Helvetica fonts, which is all a listing needs; the usage report with its
charts is made with reportlab.
"""

from __future__ import annotations

import zlib
from typing import IO

from printmgmt.pdfwrite import PdfObjectWriter

# Object numbers fixed in advance; pages and their contents follow from FIRST_FREE on.
PAGES, CATALOG, REGULAR, BOLD, INFO = 1, 2, 3, 4, 5
FIRST_FREE = 6
FONTS = {"Helvetica": "F1", "Helvetica-Bold": "F2"}


def _text(value: str) -> bytes:
    """A PDF literal string in WinAnsi (Latin-1 here); other characters become '?'."""
    raw = value.encode("latin-1", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


class StreamingPdf:
    """Pages of text; call `text` to place strings, `end_page` after each page, `close` once."""

    def __init__(self, out: IO[bytes], width: float, height: float, title: str) -> None:
        self.width = width
        self.height = height
        self.title = title
        self.page_numbers: list[int] = []
        self.operations: list[bytes] = []
        self._pdf = PdfObjectWriter(out, FIRST_FREE)

    def text(
        self, x: float, y: float, value: str, font: str = "Helvetica", size: float = 7
    ) -> None:
        self.operations.append(
            b"BT /%s %.1f Tf %.2f %.2f Td %s Tj ET"
            % (FONTS[font].encode(), size, x, y, _text(value))
        )

    def end_page(self) -> None:
        content = zlib.compress(b"\n".join(self.operations))
        self.operations = []
        content_number, page_number = self._pdf.allocate(2)
        self._pdf.object(
            content_number,
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
            + content
            + b"\nendstream",
        )
        self._pdf.object(
            page_number,
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.2f %.2f] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> >>"
            % (PAGES, self.width, self.height, content_number, REGULAR, BOLD),
        )
        self.page_numbers.append(page_number)

    def close(self) -> None:
        if self.operations or not self.page_numbers:
            self.end_page()
        kids = b" ".join(b"%d 0 R" % number for number in self.page_numbers)
        self._pdf.object(
            PAGES, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(self.page_numbers))
        )
        self._pdf.object(CATALOG, b"<< /Type /Catalog /Pages %d 0 R >>" % PAGES)
        for number, name in ((REGULAR, b"Helvetica"), (BOLD, b"Helvetica-Bold")):
            self._pdf.object(
                number,
                b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
                % name,
            )
        self._pdf.object(INFO, b"<< /Title %s /Producer (Print management) >>" % _text(self.title))
        self._pdf.finish(b"/Root %d 0 R /Info %d 0 R" % (CATALOG, INFO))
