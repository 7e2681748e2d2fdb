"""Page thumbnails are rendered by PDFium, which crashes the process when two threads call it
at once; a web process renders them from several threads."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pikepdf
import pytest
from django.test import override_settings
from PIL import Image

from apps.jobs.documents import DocumentError
from apps.portal import thumbnails
from apps.portal.thumbnails import (
    THUMBNAIL_MAX_HEIGHT_PX,
    THUMBNAIL_WIDTH_PX,
    ThumbnailUnavailable,
    thumbnail_render,
)
from tests.children import run_django
from tests.pdfs import make_pdf, slow_page_pdf

DOCUMENTS = 120
RENDER_FROM_THREADS = """
import sys
from concurrent.futures import ThreadPoolExecutor

import django

django.setup()
from apps.jobs.documents import DocumentError
from apps.portal.thumbnails import thumbnail_path, thumbnail_render

names = sys.argv[1:]
work = [(name, page) for name in names for page in range(1, 6)]
with ThreadPoolExecutor(max_workers=8) as pool:
    paths = list(pool.map(lambda item: thumbnail_render(*item), work))
assert all(path.stat().st_size > 0 for path in paths)
assert len({thumbnail_path(*item) for item in work}) == len(work)
"""


def test_thumbnails_rendered_from_many_threads_at_once_do_not_crash(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    names = []
    # Enough renders that unguarded PDFium calls overlap: 600 crashed it every time here.
    for number in range(DOCUMENTS):
        name = f"{number:032x}.pdf"
        make_pdf(spool / name, 5)
        names.append(name)
    environment = {
        **os.environ,
        "PRINTMGMT_DATA_DIR": str(tmp_path / "data"),
        "SPOOL_DIR": str(spool),
    }
    result = run_django(RENDER_FROM_THREADS, *names, environment=environment)
    # A crash inside PDFium ends the process with a signal (a negative return code).
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(list((tmp_path / "data" / "thumbnails").glob("*.png"))) == DOCUMENTS * 5


def _pdf_of_pages(path: Path, *boxes: tuple[float, float]) -> Path:
    document = pikepdf.new()
    for width, height in boxes:
        document.add_blank_page().MediaBox = pikepdf.Array([0, 0, width, height])
    document.save(path)
    return path


def test_thumbnails_of_pages_far_taller_than_wide_fit_the_thumbnail_box(tmp_path: Path) -> None:
    """Scaled to the width alone, a 200 × 14400 pt page made a 180 × 12960 image, and a page
    0.001 pt wide asked PDFium for gigabytes (a server error)."""
    spool = tmp_path / "spool"
    spool.mkdir()
    name = f"{1:032x}.pdf"
    _pdf_of_pages(spool / name, (200, 14400), (0.001, 842), (842, 595), (14400, 3))
    expected_sizes = [
        (5, THUMBNAIL_MAX_HEIGHT_PX),
        (1, THUMBNAIL_MAX_HEIGHT_PX),
        (THUMBNAIL_WIDTH_PX, 128),  # landscape A4: the width decides
        (THUMBNAIL_WIDTH_PX, 1),
    ]
    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"):
        for page, expected in enumerate(expected_sizes, start=1):
            with Image.open(thumbnail_render(name, page)) as thumbnail:
                assert thumbnail.size == expected, f"page {page}"


def test_a_page_whose_crop_box_lies_off_the_page_has_no_thumbnail(tmp_path: Path) -> None:
    """PDFium gives such a page no size: dividing by it was a server error, not a 404."""
    spool = tmp_path / "spool"
    spool.mkdir()
    name = f"{2:032x}.pdf"
    document = pikepdf.new()
    document.add_blank_page().CropBox = pikepdf.Array([700, 700, 800, 900])  # A4 is 595 × 842
    document.save(spool / name)
    with (
        override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"),
        pytest.raises(DocumentError, match="page 1 has no area"),
    ):
        thumbnail_render(name, 1)


def test_a_page_too_slow_to_draw_gets_a_placeholder_and_holds_up_no_other_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PDFium drew under one lock of the web process: a page taking it minutes held up every
    thumbnail of the process (all users') for as long, and nothing stopped it."""
    monkeypatch.setattr(thumbnails, "THUMBNAIL_RENDER_SECONDS", 1.0)
    spool = tmp_path / "spool"
    spool.mkdir()
    slow, normal = f"{3:032x}.pdf", f"{4:032x}.pdf"
    slow_page_pdf(spool / slow)
    make_pdf(spool / normal, 2)
    slow_outcome: list[tuple[BaseException | None, float]] = []

    def draw_slow_page() -> None:
        started = time.monotonic()
        try:
            thumbnail_render(slow, 1)
        except ThumbnailUnavailable as error:
            slow_outcome.append((error, time.monotonic() - started))
        else:
            slow_outcome.append((None, time.monotonic() - started))

    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"):
        thumbnail_render(normal, 2)  # a child ready, as on a server that drew thumbnails before
        drawing = threading.Thread(target=draw_slow_page)
        drawing.start()
        time.sleep(0.3)
        started = time.monotonic()
        assert thumbnail_render(normal, 1).stat().st_size > 0
        assert time.monotonic() - started < 0.8, "another job's thumbnail waited"
        drawing.join()
        error, took = slow_outcome[0]
        assert isinstance(error, ThumbnailUnavailable)
        assert took < 3.0
        # Given up: not drawn again for every view of the page.
        started = time.monotonic()
        with pytest.raises(ThumbnailUnavailable):
            thumbnail_render(slow, 1)
        assert time.monotonic() - started < 0.1
    folder = tmp_path / "data" / "thumbnails"
    assert sorted(path.name for path in folder.iterdir()) == [
        f"{3:032x}-1.given-up",
        f"{4:032x}-1.png",
        f"{4:032x}-2.png",
    ]


def test_thumbnails_are_drawn_in_a_child_limited_in_memory(tmp_path: Path) -> None:
    """A page asking PDFium for gigabytes costs a child that may have one, not the server."""
    spool = tmp_path / "spool"
    spool.mkdir()
    name = f"{5:032x}.pdf"
    make_pdf(spool / name, 1)
    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"):
        thumbnail_render(name, 1)
    limits = [
        (Path("/proc") / str(renderer.process.pid) / "limits").read_text()
        for renderer in thumbnails._POOL._idle
    ]
    assert limits
    for text in limits:
        address_space = next(line for line in text.splitlines() if "address space" in line)
        assert address_space.split()[3] == str(thumbnails._RENDERER_MEMORY_BYTES)
