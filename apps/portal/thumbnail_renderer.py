"""The child process that draws page thumbnails: `python -m apps.portal.thumbnail_renderer`.

PDFium runs here, not in a web process: a page that takes it long to draw (millions of vector
operations, a huge image) or much memory costs this child, which the web process kills past
its time limit, and never a thread of the web process or its other thumbnails. No Django: the
web process gives it paths, and it answers one line per request.

Request, one line: SOURCE<TAB>PAGE<TAB>TARGET (the PNG to write). Answer, one line: `ok`;
`error` and the reason PDFium cannot draw the page (it has no thumbnail); or `retry` and the
reason a file could not be read or written (a full disk, the document deleted meanwhile), which
is no fault of the page.
"""

from __future__ import annotations

import sys

import pypdfium2 as pdfium
from PIL import Image

THUMBNAIL_WIDTH_PX = 180
#: A page far taller than wide (a till receipt, or a box of 1 × 100000 points sent to hurt) is
#: scaled down to this height: scaled to the width alone, its bitmap took gigabytes.
THUMBNAIL_MAX_HEIGHT_PX = 2 * THUMBNAIL_WIDTH_PX


class PageError(Exception):
    """The page cannot be drawn; the message says why."""


def render(source: str, page: int) -> Image.Image:
    """Page `page` (1-based) of `source` as an image at most THUMBNAIL_WIDTH_PX wide and
    THUMBNAIL_MAX_HEIGHT_PX high."""
    document = pdfium.PdfDocument(source)
    try:
        if not 1 <= page <= len(document):
            raise PageError(f"the document has no page {page}")
        pdf_page = document[page - 1]
        width, height = pdf_page.get_size()  # as shown: after the page's /Rotate
        if width <= 0 or height <= 0:
            raise PageError(f"page {page} has no area")
        scale = min(THUMBNAIL_WIDTH_PX / width, THUMBNAIL_MAX_HEIGHT_PX / height)
        bitmap = pdf_page.render(scale=scale)
        # A copy: the image may share the bitmap's memory, which pdfium frees.
        image: Image.Image = bitmap.to_pil().copy()
        bitmap.close()
        pdf_page.close()
    finally:
        document.close()
    return image


def main() -> None:
    for line in sys.stdin:
        source, page, target = line.rstrip("\n").split("\t")
        try:
            render(source, int(page)).save(target, format="PNG", optimize=True)
        except (PageError, pdfium.PdfiumError, ValueError, MemoryError) as error:
            answer = f"error {error}".replace("\n", " ")
        except OSError as error:
            answer = f"retry a file could not be read or written: {error}".replace("\n", " ")
        else:
            answer = "ok"
        sys.stdout.write(answer + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
