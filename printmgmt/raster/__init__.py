"""Apple raster (image/urf) and PWG raster (image/pwg-raster) to PDF: a pure core, no Django.

from printmgmt.raster import RasterError, raster_to_pdf
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from printmgmt.raster.pdf import ImagePdfWriter
from printmgmt.raster.reader import DEFAULT_LIMITS, Limits, PageHeader, RasterError, read_pages

__all__ = ["Limits", "PageHeader", "RasterError", "raster_to_pdf"]


def raster_to_pdf(
    source: Path,
    target: Path,
    document_format: Literal["urf", "pwg"],
    limits: Limits = DEFAULT_LIMITS,
) -> int:
    """Write `target`, one PDF page per raster page at the page's physical size, and return
    the page count. Raises RasterError (and leaves no target) when the raster is malformed."""
    try:
        with source.open("rb") as raster, target.open("wb") as pdf:
            writer = ImagePdfWriter(pdf)
            for header, lines in read_pages(raster, document_format, limits):
                writer.add_page(header, lines)
            writer.close()
            return len(writer.pages)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
