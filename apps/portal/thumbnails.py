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

from apps.jobs.documents import DocumentError, spool_path

THUMBNAIL_WIDTH_PX = 180
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
        document = pdfium.PdfDocument(source)
        try:
            if not 1 <= page <= len(document):
                raise DocumentError(f"the document has no page {page}")
            pdf_page = document[page - 1]
            bitmap = pdf_page.render(scale=THUMBNAIL_WIDTH_PX / pdf_page.get_width())
            # A copy: the image may share the bitmap's memory, which pdfium frees.
            image = bitmap.to_pil().copy()
            bitmap.close()
            pdf_page.close()
        finally:
            document.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    image.save(partial, format="PNG", optimize=True)
    os.replace(partial, target)
    return target


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
