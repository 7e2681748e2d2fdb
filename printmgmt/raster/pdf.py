"""A PDF written page by page: each page one Flate-compressed image at its physical size.

reportlab and pypdf keep a whole document in memory until it is saved; a 200-page raster must
not, so pages go out through printmgmt.pdfwrite as soon as they are made (the image's length is
an object written after its stream).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import BinaryIO

from printmgmt.pdfwrite import PdfObjectWriter
from printmgmt.raster.reader import PageHeader

_DEVICE_SPACES = {"gray": "/DeviceGray", "rgb": "/DeviceRGB", "cmyk": "/DeviceCMYK"}
# Level 6 makes mostly-white pages about four times smaller than levels 1 to 3, for about
# twice their time (measured on 300-dpi text pages): the spool keeps these files for days.
_COMPRESSION_LEVEL = 6
_CATALOG, _PAGES, _FIRST_FREE = 1, 2, 3


class ImagePdfWriter:
    """Write pages with `add_page`, then `close`; the stream is not closed."""

    def __init__(self, output: BinaryIO) -> None:
        self._pdf = PdfObjectWriter(output, _FIRST_FREE)
        self.pages: list[int] = []

    def add_page(self, header: PageHeader, lines: Iterable[bytes]) -> None:
        """One page showing the image made of `lines`, sized by the header's resolution."""
        pdf = self._pdf
        image, length, content, page = pdf.allocate(4)
        decode = b"" if header.additive or header.color_model != "gray" else b" /Decode [1 0]"
        pdf.begin_object(image)
        pdf.write(
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s "
            b"/BitsPerComponent %d%s /Filter /FlateDecode /Length %d 0 R >>\nstream\n"
            % (
                header.width,
                header.height,
                _DEVICE_SPACES[header.color_model].encode(),
                header.bits_per_color,
                decode,
                length,
            )
        )
        compressor = zlib.compressobj(_COMPRESSION_LEVEL)
        start = pdf.position
        for line in lines:
            pdf.write(compressor.compress(line))
        pdf.write(compressor.flush())
        stream_length = pdf.position - start
        pdf.write(b"\nendstream")
        pdf.end_object()
        pdf.object(length, b"%d" % stream_length)
        width, height = header.size_points
        drawing = b"q %.4f 0 0 %.4f 0 0 cm /Im Do Q" % (width, height)
        pdf.object(content, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(drawing), drawing))
        pdf.object(
            page,
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.4f %.4f] "
            b"/Resources << /XObject << /Im %d 0 R >> >> /Contents %d 0 R >>"
            % (_PAGES, width, height, image, content),
        )
        self.pages.append(page)

    def close(self) -> None:
        """The page tree, catalogue, cross-reference table and trailer."""
        kids = b" ".join(b"%d 0 R" % page for page in self.pages)
        self._pdf.object(
            _PAGES, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(self.pages))
        )
        self._pdf.object(_CATALOG, b"<< /Type /Catalog /Pages %d 0 R >>" % _PAGES)
        self._pdf.finish(b"/Root %d 0 R" % _CATALOG)
