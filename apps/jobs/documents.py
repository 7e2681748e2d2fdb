"""The spool: documents stored as PDF under generated names, outside any web root."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext


class DocumentError(Exception):
    """A document we cannot print; the message says why, for the person who sent it."""


def empty_document() -> DocumentError:
    """The refusal of a document with nothing to print: no bytes, or a text of white space."""
    return DocumentError(_("the document is empty"))


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


#: The most documents one job takes: enough for any real print, and a bound on the work (and
#: open files) of putting them together.
MAX_DOCUMENTS_PER_JOB = 100


def max_job_pages() -> int:
    """The most pages a job may have: MAX_DOCUMENT_PAGES is checked for each document on its
    own, so a job of several totals at most that many times MAX_DOCUMENTS_PER_JOB."""
    return int(settings.MAX_DOCUMENT_PAGES) * MAX_DOCUMENTS_PER_JOB


def max_document_bytes() -> int:
    """The largest document taken in (MAX_DOCUMENT_MB), as it arrives, before any conversion."""
    return int(settings.MAX_DOCUMENT_MB) * 1024 * 1024


def spool_path(document_name: str) -> Path:
    if not document_name or "/" in document_name or document_name.startswith("."):
        raise DocumentError(f"not a spool document name: {document_name!r}")
    return Path(settings.SPOOL_DIR) / document_name


#: PDF readers look for the end-of-file marker in the last 1024 bytes (ISO 32000-1, annex H);
#: a document cut short in transfer has none there, though qpdf could recover its objects.
EOF_MARKER_WINDOW = 1024


def _encrypted() -> DocumentError:
    return DocumentError(_("the PDF is encrypted: remove its password and send it again"))


def _protected() -> DocumentError:
    # It opens without a password, so "remove its password" would leave its sender puzzled.
    return DocumentError(
        _(
            "the PDF is protected by its author (it opens without a password, but may not be "
            "changed): save a copy without the protection and send that"
        )
    )


def _ends_with_eof_marker(path: Path) -> bool:
    with path.open("rb") as document:
        size = document.seek(0, os.SEEK_END)
        document.seek(max(0, size - EOF_MARKER_WINDOW))
        return b"%%EOF" in document.read()


#: The kinds of damage qpdf reports, found by its message (pikepdf passes no error code on),
#: each with what the sender reads. The first that matches says it.
_DAMAGE: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"encrypt|password|security handler", re.IGNORECASE),
        gettext_noop("it is encrypted in a way that cannot be read: remove its password"),
    ),
    (
        re.compile(r"unable to find trailer|not a PDF|PDF header", re.IGNORECASE),
        gettext_noop("it is not a PDF, or so damaged that its structure cannot be found"),
    ),
    (
        re.compile(r"xref|cross-reference", re.IGNORECASE),
        gettext_noop("the table that says where its parts are (its xref) is damaged"),
    ),
    (
        re.compile(r"unexpected EOF|end of file", re.IGNORECASE),
        gettext_noop("it ends in the middle of a part: it was cut short"),
    ),
    (
        re.compile(r"/Root|page tree|pages tree|/Kids|/Pages", re.IGNORECASE),
        gettext_noop("the list of its pages (its page tree) is missing or damaged"),
    ),
)


def _reason(error: Exception, path: Path) -> str:
    """Why qpdf cannot read a PDF, in the sender's language. qpdf's own message is English:
    a damage it names is said in words of our own; any other is passed on, marked as qpdf's,
    without the file name it quotes (a spool path is nobody's business)."""
    if isinstance(error, RecursionError):
        return _("its parts nest too deeply to be read")
    detail = str(error).replace(str(path), "").lstrip(": ")
    for pattern, reason in _DAMAGE:
        if pattern.search(detail):
            return _(reason)
    return _("it is damaged; the PDF reader qpdf says, in English: “%(detail)s”") % {
        "detail": detail
    }


#: Deeper page trees are not walked: real ones are a few levels deep.
_PAGE_TREE_DEPTH = 64


def _refuse_too_many_pages(document: pikepdf.Pdf, limit: int) -> None:
    """Refuse a page tree with more than `limit` pages, walked only as far as the limit:
    qpdf's own count first builds a list of every page, and a few megabytes of PDF can name
    one page a million times (gigabytes of memory)."""
    too_many = DocumentError(
        ngettext(
            "the PDF has more than %(limit)d page: it is refused",
            "the PDF has more than %(limit)d pages: it is refused",
            limit,
        )
        % {"limit": limit}
    )
    budget = 4 * limit + 1000  # tree nodes looked at, pages and the nodes above them
    pages = 0
    waiting: list[tuple[pikepdf.Object, int]] = [(document.Root.Pages, 0)]
    while waiting:
        node, depth = waiting.pop()
        budget -= 1
        if budget < 0:
            raise too_many
        if not isinstance(node, pikepdf.Dictionary):
            continue  # a null or broken kid: qpdf and printers skip it, and so does the count
        kids = node.get("/Kids")
        if not isinstance(kids, pikepdf.Array):
            pages += 1
            if pages > limit:
                raise too_many
            continue
        if depth >= _PAGE_TREE_DEPTH:
            raise DocumentError(_("the PDF's page tree is too deep to be a real document"))
        if len(kids) > budget:
            raise too_many
        waiting.extend((kid, depth + 1) for kid in kids)


def inspect_pdf(path: Path, *, most_pages: int | None = None) -> PdfFacts:
    """Pages and first-page geometry of a PDF, refusing what a printer could not print, and
    one of more than `most_pages` pages (by default MAX_DOCUMENT_PAGES, a document's limit;
    the documents of a job put together are checked against max_job_pages()).

    qpdf counts the pages of the page tree itself (a document's /Count may be wrong) and reads
    only the objects it needs, never the page contents.
    """
    limit = settings.MAX_DOCUMENT_PAGES if most_pages is None else most_pages
    try:
        if path.stat().st_size == 0:
            raise empty_document()
        if not _ends_with_eof_marker(path):
            raise DocumentError(
                _("the PDF cannot be read (no end-of-file marker: not a PDF, or cut short)")
            )
        # Not pushing inherited attributes down to every page: that walks every page at open
        # (page properties resolve inheritance themselves).
        with pikepdf.open(path, inherit_page_attributes=False) as document:
            # Opened without a password but encrypted all the same (an owner password): our
            # imposition could not change it.
            if document.is_encrypted:
                raise _protected()
            _refuse_too_many_pages(document, limit)
            count = len(document.pages)
            if count == 0:
                raise DocumentError(_("the PDF has no pages"))
            first = document.pages[0]
            left, bottom, right, top = (float(corner) for corner in first.mediabox)
            landscape = abs(right - left) > abs(top - bottom)
            rotation = int(first.rotation) % 360
    except DocumentError:
        raise
    except pikepdf.PasswordError:
        raise _encrypted() from None
    except (pikepdf.PdfError, ValueError, KeyError, TypeError, RecursionError) as error:
        raise DocumentError(
            _("the PDF cannot be read (%(reason)s)") % {"reason": _reason(error, path)}
        ) from None
    except OSError as error:
        raise DocumentError(
            _("the PDF cannot be read (%(reason)s)") % {"reason": error.strerror}
        ) from None
    return PdfFacts(count, landscape, rotation)


#: Working files older than this in the spool belong to no request any more (the longest a
#: document may take to arrive is an hour).
LEFTOVER_AGE_SECONDS = 2 * 3600


def spool_leftovers_remove(now: float | None = None) -> int:
    """Delete working files a process left in the spool when it died mid-request (uploads and
    conversions of the IPP printer, half-copied documents: hidden names, never a stored
    document). Returns how many were deleted."""
    spool = Path(settings.SPOOL_DIR)
    if not spool.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - LEFTOVER_AGE_SECONDS
    removed = 0
    for entry in spool.iterdir():
        if not entry.name.startswith("."):
            continue
        try:
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                entry.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # its request finished meanwhile
    return removed


def store_pdf(source: Path, *, move: bool = False, most_pages: int | None = None) -> StoredDocument:
    """Check a PDF (inspect_pdf, with `most_pages`) and put it into the spool under a
    generated name.

    The spool never holds a half-written document: a file moved within its file system is
    renamed into place; a copy is written under a temporary name first, then renamed.
    """
    facts = inspect_pdf(source, most_pages=most_pages)
    spool = Path(settings.SPOOL_DIR)
    spool.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.pdf"
    if move:
        try:
            # On the spool's file system a rename is all it takes, and it is atomic. The rename
            # keeps the source's time: stamped as stored now, for stored_orphans_remove.
            os.rename(source, spool / name)
            os.utime(spool / name)
            return StoredDocument(name=name, facts=facts)
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
    partial = spool / f".{name}.part"
    try:
        shutil.copyfile(source, partial)
        if move:
            source.unlink()
        os.replace(partial, spool / name)
    finally:
        partial.unlink(missing_ok=True)
    return StoredDocument(name=name, facts=facts)


def merge_pdfs(sources: list[Path], destination: Path) -> None:
    """Write the pages of checked PDFs (inspect_pdf) one after the other into `destination`,
    each document's pages as they are (their inherited size and rotation made their own)."""
    try:
        with contextlib.ExitStack() as open_sources:
            merged = pikepdf.new()
            for source in sources:
                merged.pages.extend(open_sources.enter_context(pikepdf.open(source)).pages)
            # The sources stay open until the pages copied from them are written.
            merged.save(destination)
    except (pikepdf.PdfError, ValueError, KeyError, TypeError, RecursionError) as error:
        raise DocumentError(
            _("the documents cannot be put together into one job (%(reason)s)")
            % {"reason": _reason(error, destination)}
        ) from None


def delete_document(document_name: str) -> None:
    spool_path(document_name).unlink(missing_ok=True)
