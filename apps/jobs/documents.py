"""The spool: documents stored as PDF under generated names, outside any web root."""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from pypdf import PdfReader
from pypdf.errors import PdfReadError


class DocumentError(Exception):
    """A document we cannot print; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class StoredDocument:
    name: str
    page_count: int


def spool_path(document_name: str) -> Path:
    if not document_name or "/" in document_name or document_name.startswith("."):
        raise DocumentError(f"not a spool document name: {document_name!r}")
    return Path(settings.SPOOL_DIR) / document_name


def pdf_page_count(path: Path) -> int:
    """Pages of a PDF, refusing what a printer could not print."""
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise DocumentError("the PDF is encrypted: remove its password and send it again")
        count = len(reader.pages)
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as error:
        raise DocumentError(f"the PDF cannot be read ({error})") from None
    if count == 0:
        raise DocumentError("the PDF has no pages")
    return count


def store_pdf(source: Path, *, move: bool = False) -> StoredDocument:
    """Check a PDF and put it into the spool under a generated name.

    The file is first written under a temporary name and renamed, so the spool never holds a
    half-written document.
    """
    page_count = pdf_page_count(source)
    spool = Path(settings.SPOOL_DIR)
    spool.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.pdf"
    partial = spool / f".{name}.part"
    try:
        if move:
            shutil.move(source, partial)
        else:
            shutil.copyfile(source, partial)
        os.replace(partial, spool / name)
    finally:
        partial.unlink(missing_ok=True)
    return StoredDocument(name=name, page_count=page_count)


def delete_document(document_name: str) -> None:
    spool_path(document_name).unlink(missing_ok=True)
