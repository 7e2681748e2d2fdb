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
class PdfFacts:
    """What the pipeline needs to know of a PDF, read once when it is stored."""

    page_count: int
    landscape: bool  # the first page's media box is wider than high
    rotation: int  # the first page's /Rotate, 0/90/180/270


@dataclass(frozen=True)
class StoredDocument:
    name: str
    facts: PdfFacts

    @property
    def page_count(self) -> int:
        return self.facts.page_count


def spool_path(document_name: str) -> Path:
    if not document_name or "/" in document_name or document_name.startswith("."):
        raise DocumentError(f"not a spool document name: {document_name!r}")
    return Path(settings.SPOOL_DIR) / document_name


def inspect_pdf(path: Path) -> PdfFacts:
    """Pages and first-page geometry of a PDF, refusing what a printer could not print."""
    try:
        # A file object, not the path: given a path, pypdf reads the whole file into memory.
        with path.open("rb") as document:
            reader = PdfReader(document)
            if reader.is_encrypted:
                raise DocumentError("the PDF is encrypted: remove its password and send it again")
            count = len(reader.pages)
            if count == 0:
                raise DocumentError("the PDF has no pages")
            first = reader.pages[0]
            landscape = float(first.mediabox.width) > float(first.mediabox.height)
            rotation = int(first.get("/Rotate", 0) or 0) % 360
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as error:
        raise DocumentError(f"the PDF cannot be read ({error})") from None
    return PdfFacts(count, landscape, rotation)


def store_pdf(source: Path, *, move: bool = False) -> StoredDocument:
    """Check a PDF and put it into the spool under a generated name.

    The file is first written under a temporary name and renamed, so the spool never holds a
    half-written document.
    """
    facts = inspect_pdf(source)
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
    return StoredDocument(name=name, facts=facts)


def delete_document(document_name: str) -> None:
    spool_path(document_name).unlink(missing_ok=True)
