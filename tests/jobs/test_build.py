"""Page selection, booklet imposition and job sheets, checked on real PDFs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from apps.jobs.build import (
    JobSheetDetails,
    NoPageOfDocument,
    booklet_order,
    impose_booklet,
    page_ranges_within,
    parse_page_ranges,
    select_pages,
    write_job_sheet,
)
from apps.jobs.documents import DocumentError
from tests.pdfs import make_pdf


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [1, 2, 3, 4, 5, 6]),
        ("  ", [1, 2, 3, 4, 5, 6]),
        ("2", [2]),
        ("1-3,5", [1, 2, 3, 5]),
        ("5-", [5, 6]),
        ("-2", [1, 2]),
        ("3,1-3", [3, 1, 2]),
    ],
)
def test_page_ranges(text: str, expected: list[int]) -> None:
    assert parse_page_ranges(text, 6) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a-b", "“a-b” is not a page or a range"),
        ("0", "“0” is not a valid range"),
        ("4-2", "“4-2” is not a valid range"),
        ("5-9", "“5-9” goes past the last page (6)"),
        ("3,", "has an empty part"),
        ("2,,4", "has an empty part"),
        (",", "has an empty part"),
        ("1," * 150, "longer than 200 characters"),
    ],
)
def test_bad_page_ranges_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(DocumentError, match=re.escape(message)):
        parse_page_ranges(text, 6)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("2-5,7-9", "2-3"),
        ("1,3", "1,3"),
        ("2-", "2-3"),
        ("-9", "1-3"),
        (" 3 , 1-2 ", "3,1-2"),
    ],
)
def test_a_selection_is_cut_at_the_documents_last_page(text: str, expected: str) -> None:
    assert page_ranges_within(text, 3) == expected


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("4-9", NoPageOfDocument, "the pages 4-9 name no page of this 3-page document"),
        ("x", DocumentError, "“x” is not a page or a range"),
        ("3,", DocumentError, "has an empty part"),
        ("1," * 150, DocumentError, "longer than 200 characters"),
    ],
)
def test_a_selection_with_no_page_of_the_document_or_bad_text_is_refused(
    text: str, error: type[DocumentError], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        page_ranges_within(text, 3)


def page_texts(path: Path) -> list[str]:
    return [page.extract_text().strip() for page in PdfReader(path).pages]


def test_select_pages_keeps_order(tmp_path: Path) -> None:
    source = make_pdf(tmp_path / "in.pdf", 5)
    assert select_pages(source, [4, 2], tmp_path / "out.pdf") == 2
    assert page_texts(tmp_path / "out.pdf") == ["Page 4", "Page 2"]


def test_booklet_order_of_eight_pages_folds_in_reading_order() -> None:
    assert booklet_order(8) == [(7, 0), (1, 6), (5, 2), (3, 4)]


def test_booklet_order_pads_with_blanks() -> None:
    assert booklet_order(5) == [(None, 0), (1, None), (None, 2), (3, 4)]
    assert booklet_order(1) == [(None, 0), (None, None)]


def test_impose_booklet_puts_two_pages_on_each_landscape_side(tmp_path: Path) -> None:
    source = make_pdf(tmp_path / "in.pdf", 8)
    assert impose_booklet(source, tmp_path / "booklet.pdf") == 4
    reader = PdfReader(tmp_path / "booklet.pdf")
    first = reader.pages[0]
    assert float(first.mediabox.width) > float(first.mediabox.height)
    texts = [" ".join(page.extract_text().split()) for page in reader.pages]
    assert texts[0] in {"Page 8 Page 1", "Page 8\nPage 1"}
    assert texts[1] == "Page 2 Page 7"
    assert texts[3] == "Page 4 Page 5"


def test_job_sheet_is_one_page_with_the_job_details(tmp_path: Path) -> None:
    details = JobSheetDetails(
        kind="start",
        job_id=42,
        title="Quarterly report",
        owner="alice",
        printer="office-mfp",
        pages=12,
        copies=3,
        released_at=datetime(2026, 11, 21, 9, 30, tzinfo=UTC),
    )
    write_job_sheet(details, tmp_path / "sheet.pdf")
    reader = PdfReader(tmp_path / "sheet.pdf")
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for expected in ("START OF JOB", "42", "Quarterly report", "alice", "office-mfp", "2026-11-21"):
        assert expected in text
    write_job_sheet(JobSheetDetails(**{**details.__dict__, "kind": "end"}), tmp_path / "end.pdf")
    assert "END OF JOB" in PdfReader(tmp_path / "end.pdf").pages[0].extract_text()
