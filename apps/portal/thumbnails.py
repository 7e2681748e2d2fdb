"""Page thumbnails of held documents, rendered with pdfium and cached on disk under DATA_DIR.

A thumbnail is named after the stored document (a generated name) and the page, so it is
rendered once and never served for another document.

PDFium draws in child processes (apps/portal/thumbnail_renderer.py), never in a web process:
a page can take it minutes and gigabytes to draw. Each child is limited in memory and killed
when a page takes longer than THUMBNAIL_RENDER_SECONDS. A page PDFium cannot draw is marked
with the reason and gets a placeholder from then on, at once. A page not drawn for a reason
that may pass (its time limit, reached on a loaded machine; its child killed) is tried again
on a later request, after THUMBNAIL_RETRY_SECONDS and then twice as long each time, and given
up so only after THUMBNAIL_RENDER_ATTEMPTS tries. The marks are files beside the thumbnails,
so that every web process knows them. The children of a web process are shared fairly:

- an owner's pages are drawn by one child at a time, so one user's slow documents hold up
  their own thumbnails only;
- THUMBNAIL_RENDERERS children draw pages that are not (yet) slow; a child whose page has
  taken longer than THUMBNAIL_SLOW_SECONDS no longer counts among them, so other owners'
  pages are drawn beside slow ones, in more children, up to THUMBNAIL_MAX_RENDERERS in all
  (what bounds the memory thumbnails take).

A request that cannot have a child within THUMBNAIL_WAIT_SECONDS is given up for now
(ThumbnailBusy) rather than wait on, as is one for a page waiting to be tried again: its page
shows an hourglass (busy_png) and asks again a little later.
"""

from __future__ import annotations

import atexit
import functools
import io
import logging
import os
import secrets
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from django.conf import settings
from PIL import Image, ImageDraw

from apps.jobs.convert import limited_command
from apps.jobs.documents import DocumentError, spool_path
from apps.portal.thumbnail_renderer import THUMBNAIL_MAX_HEIGHT_PX, THUMBNAIL_WIDTH_PX

__all__ = [
    "BUSY_THUMBNAIL_WIDTH_PX",
    "MAX_THUMBNAILS",
    "THUMBNAIL_MAX_HEIGHT_PX",
    "THUMBNAIL_WIDTH_PX",
    "ThumbnailBusy",
    "ThumbnailUnavailable",
    "busy_png",
    "placeholder_png",
    "thumbnail_path",
    "thumbnail_render",
    "thumbnail_renderers_close",
    "thumbnails_prune",
]

logger = logging.getLogger(__name__)

MAX_THUMBNAILS = 60
#: Children drawing pages that are not slow, per web process.
THUMBNAIL_RENDERERS = 2
#: Children at most per web process, those drawing slow pages included.
THUMBNAIL_MAX_RENDERERS = 4
#: A page still being drawn after this time is slow (a normal page takes milliseconds).
THUMBNAIL_SLOW_SECONDS = 1.0
#: A page PDFium has not drawn in this time is given up for now (or for good at its last try).
THUMBNAIL_RENDER_SECONDS = 10.0
#: Tries of a page whose drawing keeps failing for a reason that may pass, before it is given up.
THUMBNAIL_RENDER_ATTEMPTS = 3
#: The wait after such a failure before the page is tried again, doubled after each: the load
#: may pass meanwhile, and the page's script, which asks for an hourglass again for about a
#: minute, still sees the last try (15 + 10 + 30 + 10 s at most).
THUMBNAIL_RETRY_SECONDS = 15.0
#: How long a request waits for its owner's turn and a child: a little longer than a page may
#: take, so that pages waiting behind their owner's page that is given up are still drawn.
THUMBNAIL_WAIT_SECONDS = THUMBNAIL_RENDER_SECONDS + 2
#: The width of the picture of a page not drawn yet because no child was free (busy_png): wider
#: than any drawn page, so that the page's script knows it and asks for the page again.
BUSY_THUMBNAIL_WIDTH_PX = 2 * THUMBNAIL_WIDTH_PX
#: What one child may take: PDFium asked for a huge image or bitmap fails here, not the server.
_RENDERER_MEMORY_BYTES = 1024**3
_RENDERER_OUTPUT_BYTES = 16 * 1024**2
#: How long an idle child that is told to end may take to.
_RENDERER_CLOSE_SECONDS = 5.0


class ThumbnailBusy(Exception):
    """No child was free in time (or the owner's other page was being drawn), or the page waits
    to be tried again: ask again later."""


class ThumbnailUnavailable(Exception):
    """The page cannot be drawn (PDFium fails on it, or it was not drawn in time or memory in
    THUMBNAIL_RENDER_ATTEMPTS tries): it has a placeholder. The last argument is the reason."""


class _Interrupted(Exception):
    """The page was not drawn for a reason that may pass: its time limit, its child ended."""


def thumbnail_dir() -> Path:
    return Path(settings.DATA_DIR) / "thumbnails"


def thumbnail_path(document_name: str, page: int) -> Path:
    spool_path(document_name)  # refuses names that are not spool names
    return thumbnail_dir() / f"{Path(document_name).stem}-{page}.png"


@functools.cache
def placeholder_png() -> bytes:
    """What a page that cannot be drawn shows: a blank A4 page crossed out."""
    height = round(THUMBNAIL_WIDTH_PX * 842 / 595)
    image = Image.new("L", (THUMBNAIL_WIDTH_PX, height), 235)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, THUMBNAIL_WIDTH_PX - 1, height - 1), outline=150, width=2)
    draw.line((0, 0, THUMBNAIL_WIDTH_PX, height), fill=150, width=2)
    draw.line((0, height, THUMBNAIL_WIDTH_PX, 0), fill=150, width=2)
    png = io.BytesIO()
    image.save(png, format="PNG", optimize=True)
    return png.getvalue()


@functools.cache
def busy_png() -> bytes:
    """What a page shows while no child was free to draw it in time (ThumbnailBusy): an
    hourglass on a blank A4 page, BUSY_THUMBNAIL_WIDTH_PX wide. Not the crossed-out page: this
    one will be drawn, and the page asks for it again."""
    width = BUSY_THUMBNAIL_WIDTH_PX
    height = round(width * 842 / 595)
    image = Image.new("L", (width, height), 235)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width - 1, height - 1), outline=150, width=4)
    middle_x, middle_y, half_width, half_height = width // 2, height // 2, width // 6, height // 6
    top, bottom = middle_y - half_height, middle_y + half_height
    left, right = middle_x - half_width, middle_x + half_width
    # The glass, its sand run half through, and the two caps.
    draw.polygon(
        [(left, top), (right, top), (middle_x, middle_y), (left, bottom), (right, bottom)],
        outline=120,
        width=6,
    )
    sand = half_height // 2
    draw.polygon(
        [
            (left + half_width // 2, top + sand),
            (right - half_width // 2, top + sand),
            (middle_x, middle_y),
        ],
        fill=170,
    )
    draw.polygon(
        [(middle_x, bottom - sand), (left + 6, bottom - 4), (right - 6, bottom - 4)], fill=170
    )
    for cap in (top, bottom):
        draw.rectangle((left - 16, cap - 6, right + 16, cap + 6), fill=120)
    png = io.BytesIO()
    image.save(png, format="PNG", optimize=True)
    return png.getvalue()


def _given_up_path(target: Path) -> Path:
    """The mark of a page given up for good; it holds the reason."""
    return target.with_suffix(".given-up")


def _failed_path(target: Path) -> Path:
    """The mark of a page to be tried again: a line per failed try (its reason), changed last
    at the last one."""
    return target.with_suffix(".failed")


def _read_mark(mark: Path) -> tuple[str, float] | None:
    """A mark's text and when it was written last (None: there is none)."""
    try:
        with mark.open(encoding="utf-8") as opened:
            return opened.read(), os.fstat(opened.fileno()).st_mtime
    except FileNotFoundError:
        return None


def _refuse_for_now(target: Path, document_name: str, page: int) -> None:
    """Raise ThumbnailUnavailable for a page given up, ThumbnailBusy for one whose next try
    waits."""
    given_up = _read_mark(_given_up_path(target))
    if given_up is not None:
        raise ThumbnailUnavailable(document_name, page, given_up[0])
    failed = _read_mark(_failed_path(target))
    if failed is not None:
        failures, last = len(failed[0].splitlines()), failed[1]
        if time.time() < last + THUMBNAIL_RETRY_SECONDS * 2 ** (failures - 1):
            raise ThumbnailBusy(document_name, page)


def _give_up(target: Path, document_name: str, page: int, reason: str) -> NoReturn:
    _given_up_path(target).write_text(reason, encoding="utf-8")
    logger.warning("page %s of %s has no thumbnail: %s", page, document_name, reason)
    raise ThumbnailUnavailable(document_name, page, reason)


def _note_interrupted(target: Path, document_name: str, page: int, reason: str) -> NoReturn:
    """Count the failed try; the last one gives the page up."""
    # One append of a line: tries failing in two web processes at once count twice. Read back
    # through the same file: the prune may delete its name meanwhile.
    with _failed_path(target).open("a+", encoding="utf-8") as mark:
        mark.write(f"{reason}\n")
        mark.seek(0)
        failures = len(mark.read().splitlines())
    if failures >= THUMBNAIL_RENDER_ATTEMPTS:
        _give_up(target, document_name, page, f"not drawn in {failures} tries, the last: {reason}")
    logger.info("page %s of %s not drawn, tried again later: %s", page, document_name, reason)
    raise ThumbnailBusy(document_name, page)


def thumbnail_render(document_name: str, page: int, owner: int) -> Path:
    """The PNG of one page (1-based) of a document of user `owner` (their id), rendered on
    first use.

    Raises DocumentError (no such document or page), ThumbnailUnavailable (the page cannot be
    drawn, as found now or before) or ThumbnailBusy.
    """
    target = thumbnail_path(document_name, page)
    if target.exists():
        return target
    _refuse_for_now(target, document_name, page)
    source = spool_path(document_name)
    if not source.exists():
        raise DocumentError("the document is no longer stored")
    deadline = time.monotonic() + THUMBNAIL_WAIT_SECONDS
    with _POOL.renderer(owner, deadline) as renderer:
        # Drawn, given up or failed while this request waited for its owner's turn.
        if target.exists():
            return target
        _refuse_for_now(target, document_name, page)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            renderer.draw(source, page, partial)
            os.replace(partial, target)
        except ThumbnailUnavailable as error:
            _give_up(target, document_name, page, error.args[-1])
        except _Interrupted as error:
            _note_interrupted(target, document_name, page, str(error))
        finally:
            partial.unlink(missing_ok=True)
    _failed_path(target).unlink(missing_ok=True)
    return target


class _Renderer:
    """One child process, drawing one page at a time."""

    def __init__(self) -> None:
        command = [sys.executable, "-m", "apps.portal.thumbnail_renderer"]
        self.process = subprocess.Popen(
            limited_command(
                command,
                what="the thumbnail renderer",
                memory_bytes=_RENDERER_MEMORY_BYTES,
                cpu_seconds=None,  # it adds up over many pages: the time limit is per page
                output_bytes=_RENDERER_OUTPUT_BYTES,
            ),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
            cwd=settings.BASE_DIR,
        )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def draw(self, source: Path, page: int, partial: Path) -> None:
        """Draw the page into `partial`.

        Raises DocumentError (no such page), ThumbnailUnavailable (PDFium cannot draw it) or
        _Interrupted (not drawn this time).
        """
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(f"{source}\t{page}\t{partial}\n".encode())
            answer = self._answer(time.monotonic() + THUMBNAIL_RENDER_SECONDS)
        except TimeoutError:
            self.stop()
            raise _Interrupted(f"not drawn within {THUMBNAIL_RENDER_SECONDS:g} s") from None
        except OSError:
            self.stop()
            raise _Interrupted(
                f"the renderer ended (status {self.process.returncode}): killed or out of memory"
            ) from None
        kind, _, reason = answer.partition(" ")
        if kind == "ok":
            return
        if kind == "retry":
            raise _Interrupted(reason)
        if reason.startswith(("the document has no page", f"page {page} has no")):
            raise DocumentError(reason)
        raise ThumbnailUnavailable(source.name, page, reason)

    def _answer(self, deadline: float) -> str:
        assert self.process.stdout is not None
        received = b""
        while not received.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.process.stdout], [], [], left)[0]:
                raise TimeoutError
            chunk = self.process.stdout.read(4096)
            if not chunk:
                raise OSError("the renderer ended")
            received += chunk
        return received.decode("utf-8", "replace").strip()

    def stop(self) -> None:
        """Kill the child (it may be stuck inside PDFium)."""
        self.process.kill()
        self._wait_closed()

    def close(self) -> None:
        """Let an idle child end as a program ends (it reads no more requests)."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=_RENDERER_CLOSE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._wait_closed()

    def _wait_closed(self) -> None:
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


class _Pool:
    """The children of this web process, and whose page each is drawing since when."""

    def __init__(self, quick: int, most: int) -> None:
        self.quick = quick
        self.most = most
        self._changed = threading.Condition()
        self._idle: list[_Renderer] = []
        self._drawing_since: dict[int, float] = {}  # by owner

    def _slow_in(self, now: float) -> float | None:
        """Seconds until the next page drawn becomes slow (None: none will)."""
        waits = [
            started + THUMBNAIL_SLOW_SECONDS - now
            for started in self._drawing_since.values()
            if now - started < THUMBNAIL_SLOW_SECONDS
        ]
        return min(waits, default=None)

    def _may_draw(self, owner: int, now: float) -> bool:
        if owner in self._drawing_since or len(self._drawing_since) >= self.most:
            return False
        not_slow = sum(
            1 for started in self._drawing_since.values() if now - started < THUMBNAIL_SLOW_SECONDS
        )
        return not_slow < self.quick

    @contextmanager
    def renderer(self, owner: int, deadline: float) -> Iterator[_Renderer]:
        """A child for one page of `owner`'s, when they have none and one may draw."""
        with self._changed:
            while not self._may_draw(owner, now := time.monotonic()):
                left = deadline - now
                if left <= 0:
                    raise ThumbnailBusy(owner)
                # Woken when a child is given back, or when a page becomes slow.
                slow_in = self._slow_in(now)
                self._changed.wait(left if slow_in is None else min(left, slow_in))
            self._drawing_since[owner] = now
            renderer = self._idle.pop() if self._idle else None
        try:
            if renderer is None or not renderer.alive:
                renderer = _Renderer()
            yield renderer
        finally:
            with self._changed:
                del self._drawing_since[owner]
                # Idle children are kept for the pages that are not slow, not beyond.
                kept = renderer is not None and renderer.alive and len(self._idle) < self.quick
                if kept:
                    assert renderer is not None
                    self._idle.append(renderer)
                self._changed.notify_all()
            if renderer is not None and not kept:
                renderer.close()

    def close(self) -> None:
        """End the idle children."""
        with self._changed:
            idle, self._idle = self._idle, []
        for renderer in idle:
            renderer.close()


_POOL = _Pool(THUMBNAIL_RENDERERS, THUMBNAIL_MAX_RENDERERS)


def thumbnail_renderers_close() -> None:
    """End this process's idle children as programs end: left to the end of the process, they
    are killed with it (setpriv --pdeathsig), and lose what they measured (test coverage)."""
    _POOL.close()


atexit.register(thumbnail_renderers_close)


def thumbnails_prune() -> int:
    """Delete the thumbnails (and the marks of pages given up or failed) of documents no longer
    in the spool (printed, canceled, expired).

    Returns how many files were deleted.
    """
    deleted = 0
    folder = thumbnail_dir()
    if not folder.is_dir():
        return 0
    spool = Path(settings.SPOOL_DIR)
    for thumbnail in [*folder.glob("*.png"), *folder.glob("*.given-up"), *folder.glob("*.failed")]:
        document_stem, _, _page = thumbnail.stem.rpartition("-")
        if not (spool / f"{document_stem}.pdf").exists():
            thumbnail.unlink(missing_ok=True)
            deleted += 1
    return deleted
