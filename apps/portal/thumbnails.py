"""Page thumbnails of held documents, rendered with pdfium and cached on disk under DATA_DIR.

A thumbnail is named after the stored document (a generated name) and the page, so it is
rendered once and never served for another document.

PDFium may not be called from two threads at once, not even for different documents: it
crashes the process. A web process answers from several threads, so every call into it holds
one lock, and nothing of it (document, page, bitmap) outlives the lock to be freed by the
garbage collector in another thread.
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

import pypdfium2 as pdfium
from django.conf import settings
from PIL import Image

from apps.jobs.documents import DocumentError, spool_path

THUMBNAIL_WIDTH_PX = 180
#: A page far taller than wide (a till receipt, or a box of 1 × 100000 points sent to hurt) is
#: scaled down to this height: scaled to the width alone, its bitmap took gigabytes and the
#: lock every thumbnail waits for, for seconds.
THUMBNAIL_MAX_HEIGHT_PX = 2 * THUMBNAIL_WIDTH_PX
MAX_THUMBNAILS = 60

_PDFIUM = threading.Lock()


def thumbnail_dir() -> Path:
    return Path(settings.DATA_DIR) / "thumbnails"


def thumbnail_path(document_name: str, page: int) -> Path:
    spool_path(document_name)  # refuses names that are not spool names
    return thumbnail_dir() / f"{Path(document_name).stem}-{page}.png"


def thumbnail_render(document_name: str, page: int) -> Path:
    """The PNG of one page (1-based), rendered on first use."""
    target = thumbnail_path(document_name, page)
    if target.exists():
        return target
    source = spool_path(document_name)
    if not source.exists():
        raise DocumentError("the document is no longer stored")
    with _PDFIUM:
        image = _render(source, page)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    image.save(partial, format="PNG", optimize=True)
    os.replace(partial, target)
    return target


def _render(source: Path, page: int) -> Image.Image:
    """Page `page` of `source` as an image at most THUMBNAIL_WIDTH_PX wide and
    THUMBNAIL_MAX_HEIGHT_PX high (hold _PDFIUM)."""
    document = pdfium.PdfDocument(source)
    try:
        if not 1 <= page <= len(document):
            raise DocumentError(f"the document has no page {page}")
        pdf_page = document[page - 1]
        width, height = pdf_page.get_size()  # as shown: after the page's /Rotate
        if width <= 0 or height <= 0:
            raise DocumentError(f"page {page} has no area")
        scale = min(THUMBNAIL_WIDTH_PX / width, THUMBNAIL_MAX_HEIGHT_PX / height)
        bitmap = pdf_page.render(scale=scale)
        # A copy: the image may share the bitmap's memory, which pdfium frees.
        image: Image.Image = bitmap.to_pil().copy()
        bitmap.close()
        pdf_page.close()
    finally:
        document.close()
    return image


def thumbnails_prune() -> int:
    """Delete the thumbnails of documents no longer in the spool (printed, canceled, expired).

    Returns how many files were deleted.
    """
    deleted = 0
    folder = thumbnail_dir()
    if not folder.is_dir():
        return 0
    spool = Path(settings.SPOOL_DIR)
    for thumbnail in folder.glob("*.png"):
        document_stem, _, _page = thumbnail.stem.rpartition("-")
        if not (spool / f"{document_stem}.pdf").exists():
            thumbnail.unlink(missing_ok=True)
            deleted += 1
    return deleted
