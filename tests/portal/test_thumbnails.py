"""Page thumbnails are rendered by PDFium, which crashes the process when two threads call it
at once; a web process renders them from several threads."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def held_renderers() -> Iterator[list[subprocess.Popen[bytes]]]:
    """The idle children this process has, stopped (SIGSTOP): the next pages given to them are
    being drawn for as long as the test wants, however fast or loaded the machine. Killed
    after."""
    processes = [renderer.process for renderer in thumbnails._POOL._idle]
    assert processes, "no idle child to hold"
    for process in processes:
        process.send_signal(signal.SIGSTOP)
    try:
        yield processes
    finally:
        for process in processes:
            process.kill()  # (nothing when it was killed and waited for already)


def wait_until_drawing(owner: int) -> None:
    """Until a page of `owner`'s has a child (it is being drawn)."""
    deadline = time.monotonic() + 60
    while owner not in thumbnails._POOL._drawing_since:
        assert time.monotonic() < deadline, "the page was never given a child"
        time.sleep(0.01)


def test_another_jobs_thumbnail_is_drawn_while_a_page_is_still_being_drawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PDFium drew under one lock of the web process: a page taking it minutes held up every
    thumbnail of the process (all users') for as long."""
    # Longer than the other page can take on a loaded machine: the held page is not given up
    # before it, unless the other page waits for it.
    monkeypatch.setattr(thumbnails, "THUMBNAIL_RENDER_SECONDS", 30.0)
    spool = tmp_path / "spool"
    spool.mkdir()
    slow = slow_page_pdf(spool / f"{3:032x}.pdf").name
    normal = make_pdf(spool / f"{4:032x}.pdf", 2).name
    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"):
        # A child ready, as on a server that drew thumbnails before.
        thumbnail_render(normal, 2, OTHER_OWNER)
        with held_renderers():
            drawing = Drawing(slow, 1, OWNER)
            wait_until_drawing(OWNER)
            assert thumbnail_render(normal, 1, OTHER_OWNER).stat().st_size > 0
            assert drawing.is_alive(), "another job's thumbnail waited for the page being drawn"
        drawing.join()
    assert isinstance(drawing.outcome, ThumbnailBusy)  # its child was killed: tried again later


def test_a_page_too_slow_to_draw_is_stopped_and_not_drawn_again_at_every_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing stopped a page that took PDFium minutes, and every view of it drew it again."""
    monkeypatch.setattr(thumbnails, "THUMBNAIL_RENDER_SECONDS", 1.0)
    spool = tmp_path / "spool"
    spool.mkdir()
    slow = slow_page_pdf(spool / f"{3:032x}.pdf").name
    normal = make_pdf(spool / f"{4:032x}.pdf", 1).name
    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"):
        thumbnail_render(normal, 1, OTHER_OWNER)
        with held_renderers() as (held,):
            with pytest.raises(ThumbnailBusy):  # tried again later
                thumbnail_render(slow, 1, OWNER)
            assert held.poll() is not None, "the page's child was not stopped"
        failed = thumbnails.thumbnail_path(slow, 1).with_suffix(".failed")
        assert failed.read_text() == "not drawn within 1 s\n"
        # Not drawn again meanwhile: drawn again, it would be drawn, or fail a second time.
        with pytest.raises(ThumbnailBusy):
            thumbnail_render(slow, 1, OWNER)
        assert failed.read_text() == "not drawn within 1 s\n"
    folder = tmp_path / "data" / "thumbnails"
    assert sorted(path.name for path in folder.iterdir()) == [
        f"{3:032x}-1.failed",
        f"{4:032x}-1.png",
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
        self.start()

    def run(self) -> None:
        try:
            self.outcome = thumbnail_render(*self.arguments)
        except (ThumbnailUnavailable, ThumbnailBusy) as error:
            self.outcome = error


def test_another_users_thumbnail_is_drawn_while_two_slow_documents_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two slow pages (of two users) took both children: every other user's thumbnails waited
    until one was drawn or given up, 10 s, and were answered 503."""
    monkeypatch.setattr(thumbnails, "THUMBNAIL_RENDER_SECONDS", 60.0)
    spool = tmp_path / "spool"
    spool.mkdir()
    slow = [slow_page_pdf(spool / f"{number:032x}.pdf").name for number in (6, 7)]
    normal = make_pdf(spool / f"{8:032x}.pdf", 1).name
    # Both children of a server that drew thumbnails before.
    thumbnails._POOL._idle.extend(thumbnails._Renderer() for _ in range(thumbnails._POOL.quick))
    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"), held_renderers():
        slow_drawings = [Drawing(name, 1, owner) for owner, name in enumerate(slow, start=1)]
        for owner in (1, 2):
            wait_until_drawing(owner)
        assert thumbnail_render(normal, 1, owner=3).stat().st_size > 0
        assert all(drawing.is_alive() for drawing in slow_drawings), (
            "the other user's thumbnail waited for a slow one"
        )
    for drawing in slow_drawings:
        drawing.join()


def test_one_users_slow_documents_take_one_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each slow document of one user took a child of its own: two of them held up everyone."""
    monkeypatch.setattr(thumbnails, "THUMBNAIL_WAIT_SECONDS", 1.0)
    # The first page is held while the second waits, then drawn however loaded the machine.
    monkeypatch.setattr(thumbnails, "THUMBNAIL_RENDER_SECONDS", 60.0)
    spool = tmp_path / "spool"
    spool.mkdir()
    first, second = (slow_page_pdf(spool / f"{n:032x}.pdf").name for n in (9, 10))
    normal = make_pdf(spool / f"{19:032x}.pdf", 1).name
    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"):
        thumbnail_render(normal, 1, OTHER_OWNER)
        with held_renderers() as (held,):
            drawing = Drawing(first, 1, OWNER)
            wait_until_drawing(OWNER)
            with pytest.raises(ThumbnailBusy):
                thumbnail_render(second, 1, OWNER)
            assert drawing.is_alive()
            held.send_signal(signal.SIGCONT)
            drawing.join()
    assert isinstance(drawing.outcome, Path)


def test_a_page_that_failed_while_asked_for_again_is_not_drawn_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page shown twice (the inbox and the job's page) waited for the first drawing, and,
    when that was stopped, was drawn again for as long."""
    monkeypatch.setattr(thumbnails, "THUMBNAIL_RENDER_SECONDS", 1.0)
    # Long enough for the first drawing to be stopped, however loaded the machine.
    monkeypatch.setattr(thumbnails, "THUMBNAIL_WAIT_SECONDS", 60.0)
    spool = tmp_path / "spool"
    spool.mkdir()
    slow = slow_page_pdf(spool / f"{11:032x}.pdf", 600_000).name
    thumbnails._POOL._idle.append(thumbnails._Renderer())
    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"), held_renderers():
        first = Drawing(slow, 1, OWNER)
        wait_until_drawing(OWNER)
        second = Drawing(slow, 1, OWNER)
        for drawing in (first, second):
            drawing.join()
        failed = thumbnails.thumbnail_path(slow, 1).with_suffix(".failed")
    assert isinstance(first.outcome, ThumbnailBusy)
    assert isinstance(second.outcome, ThumbnailBusy)
    # Answered from the first drawing's failure, not drawn (and stopped) a second time.
    assert failed.read_text() == "not drawn within 1 s\n"


def _a_while_later(mark: Path, seconds: float) -> None:
    """As if the mark had been written `seconds` ago."""
    written = mark.stat().st_mtime - seconds
    os.utime(mark, (written, written))


def test_a_page_not_drawn_in_time_on_a_loaded_server_is_drawn_when_asked_again_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page that missed its time limit (the machine busy with other work) was crossed out
    for good: a perfectly good document looked broken to its owner until it was printed."""
    spool = tmp_path / "spool"
    spool.mkdir()
    name = make_pdf(spool / f"{13:032x}.pdf", 1).name
    # Less than a new child takes to start: the page is not drawn in time.
    monkeypatch.setattr(thumbnails, "THUMBNAIL_RENDER_SECONDS", 0.001)
    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"):
        with pytest.raises(ThumbnailBusy):
            thumbnail_render(name, 1, OWNER)
        target = thumbnails.thumbnail_path(name, 1)
        failed = target.with_suffix(".failed")
        assert failed.read_text().splitlines() == ["not drawn within 0.001 s"]
        monkeypatch.setattr(thumbnails, "THUMBNAIL_RENDER_SECONDS", 10.0)
        # Not at once: the load may not have passed yet.
        with pytest.raises(ThumbnailBusy):
            thumbnail_render(name, 1, OWNER)
        assert not target.exists()
        _a_while_later(failed, thumbnails.THUMBNAIL_RETRY_SECONDS)
        with Image.open(thumbnail_render(name, 1, OWNER)) as thumbnail:
            assert thumbnail.width == THUMBNAIL_WIDTH_PX
    assert sorted(path.name for path in target.parent.iterdir()) == [target.name]


def test_a_page_that_keeps_missing_its_time_limit_is_given_up_after_its_last_try(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tried again for ever, a page too slow to draw would cost a child for 10 s at every view
    of it."""
    spool = tmp_path / "spool"
    spool.mkdir()
    name = make_pdf(spool / f"{14:032x}.pdf", 1).name
    monkeypatch.setattr(thumbnails, "THUMBNAIL_RENDER_SECONDS", 0.001)
    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"):
        target = thumbnails.thumbnail_path(name, 1)
        failed = target.with_suffix(".failed")
        for tried in range(1, thumbnails.THUMBNAIL_RENDER_ATTEMPTS):
            with pytest.raises(ThumbnailBusy):
                thumbnail_render(name, 1, OWNER)
            # Each wait twice the one before.
            wait = thumbnails.THUMBNAIL_RETRY_SECONDS * 2 ** (tried - 1)
            _a_while_later(failed, wait - 1)
            with pytest.raises(ThumbnailBusy):
                thumbnail_render(name, 1, OWNER)
            assert len(failed.read_text().splitlines()) == tried
            _a_while_later(failed, 1)
        with pytest.raises(ThumbnailUnavailable) as given_up:
            thumbnail_render(name, 1, OWNER)
        reason = (
            f"not drawn in {thumbnails.THUMBNAIL_RENDER_ATTEMPTS} tries, the last: "
            "not drawn within 0.001 s"
        )
        assert given_up.value.args == (name, 1, reason)
        # For good, with its reason, however long after.
        _a_while_later(target.with_suffix(".given-up"), 86400)
        with pytest.raises(ThumbnailUnavailable) as still:
            thumbnail_render(name, 1, OWNER)
        assert still.value.args == (name, 1, reason)


def test_a_page_whose_renderer_was_killed_is_tried_again_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The out-of-memory killer, or an operator, ending a child crossed its page out for good."""
    spool = tmp_path / "spool"
    spool.mkdir()
    name = slow_page_pdf(spool / f"{15:032x}.pdf", 600_000).name
    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"):
        drawing = Drawing(name, 1, OWNER)
        deadline = time.monotonic() + 10
        while not (renderers := _renderers_of_this_process()):
            assert time.monotonic() < deadline, "no renderer was started"
            time.sleep(0.01)
        time.sleep(0.3)  # drawing the page
        for pid in renderers:
            os.kill(pid, signal.SIGKILL)
        drawing.join()
        failed = thumbnails.thumbnail_path(name, 1).with_suffix(".failed")
    assert isinstance(drawing.outcome, ThumbnailBusy)
    assert failed.read_text().startswith("the renderer ended (status -9)")


def _renderers_of_this_process() -> list[int]:
    children = [
        int(pid)
        for task in Path("/proc/self/task").iterdir()
        for pid in (task / "children").read_text().split()
    ]
    return [
        pid
        for pid in children
        if b"apps.portal.thumbnail_renderer" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def test_a_page_whose_document_could_not_be_read_is_tried_again_later(tmp_path: Path) -> None:
    """A file the renderer cannot read or write (a full disk) is no fault of the page."""
    spool = tmp_path / "spool"
    spool.mkdir()
    name = f"{18:032x}.pdf"
    (spool / name).mkdir()  # there, but not a file
    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"):
        with pytest.raises(ThumbnailBusy):
            thumbnail_render(name, 1, OWNER)
        failed = thumbnails.thumbnail_path(name, 1).with_suffix(".failed")
        assert failed.read_text() == f"a file could not be read or written: {spool / name}\n"
        (spool / name).rmdir()
        make_pdf(spool / name, 1)
        _a_while_later(failed, thumbnails.THUMBNAIL_RETRY_SECONDS)
        assert thumbnail_render(name, 1, OWNER).stat().st_size > 0
    assert not failed.exists()


def test_a_document_pdfium_cannot_read_stays_given_up_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not tried again: drawing it fails the same way every time."""
    spool = tmp_path / "spool"
    spool.mkdir()
    name = f"{16:032x}.pdf"
    (spool / name).write_bytes(b"%PDF-1.7\nnot a PDF after all\n")
    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"):
        with pytest.raises(ThumbnailUnavailable) as given_up:
            thumbnail_render(name, 1, OWNER)
        (reason,) = given_up.value.args[2:]
        assert "Data format error" in reason
        mark = thumbnails.thumbnail_path(name, 1).with_suffix(".given-up")
        _a_while_later(mark, 86400)
        # No child to be had: a request that asked for one would be told ThumbnailBusy.
        monkeypatch.setattr(thumbnails, "_POOL", thumbnails._Pool(quick=0, most=0))
        monkeypatch.setattr(thumbnails, "THUMBNAIL_WAIT_SECONDS", 0.0)
        with pytest.raises(ThumbnailUnavailable) as still:
            thumbnail_render(name, 1, OWNER)
        assert still.value.args == (name, 1, reason)
    assert not mark.with_suffix(".failed").exists()


def test_the_marks_of_pages_to_be_tried_again_are_pruned_with_the_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    name = make_pdf(spool / f"{17:032x}.pdf", 1).name
    monkeypatch.setattr(thumbnails, "THUMBNAIL_RENDER_SECONDS", 0.001)
    with override_settings(SPOOL_DIR=spool, DATA_DIR=tmp_path / "data"):
        with pytest.raises(ThumbnailBusy):
            thumbnail_render(name, 1, OWNER)
        (spool / name).unlink()  # printed
        assert thumbnails.thumbnails_prune() == 1
    assert list((tmp_path / "data" / "thumbnails").iterdir()) == []


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
