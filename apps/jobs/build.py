"""Documents a job needs besides the stored PDF: a page selection, a booklet, job sheets.

Each function reads files and writes one new file; none touches the database, so the build
step of the pipeline can call them outside any transaction.
"""

from __future__ import annotations

import bisect
import itertools
import math
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.utils.translation import gettext as _
from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from apps.jobs.documents import DocumentError, inspect_pdf, max_job_pages
from printmgmt.ppde import PageGeometry

MAX_RANGE_TEXT = 200


def parse_page_ranges(text: str, page_count: int) -> list[int]:
    """`1-3,5,8-` → the 1-based page numbers to print, in order, each once.

    An empty text selects every page. Bad text raises DocumentError naming the bad part.
    """
    parts = _range_parts(text)
    if not parts:
        return list(range(1, page_count + 1))
    pages: list[int] = []
    seen: set[int] = set()
    for part in parts:
        first, last = _range_bounds(part, page_count)
        for page in range(first, last + 1):
            if page not in seen:
                seen.add(page)
                pages.append(page)
    return pages


def _range_parts(text: str) -> list[str]:
    """The comma-separated parts of a page selection; none for an empty one."""
    text = text.strip()
    if len(text) > MAX_RANGE_TEXT:
        raise DocumentError(
            _("the page selection is longer than %(most)d characters") % {"most": MAX_RANGE_TEXT}
        )
    return [part.strip() for part in text.split(",")] if text else []


class NoPageOfDocument(DocumentError):
    """A page selection names no page of its document."""


def page_ranges_within(text: str, page_count: int) -> str:
    """`text` (e.g. "2-5,7-9,11-") cut at the document's last page, written out ("2-3"): a
    client's "pages 2-5" of a 3-page document prints pages 2 and 3 (RFC 8011 prints nothing
    for pages that do not exist), where a held job's selection must lie within its document
    to be released. "" (every page) stays. Raises DocumentError for bad text, and
    NoPageOfDocument when no page is left."""
    parts = _range_parts(text)
    if not parts:
        return ""
    kept = []
    for part in parts:
        # Checked as parse_page_ranges checks it, with no last page to go past yet.
        first, last = _range_bounds(part, sys.maxsize)
        last = min(last, page_count)
        if first <= last:
            kept.append(str(first) if first == last else f"{first}-{last}")
    if not kept:
        raise NoPageOfDocument(
            _("the pages %(pages)s name no page of this %(count)d-page document")
            % {"pages": text.strip(), "count": page_count}
        )
    return ",".join(kept)


def page_ranges_in_each(text: str, document_pages: list[int]) -> str:
    """A page selection applied to each of a job's documents, as IPP applies `page-ranges` to
    each document printed separately (RFC 8011 5.2.7) and CUPS's lp to each file: "1-2" of
    documents of 3 and 4 pages is "1-2,4-5" of the job. Each is cut at its document's end;
    NoPageOfDocument when no document has any of the pages, DocumentError for bad text or a
    selection that would be too long for the job."""
    parts = _range_parts(text)
    if not parts:
        return ""
    bounds = [_range_bounds(part, sys.maxsize) for part in parts]
    kept: list[str] = []
    offset = 0
    for count in document_pages:
        for first, last in bounds:
            last = min(last, count)
            if first <= last:
                first, last = first + offset, last + offset
                kept.append(str(first) if first == last else f"{first}-{last}")
        offset += count
    if not kept:
        raise NoPageOfDocument(
            _("the pages %(pages)s name no page of any of the %(count)d documents")
            % {"pages": text.strip(), "count": len(document_pages)}
        )
    combined = ",".join(kept)
    if len(combined) > MAX_RANGE_TEXT:
        raise DocumentError(
            _(
                "the pages %(pages)s of each of %(count)d documents make a selection longer "
                "than %(most)d characters: select fewer ranges, or hold fewer documents"
            )
            % {"pages": text.strip(), "count": len(document_pages), "most": MAX_RANGE_TEXT}
        )
    return combined


def _range_bounds(part: str, page_count: int) -> tuple[int, int]:
    if not part:
        # Not page 1, which an empty start would otherwise stand for ("3," is no "3,1").
        raise DocumentError(
            _("the page selection has an empty part: remove the extra comma (write e.g. 1-3,5)")
        )
    start_text, dash, end_text = part.partition("-")
    try:
        first = int(start_text) if start_text.strip() else 1
        last = int(end_text) if end_text.strip() else page_count if dash else first
    except ValueError:
        raise DocumentError(
            _("“%(part)s” is not a page or a range of pages (write e.g. 1-3,5)") % {"part": part}
        ) from None
    if first < 1 or last < first:
        raise DocumentError(
            _("“%(part)s” is not a valid range: pages count from 1, low to high") % {"part": part}
        )
    if last > page_count:
        raise DocumentError(
            _("“%(part)s” goes past the last page (%(last)d)") % {"part": part, "last": page_count}
        )
    return first, last


def select_pages(source: Path, pages: list[int], destination: Path) -> int:
    """Write the given pages of `source` to `destination`; returns how many were written."""
    reader = PdfReader(source)
    writer = PdfWriter()
    for page_number in pages:
        writer.add_page(reader.pages[page_number - 1])
    with destination.open("wb") as handle:
        writer.write(handle)
    return len(pages)


def pages_by_document(document_pages: list[int], pages: list[int]) -> list[tuple[int, list[int]]]:
    """The selected pages (numbered through a job's documents, as `pages` from
    parse_page_ranges) in runs that each lie within one document, in the selection's order,
    each with its document's 0-based index: the documents as they are printed separately. A
    document none of whose pages is selected is left out; one whose pages are selected out of
    order ("5,1-2") prints as several."""
    ends = list(itertools.accumulate(document_pages))
    runs: list[tuple[int, list[int]]] = []
    for page in pages:
        document = bisect.bisect_left(ends, page)
        if not runs or runs[-1][0] != document:
            runs.append((document, []))
        runs[-1][1].append(page)
    return runs


def pdf_geometry(path: Path) -> PageGeometry:
    """How the first page lies: the n-up table needs it to pick orientation-requested. `path`
    is made of a held job's pages (selected, imposed), so it has no more than a job may."""
    facts = inspect_pdf(path, most_pages=max_job_pages())
    return geometry_of(facts.landscape, facts.rotation)


def geometry_of(landscape: bool, rotation: int) -> PageGeometry:
    return PageGeometry(orientation="landscape" if landscape else "portrait", rotation=rotation)


def booklet_order(page_count: int) -> list[tuple[int | None, int | None]]:
    """The (left, right) 0-based source pages of every imposed side, front then back.

    Pages are padded with blanks (None) to a multiple of four; folding the printed stack of
    two-sided sheets in the middle gives the pages in reading order.
    """
    padded = max(4, math.ceil(page_count / 4) * 4)

    def page(index: int) -> int | None:
        return index if index < page_count else None

    sides: list[tuple[int | None, int | None]] = []
    for sheet in range(padded // 4):
        outer_last = padded - 1 - 2 * sheet
        inner_first = 2 * sheet
        sides.append((page(outer_last), page(inner_first)))
        sides.append((page(inner_first + 1), page(outer_last - 1)))
    return sides


def impose_booklet(source: Path, destination: Path) -> int:
    """Two pages side by side on each landscape side, in booklet order; returns sides written.

    Each side has the size of the source's first page turned to landscape, so the booklet is
    printed on the same media and folds to half its size.
    """
    reader = PdfReader(source)
    first = reader.pages[0]
    width, height = float(first.mediabox.width), float(first.mediabox.height)
    sheet_width, sheet_height = max(width, height), min(width, height)
    writer = PdfWriter()
    for left, right in booklet_order(len(reader.pages)):
        side = PageObject.create_blank_page(width=sheet_width, height=sheet_height)
        for slot, index in enumerate((left, right)):
            if index is None:
                continue
            _place(side, reader.pages[index], slot, sheet_width / 2, sheet_height)
        writer.add_page(side)
    with destination.open("wb") as handle:
        writer.write(handle)
    return len(writer.pages)


def _place(
    side: PageObject, page: PageObject, slot: int, cell_width: float, cell_height: float
) -> None:
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    scale = min(cell_width / width, cell_height / height)
    x = slot * cell_width + (cell_width - width * scale) / 2 - float(page.mediabox.left) * scale
    y = (cell_height - height * scale) / 2 - float(page.mediabox.bottom) * scale
    side.merge_transformed_page(page, Transformation().scale(scale).translate(x, y))


@dataclass(frozen=True)
class JobSheetDetails:
    kind: str  # "start" or "end"
    job_id: int
    title: str
    owner: str
    printer: str
    pages: int
    copies: int
    released_at: datetime


def write_job_sheet(details: JobSheetDetails, destination: Path) -> None:
    """A one-page, black-on-white sheet that marks where a job starts or ends in the tray."""
    canvas = Canvas(str(destination), pagesize=A4, invariant=True)
    canvas.setTitle(f"Job sheet {details.job_id}")
    width, height = A4
    heading = "START OF JOB" if details.kind == "start" else "END OF JOB"
    canvas.setFont("Helvetica-Bold", 36)
    canvas.drawCentredString(width / 2, height - 60 * mm, heading)
    canvas.setLineWidth(2)
    canvas.line(25 * mm, height - 70 * mm, width - 25 * mm, height - 70 * mm)
    rows = [
        ("Job", str(details.job_id)),
        ("Title", details.title),
        ("Owner", details.owner),
        ("Printer", details.printer),
        ("Pages", str(details.pages)),
        ("Copies", str(details.copies)),
        ("Released", details.released_at.strftime("%Y-%m-%d %H:%M %Z")),
    ]
    y = height - 90 * mm
    for label, value in rows:
        canvas.setFont("Helvetica-Bold", 14)
        canvas.drawString(30 * mm, y, label)
        canvas.setFont("Helvetica", 14)
        canvas.drawString(70 * mm, y, value[:70])
        y -= 10 * mm
    canvas.showPage()
    canvas.save()
