"""Page thumbnails of held documents, rendered with pdfium and cached on disk under DATA_DIR.

A thumbnail is named after the stored document (a generated name) and the page, so it is
rendered once and never served for another document.

PDFium draws in child processes (apps/portal/thumbnail_renderer.py), never in a web process:
a page can take it minutes and gigabytes to draw. Each child is limited in memory and killed
when a page takes longer than THUMBNAIL_RENDER_SECONDS; such a page is marked and gets a
placeholder from then on, at once. The children of a web process are shared fairly:

- an owner's pages are drawn by one child at a time, so one user's slow documents hold up
  their own thumbnails only;
- THUMBNAIL_RENDERERS children draw pages that are not (yet) slow; a child whose page has
  taken longer than THUMBNAIL_SLOW_SECONDS no longer counts among them, so other owners'
  pages are drawn beside slow ones, in more children, up to THUMBNAIL_MAX_RENDERERS in all
  (what bounds the memory thumbnails take).

A request that cannot have a child within THUMBNAIL_WAIT_SECONDS is given up for now
(ThumbnailBusy) rather than wait on: its page shows an hourglass (busy_png) and asks again a
little later.
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
#: A page PDFium has not drawn in this time is given up.
THUMBNAIL_RENDER_SECONDS = 10.0
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
    """No child was free in time (or the owner's other page was being drawn): ask again later."""


class ThumbnailUnavailable(Exception):
    """The page cannot be drawn in time or memory: it has a placeholder."""


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
    return target.with_suffix(".given-up")


def thumbnail_render(document_name: str, page: int, owner: int) -> Path:
    """The PNG of one page (1-based) of a document of user `owner` (their id), rendered on
    first use.

    Raises DocumentError (no such document or page), ThumbnailUnavailable (the page could not
    be drawn within the limits, now or before) or ThumbnailBusy.
    """
    target = thumbnail_path(document_name, page)
    if target.exists():
        return target
    if _given_up_path(target).exists():
        raise ThumbnailUnavailable(document_name, page)
    source = spool_path(document_name)
    if not source.exists():
        raise DocumentError("the document is no longer stored")
    deadline = time.monotonic() + THUMBNAIL_WAIT_SECONDS
    with _POOL.renderer(owner, deadline) as renderer:
        # Drawn, or given up, while this request waited for its owner's turn.
        if target.exists():
            return target
        if _given_up_path(target).exists():
            raise ThumbnailUnavailable(document_name, page)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            renderer.draw(source, page, partial, target)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
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

    def draw(self, source: Path, page: int, partial: Path, target: Path) -> None:
        """Draw the page into `partial`; on failure the page is given up and the error raised."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(f"{source}\t{page}\t{partial}\n".encode())
            answer = self._answer(time.monotonic() + THUMBNAIL_RENDER_SECONDS)
        except (OSError, TimeoutError):
            self.stop()
            answer = "error the renderer was stopped: too slow or out of memory"
        if answer == "ok":
            return
        if answer.startswith(("error the document has no page", f"error page {page} has no")):
            raise DocumentError(answer.removeprefix("error "))
        _given_up_path(target).touch()
        logger.warning("page %s of %s has no thumbnail: %s", page, source.name, answer)
        raise ThumbnailUnavailable(source.name, page, answer)

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
    """Delete the thumbnails (and given-up marks) of documents no longer in the spool (printed,
    canceled, expired).

    Returns how many files were deleted.
    """
    deleted = 0
    folder = thumbnail_dir()
    if not folder.is_dir():
        return 0
    spool = Path(settings.SPOOL_DIR)
    for thumbnail in [*folder.glob("*.png"), *folder.glob("*.given-up")]:
        document_stem, _, _page = thumbnail.stem.rpartition("-")
        if not (spool / f"{document_stem}.pdf").exists():
            thumbnail.unlink(missing_ok=True)
            deleted += 1
    return deleted
