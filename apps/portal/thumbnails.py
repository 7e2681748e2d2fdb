"""Page thumbnails of held documents, rendered with pdfium and cached on disk under DATA_DIR.

A thumbnail is named after the stored document (a generated name) and the page, so it is
rendered once and never served for another document.

PDFium draws in child processes (apps/portal/thumbnail_renderer.py), never in a web process:
a page can take it minutes and gigabytes to draw. Each web process keeps up to
THUMBNAIL_RENDERERS children, each limited in memory and killed when a page takes longer than
THUMBNAIL_RENDER_SECONDS; such a page is marked and gets a placeholder from then on. One
document is drawn by one child at a time, so a slow one holds up its own pages only, never the
thumbnails of other jobs. A request that cannot have a child within THUMBNAIL_WAIT_SECONDS is
told to come back later rather than wait on.
"""

from __future__ import annotations

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
    "MAX_THUMBNAILS",
    "THUMBNAIL_MAX_HEIGHT_PX",
    "THUMBNAIL_WIDTH_PX",
    "ThumbnailBusy",
    "ThumbnailUnavailable",
    "placeholder_png",
    "thumbnail_path",
    "thumbnail_render",
    "thumbnails_prune",
]

logger = logging.getLogger(__name__)

MAX_THUMBNAILS = 60
#: Children drawing thumbnails per web process.
THUMBNAIL_RENDERERS = 2
#: A page PDFium has not drawn in this time is given up (a normal page takes milliseconds).
THUMBNAIL_RENDER_SECONDS = 10.0
#: How long a request waits for its document's turn and a free child.
THUMBNAIL_WAIT_SECONDS = 10.0
#: What one child may take: PDFium asked for a huge image or bitmap fails here, not the server.
_RENDERER_MEMORY_BYTES = 1024**3
_RENDERER_OUTPUT_BYTES = 16 * 1024**2


class ThumbnailBusy(Exception):
    """Every child is drawing (or this document's page is being drawn): ask again later."""


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


def _given_up_path(target: Path) -> Path:
    return target.with_suffix(".given-up")


def thumbnail_render(document_name: str, page: int) -> Path:
    """The PNG of one page (1-based), rendered on first use.

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
    with _POOL.document_turn(document_name, deadline), _POOL.renderer(deadline) as renderer:
        if target.exists():  # drawn while this request waited for its turn
            return target
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
        self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


class _Pool:
    """The children of this web process, and whose document each is drawing."""

    def __init__(self, size: int) -> None:
        self._changed = threading.Condition()
        self._idle: list[_Renderer] = []
        self._free = size
        self._documents_drawn: set[str] = set()

    @contextmanager
    def document_turn(self, document_name: str, deadline: float) -> Iterator[None]:
        """Hold the document's turn: one child at a time draws its pages."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: document_name not in self._documents_drawn, deadline - time.monotonic()
            ):
                raise ThumbnailBusy(document_name)
            self._documents_drawn.add(document_name)
        try:
            yield
        finally:
            with self._changed:
                self._documents_drawn.discard(document_name)
                self._changed.notify_all()

    @contextmanager
    def renderer(self, deadline: float) -> Iterator[_Renderer]:
        with self._changed:
            if not self._changed.wait_for(lambda: self._free > 0, deadline - time.monotonic()):
                raise ThumbnailBusy()
            self._free -= 1
            renderer = self._idle.pop() if self._idle else None
        try:
            if renderer is None or not renderer.alive:
                renderer = _Renderer()
            yield renderer
        finally:
            with self._changed:
                if renderer is not None and renderer.alive:
                    self._idle.append(renderer)
                self._free += 1
                self._changed.notify_all()


_POOL = _Pool(THUMBNAIL_RENDERERS)


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
