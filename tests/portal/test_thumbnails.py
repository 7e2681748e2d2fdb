"""Page thumbnails are rendered by PDFium, which crashes the process when two threads call it
at once; a web process renders them from several threads."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
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
    ThumbnailBusy,
    ThumbnailUnavailable,
    thumbnail_render,
)
from tests.children import run_django
from tests.pdfs import make_pdf, slow_page_pdf

DOCUMENTS = 120
OWNER, OTHER_OWNER = 1, 2
RENDER_FROM_THREADS = """
import sys
from concurrent.futures import ThreadPoolExecutor

import django

django.setup()
from apps.jobs.documents import DocumentError
from apps.portal.thumbnails import thumbnail_path, thumbnail_render

names = sys.argv[1:]
# Documents of a few owners: an owner's pages are drawn one at a time.
work = [(name, page, number % 4) for number, name in enumerate(names) for page in range(1, 6)]
with ThreadPoolExecutor(max_workers=8) as pool:
    paths = list(pool.map(lambda item: thumbnail_render(*item), work))
assert all(path.stat().st_size > 0 for path in paths)
assert len({thumbnail_path(name, page) for name, page, _owner in work}) == len(work)
"""


@pytest.fixture(autouse=True)
def _pool_of_its_own(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test has children of its own, ended after it, and pages that are slow early."""
    pool = thumbnails._Pool(thumbnails.THUMBNAIL_RENDERERS, thumbnails.THUMBNAIL_MAX_RENDERERS)
    monkeypatch.setattr(thumbnails, "_POOL", pool)
    monkeypatch.setattr(thumbnails, "THUMBNAIL_SLOW_SECONDS", 0.3)
    yield
    pool.close()


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
            with Image.open(thumbnail_render(name, page, OWNER)) as thumbnail:
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
        thumbnail_render(name, 1, OWNER)


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
            thumbnail_render(slow, 1, OWNER)
        except ThumbnailUnavailable as error:
            slow_outcome.append((error, time.monotonic() - started))
        else:
            slow_outcome.append((None, time.monotonic() - started))

    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"):
        thumbnail_render(
            normal, 2, OTHER_OWNER
        )  # a child ready, as on a server that drew thumbnails before
        drawing = threading.Thread(target=draw_slow_page)
        drawing.start()
        time.sleep(0.3)
        started = time.monotonic()
        assert thumbnail_render(normal, 1, OTHER_OWNER).stat().st_size > 0
        assert time.monotonic() - started < 0.8, "another job's thumbnail waited"
        drawing.join()
        error, took = slow_outcome[0]
        assert isinstance(error, ThumbnailUnavailable)
        assert took < 3.0
        # Given up: not drawn again for every view of the page.
        started = time.monotonic()
        with pytest.raises(ThumbnailUnavailable):
            thumbnail_render(slow, 1, OWNER)
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
        thumbnail_render(name, 1, OWNER)
    limits = [
        (Path("/proc") / str(renderer.process.pid) / "limits").read_text()
        for renderer in thumbnails._POOL._idle
    ]
    assert limits
    for text in limits:
        address_space = next(line for line in text.splitlines() if "address space" in line)
        assert address_space.split()[3] == str(thumbnails._RENDERER_MEMORY_BYTES)


class Drawing(threading.Thread):
    """thumbnail_render in a thread of its own, as a web process serves several requests."""

    def __init__(self, name: str, page: int, owner: int) -> None:
        super().__init__()
        self.arguments = (name, page, owner)
        self.outcome: Path | BaseException | None = None
        self.took = 0.0
        self.start()

    def run(self) -> None:
        started = time.monotonic()
        try:
            self.outcome = thumbnail_render(*self.arguments)
        except (ThumbnailUnavailable, ThumbnailBusy) as error:
            self.outcome = error
        self.took = time.monotonic() - started


def test_another_users_thumbnail_is_drawn_while_two_slow_documents_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two slow pages (of two users) took both children: every other user's thumbnails waited
    until one was drawn or given up, 10 s, and were answered 503."""
    monkeypatch.setattr(thumbnails, "THUMBNAIL_RENDER_SECONDS", 4.0)
    spool = tmp_path / "spool"
    spool.mkdir()
    # Over 4 s each: given up, after the other user's thumbnail.
    slow = [slow_page_pdf(spool / f"{number:032x}.pdf", 600_000).name for number in (6, 7)]
    normal = make_pdf(spool / f"{8:032x}.pdf", 1).name
    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"):
        slow_drawings = [Drawing(name, 1, owner) for owner, name in enumerate(slow, start=1)]
        time.sleep(0.5)  # both are slow now
        started = time.monotonic()
        assert thumbnail_render(normal, 1, owner=3).stat().st_size > 0
        took = time.monotonic() - started
        assert all(drawing.is_alive() for drawing in slow_drawings), (
            f"the other user's thumbnail waited for a slow one ({took:.1f} s)"
        )
        for drawing in slow_drawings:
            drawing.join()


def test_one_users_slow_documents_take_one_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each slow document of one user took a child of its own: two of them held up everyone."""
    monkeypatch.setattr(thumbnails, "THUMBNAIL_WAIT_SECONDS", 1.0)
    spool = tmp_path / "spool"
    spool.mkdir()
    first, second = (slow_page_pdf(spool / f"{n:032x}.pdf").name for n in (9, 10))
    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"):
        drawing = Drawing(first, 1, OWNER)
        time.sleep(0.2)
        with pytest.raises(ThumbnailBusy):
            thumbnail_render(second, 1, OWNER)
        assert drawing.is_alive()
        drawing.join()
    assert isinstance(drawing.outcome, Path)


def test_a_page_given_up_while_asked_for_again_is_not_drawn_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page shown twice (the inbox and the job's page) waited for the first drawing, and,
    when that was given up, was drawn again for as long."""
    monkeypatch.setattr(thumbnails, "THUMBNAIL_RENDER_SECONDS", 1.0)
    monkeypatch.setattr(thumbnails, "THUMBNAIL_WAIT_SECONDS", 5.0)
    spool = tmp_path / "spool"
    spool.mkdir()
    slow = slow_page_pdf(spool / f"{11:032x}.pdf", 600_000).name
    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"):
        drawings = [Drawing(slow, 1, OWNER), Drawing(slow, 1, OWNER)]
        for drawing in drawings:
            drawing.join()
    assert all(isinstance(drawing.outcome, ThumbnailUnavailable) for drawing in drawings)
    # Answered as soon as the first was given up, not a second drawing later.
    assert abs(drawings[0].took - drawings[1].took) < 0.5


RENDER_AND_EXIT = """
import atexit
import sys

renderers = []
# Registered before the product's own handlers: runs after them.
atexit.register(lambda: print("renderer at exit:", renderers[0].process.poll()))

import django

django.setup()
from apps.portal import thumbnails

thumbnails.thumbnail_render(sys.argv[1], 1, owner=1)
renderers.extend(thumbnails._POOL._idle)
"""


def test_a_renderer_ends_as_a_program_ends_when_its_web_process_does(tmp_path: Path) -> None:
    """It was killed with the web process (setpriv --pdeathsig), never ending its program:
    what it measured for coverage was lost, and the drawing code counted as never run."""
    spool = tmp_path / "spool"
    spool.mkdir()
    name = make_pdf(spool / f"{12:032x}.pdf", 1).name
    environment = {
        **os.environ,
        "PRINTMGMT_DATA_DIR": str(tmp_path / "data"),
        "SPOOL_DIR": str(spool),
    }
    result = run_django(RENDER_AND_EXIT, name, environment=environment)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == ["renderer at exit: 0"]
