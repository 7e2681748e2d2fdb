"""A PDF written page by page, for listings of any length in constant memory.

reportlab keeps every page of a document in memory until it saves, which a listing of a
million records (tens of thousands of pages) cannot afford. This writer puts each page's
objects in the file as soon as the page is done (printmgmt.pdfwrite); the fonts, which only
need the characters the pages used, are written when it closes. The usage report with its
charts is made with reportlab.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import IO

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import (
    FF_NONSYMBOLIC,
    FF_SYMBOLIC,
    SUBSETN,
    TTFontFace,
    makeToUnicodeCMap,
)

from printmgmt.pdfwrite import PdfObjectWriter

# Object numbers fixed in advance; pages, their contents and the fonts follow from FIRST_FREE.
PAGES, CATALOG, RESOURCES, INFO = 1, 2, 3, 4
FIRST_FREE = 5
#: Names and other text are set in DejaVu Sans (Debian's fonts-dejavu-core), which has the
#: letters of most alphabets. Where it is missing, Helvetica is used: its WinAnsi encoding has
#: Western European letters only, and the others print as "?".
FONT_FILES = {
    False: Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    True: Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
}
SUBSET_SIZE = 256


def _hex(data: bytes) -> bytes:
    """A PDF hex string: every byte is kept as it is (a raw CR in a literal string is not)."""
    return b"<" + data.hex().encode() + b">"


def _text_string(value: str) -> bytes:
    """A PDF text string (document information) in UTF-16BE, which holds any character."""
    return _hex("\ufeff".encode("utf-16-be") + value.encode("utf-16-be"))


class _StandardFont:
    """Helvetica, built into every PDF reader, in WinAnsi (Latin-1 here)."""

    def __init__(self, bold: bool) -> None:
        self.base = b"Helvetica-Bold" if bold else b"Helvetica"
        self.name = b"B" if bold else b"R"

    ellipsis = "..."

    def runs(self, value: str) -> list[tuple[bytes, bytes]]:
        return [(self.name, value.encode("latin-1", errors="replace"))]

    def width(self, value: str, size: float) -> float:
        shown = value.encode("latin-1", errors="replace").decode("latin-1")
        return float(stringWidth(shown, self.base.decode(), size))

    def write(self, pdf: PdfObjectWriter) -> dict[bytes, int]:
        (number,) = pdf.allocate(1)
        pdf.object(
            number,
            b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
            % self.base,
        )
        return {self.name: number}


class _TrueTypeFont:
    """A TrueType font embedded in subsets of 256 characters (as reportlab embeds one): each
    character gets the next free code the first time a page uses it, and the subsets are made
    when the document closes."""

    def __init__(self, path: Path, bold: bool) -> None:
        self.face = TTFontFace(str(path))
        self.prefix = b"B" if bold else b"R"
        self.codes: dict[int, int] = {}  # code point → subset × 256 + byte
        self.subsets: list[list[int]] = []

    ellipsis = "…"

    def width(self, value: str, size: float) -> float:
        widths = self.face.charWidths
        units: float = sum(widths.get(ord(c), self.face.defaultWidth) for c in value)
        return units * size / 1000

    def _code(self, character: int) -> int:
        code = self.codes.get(character)
        if code is None:
            if not self.subsets or len(self.subsets[-1]) == SUBSET_SIZE:
                self.subsets.append([])
            code = (len(self.subsets) - 1) * SUBSET_SIZE + len(self.subsets[-1])
            self.subsets[-1].append(character)
            self.codes[character] = code
        return code

    def runs(self, value: str) -> list[tuple[bytes, bytes]]:
        """The text as runs of bytes, each in one subset (named by its resource name)."""
        runs: list[tuple[bytes, bytearray]] = []
        for character in value:
            subset, byte = divmod(self._code(ord(character)), SUBSET_SIZE)
            name = self.prefix + b"%d" % subset
            if runs and runs[-1][0] == name:
                runs[-1][1].append(byte)
            else:
                runs.append((name, bytearray([byte])))
        return [(name, bytes(data)) for name, data in runs]

    def write(self, pdf: PdfObjectWriter) -> dict[bytes, int]:
        fonts = {}
        face = self.face
        flags = (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC
        for index, subset in enumerate(self.subsets):
            base = SUBSETN(index) + b"+" + face.name
            font, descriptor, font_file, to_unicode = pdf.allocate(4)
            program = face.makeSubset(subset)
            packed = zlib.compress(program)
            pdf.object(
                font_file,
                b"<< /Length %d /Length1 %d /Filter /FlateDecode >>\nstream\n"
                % (len(packed), len(program))
                + packed
                + b"\nendstream",
            )
            cmap = zlib.compress(makeToUnicodeCMap(base.decode(), subset).encode())
            pdf.object(
                to_unicode,
                b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(cmap)
                + cmap
                + b"\nendstream",
            )
            box = b" ".join(b"%d" % round(value) for value in face.bbox)
            pdf.object(
                descriptor,
                b"<< /Type /FontDescriptor /FontName /%s /Flags %d /FontBBox [%s] "
                b"/ItalicAngle %d /Ascent %d /Descent %d /CapHeight %d /StemV %d "
                b"/MissingWidth %d /FontFile2 %d 0 R >>"
                % (
                    base, flags, box, round(face.italicAngle), round(face.ascent),
                    round(face.descent), round(face.capHeight), round(face.stemV),
                    round(face.defaultWidth), font_file,
                ),
            )  # fmt: skip
            widths = b" ".join(
                b"%d" % round(face.charWidths.get(code, face.defaultWidth)) for code in subset
            )
            pdf.object(
                font,
                b"<< /Type /Font /Subtype /TrueType /BaseFont /%s /FirstChar 0 /LastChar %d "
                b"/Widths [%s] /FontDescriptor %d 0 R /ToUnicode %d 0 R >>"
                % (base, len(subset) - 1, widths, descriptor, to_unicode),
            )
            fonts[self.prefix + b"%d" % index] = font
        return fonts


def _font(bold: bool) -> _StandardFont | _TrueTypeFont:
    path = FONT_FILES[bold]
    return _TrueTypeFont(path, bold) if path.exists() else _StandardFont(bold)


class StreamingPdf:
    """Pages of text; call `text` to place strings, `end_page` after each page, `close` once."""

    def __init__(self, out: IO[bytes], width: float, height: float, title: str) -> None:
        self.width = width
        self.height = height
        self.title = title
        self.page_numbers: list[int] = []
        self.operations: list[bytes] = []
        self._fonts = {False: _font(False), True: _font(True)}
        self._pdf = PdfObjectWriter(out, FIRST_FREE)

    def text(self, x: float, y: float, value: str, *, bold: bool = False, size: float = 7) -> None:
        shown = b" ".join(
            b"/%s %.1f Tf %s Tj" % (name, size, _hex(data))
            for name, data in self._fonts[bold].runs(value)
        )
        if shown:
            self.operations.append(b"BT %.2f %.2f Td %s ET" % (x, y, shown))

    def fitted(self, value: str, width: float, *, bold: bool = False, size: float = 7) -> str:
        """The value, cut to the width (with an ellipsis, so nobody takes it for whole)."""
        font = self._fonts[bold]
        if font.width(value, size) <= width:
            return value
        kept = value
        while kept and font.width(kept + font.ellipsis, size) > width:
            kept = kept[:-1]
        return kept + font.ellipsis

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
            b"/Resources %d 0 R >>" % (PAGES, self.width, self.height, content_number, RESOURCES),
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
        fonts = {}
        for font in self._fonts.values():
            fonts.update(font.write(self._pdf))
        entries = b" ".join(b"/%s %d 0 R" % (name, number) for name, number in fonts.items())
        self._pdf.object(RESOURCES, b"<< /Font << %s >> >>" % entries)
        self._pdf.object(
            INFO, b"<< /Title %s /Producer (Print management) >>" % _text_string(self.title)
        )
        self._pdf.finish(b"/Root %d 0 R /Info %d 0 R" % (CATALOG, INFO))
