"""Document conversion: whatever a user sends becomes a PDF, or a DocumentError saying why not.

Pure functions from a path to a PDF path (no database), used by the IPP printer and the web
upload. Every format is checked by its content, not by what the sender claims, so a "PDF"
that is really a JPEG is refused with a sentence the sender understands.
"""

from __future__ import annotations

import codecs
import functools
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
from itertools import groupby
from pathlib import Path
from unicodedata import east_asian_width

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import getFont, registerFont, stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from apps.jobs.documents import DocumentError
from printmgmt.raster import Limits, RasterError, raster_to_pdf

logger = logging.getLogger(__name__)

PDF = "application/pdf"
POSTSCRIPT = "application/postscript"
JPEG = "image/jpeg"
PNG = "image/png"
URF = "image/urf"  # Apple raster, what iOS sends to an AirPrint printer
PWG_RASTER = "image/pwg-raster"
TEXT = "text/plain"
OCTET_STREAM = "application/octet-stream"

#: What we accept, in the order a printer lists them; octet-stream means "detect it".
ACCEPTED_FORMATS = (PDF, POSTSCRIPT, URF, PWG_RASTER, JPEG, PNG, TEXT, OCTET_STREAM)

_FORMAT_NAMES = {
    PDF: gettext_lazy("a PDF"),
    POSTSCRIPT: gettext_lazy("PostScript"),
    JPEG: gettext_lazy("a JPEG image"),
    PNG: gettext_lazy("a PNG image"),
    URF: gettext_lazy("Apple raster (URF)"),
    PWG_RASTER: gettext_lazy("PWG raster"),
    TEXT: gettext_lazy("plain text"),
}
_MAGIC = (
    (b"%PDF-", PDF),
    (b"%!", POSTSCRIPT),
    (b"\x04%!", POSTSCRIPT),  # PostScript from some Windows drivers starts with ^D
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"UNIRAST\x00", URF),
    (b"RaS2", PWG_RASTER),
)
# A PDF may carry up to 1 KiB of junk before its header (PDF 1.7, annex H); readers accept it.
_PDF_HEADER_WINDOW = 1024
#: The most time one document may take to convert (Ghostscript's CPU, an image's child).
_CONVERSION_SECONDS = 120
#: What one Ghostscript run may use: a PostScript file is a program, and a loop of a few bytes
#: can take all the memory, CPU or disk there is.
_GHOSTSCRIPT_MEMORY_BYTES = 2 * 1024**3
_GHOSTSCRIPT_OUTPUT_BYTES = 1024**3
#: Text is set in DejaVu Sans Mono (Debian's fonts-dejavu-core, which fontconfig installs), with
#: the letters of most alphabets. Courier, built into every PDF reader, is used where it is
#: missing: it has Western European letters only (ł, č or Cyrillic print as black boxes).
_TEXT_FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
#: Chinese, Japanese and Korean, which DejaVu lacks, from Droid Sans Fallback (Debian's
#: fonts-droid-fallback, TrueType outlines as reportlab needs them); drawn two columns wide.
_FALLBACK_FONT_FILE = Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
_TEXT_SIZE = 10
_TEXT_MARGIN = 48
#: What converting one image may use (a 100-megapixel image with transparency takes about
#: 1.3 GB): more is a bomb, stopped in its child.
_IMAGE_MEMORY_BYTES = 2 * 1024**3
_IMAGE_OUTPUT_BYTES = 1024**3


def detect_format(path: Path) -> str:
    """The format of a file by its first bytes; text when it is readable UTF-8 or Latin-1."""
    with path.open("rb") as file:
        head = file.read(_PDF_HEADER_WINDOW + 8)
    if not head:
        raise DocumentError(_("the document is empty"))
    for magic, document_format in _MAGIC:
        if head.startswith(magic):
            return document_format
    if b"%PDF-" in head[:_PDF_HEADER_WINDOW]:
        return PDF
    if _looks_like_text(_as_utf8(head)):
        return TEXT
    raise DocumentError(
        _("the document is not PDF, PostScript, JPEG, PNG, Apple or PWG raster, or plain text")
    )


#: Text in UTF-16 starts with one of these: what Windows' Notepad saves as "Unicode" and Windows
#: PowerShell's `>` writes. Every other character of Western text is a NUL byte.
_UTF16_BYTE_ORDER_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _as_utf8(head: bytes) -> bytes:
    """The first bytes of a document, UTF-16 text re-encoded as UTF-8 (a character cut at the
    end is dropped) for the text test; anything else as it is."""
    if head.startswith(_UTF16_BYTE_ORDER_MARKS):
        return head.decode("utf-16", "ignore").encode()
    return head


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    controls = sum(1 for byte in head if byte < 0x20 and byte not in b"\t\n\r\f\x1b")
    return controls <= len(head) // 100


def conversion_target(source: Path, workdir: Path | None = None) -> Path:
    """Where to_pdf writes the PDF it makes of `source` (in `workdir`, or beside the source),
    so that the caller knows what to clean up."""
    return (workdir or source.parent) / f"{source.name}.converted.pdf"


def to_pdf(
    source: Path,
    document_format: str,
    workdir: Path | None = None,
    *,
    seconds: float = _CONVERSION_SECONDS,
) -> Path:
    """Convert `source` (sent as `document_format`) to a PDF and return its path: the source
    itself for a PDF (the spool checks it when storing), else conversion_target(source, workdir).

    The content must be what the format says, except for application/octet-stream, which is
    detected. PostScript and images may take at most `seconds` (and never more than
    _CONVERSION_SECONDS) to convert.
    """
    claimed = document_format.split(";", 1)[0].strip().lower()
    actual = detect_format(source)
    if claimed == OCTET_STREAM:
        claimed = actual
    elif claimed not in ACCEPTED_FORMATS:
        raise DocumentError(
            _("documents of type %(format)s are not accepted") % {"format": claimed}
        )
    elif claimed != actual and not (claimed == TEXT and actual != TEXT and _is_text(source)):
        raise DocumentError(
            _("the document is not %(format)s (it looks like %(actual)s)")
            % {"format": _FORMAT_NAMES[claimed], "actual": actual}
        )
    if claimed == PDF:
        return source
    target = conversion_target(source, workdir)
    seconds = min(seconds, _CONVERSION_SECONDS)
    if claimed == POSTSCRIPT:
        postscript_to_pdf(source, target, seconds)
    elif claimed in (JPEG, PNG):
        image_to_pdf(source, target, seconds)
    elif claimed in (URF, PWG_RASTER):
        raster_document_to_pdf(source, target, claimed)
    else:
        text_to_pdf(source, target)
    return target


def _is_text(path: Path) -> bool:
    with path.open("rb") as file:
        return _looks_like_text(_as_utf8(file.read(64 * 1024)))


def limited_command(
    command: list[str],
    *,
    what: str,
    memory_bytes: int,
    cpu_seconds: int | None,
    output_bytes: int,
) -> list[str]:
    """`command` (`what` it is, for the log) with limits on memory, CPU time (None: none) and
    file size, ended with its parent (a web process that dies leaves no child running), using
    util-linux's prlimit and setpriv (part of every Debian system)."""
    prlimit, setpriv = shutil.which("prlimit"), shutil.which("setpriv")
    if prlimit is None or setpriv is None:
        # Said every time: a site that removed util-linux must hear that its limits are gone.
        logger.warning("prlimit or setpriv is missing (util-linux): %s runs unlimited", what)
        return command
    return [
        setpriv, "--pdeathsig", "KILL",
        prlimit, f"--as={memory_bytes}", f"--cpu={cpu_seconds or 'unlimited'}",
        f"--fsize={output_bytes}",
        *command,
    ]  # fmt: skip


def postscript_to_pdf(source: Path, target: Path, seconds: float = _CONVERSION_SECONDS) -> None:
    """PostScript to PDF with Ghostscript, sandboxed (-dSAFER) so a file cannot read others,
    limited in memory, time, output and pages, with its own temporary folder."""
    gs = shutil.which("gs")
    if gs is None:
        raise DocumentError(_("PostScript cannot be printed here: Ghostscript is not installed"))
    command = [
        gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
        f"-dLastPage={settings.MAX_DOCUMENT_PAGES + 1}", f"-sOutputFile={target}", str(source),
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="gs-") as scratch:
        # What it prints goes nowhere, its messages to a file (limited like any it writes): a
        # PostScript program that prints in a loop must not fill this process's memory.
        messages = Path(scratch) / "messages"
        with messages.open("wb") as stderr:
            try:
                result = subprocess.run(
                    limited_command(
                        command,
                        what="Ghostscript",
                        memory_bytes=_GHOSTSCRIPT_MEMORY_BYTES,
                        cpu_seconds=max(1, math.ceil(seconds)),
                        output_bytes=_GHOSTSCRIPT_OUTPUT_BYTES,
                    ),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    timeout=seconds,
                    check=False,
                    env={**os.environ, "TMPDIR": scratch},
                )
            except subprocess.TimeoutExpired:
                target.unlink(missing_ok=True)
                raise DocumentError(_("the PostScript took too long to convert")) from None
        with messages.open("rb") as stderr:
            said = stderr.read(4096).decode("utf-8", "replace").strip().splitlines()
    if result.returncode != 0 or not target.exists() or target.stat().st_size == 0:
        target.unlink(missing_ok=True)
        # What Ghostscript said (its version, paths on this server) is for the log only.
        logger.info("Ghostscript refused %s: %s", source.name, " | ".join(said[:5]))
        raise DocumentError(_("the PostScript cannot be converted: it has errors or is incomplete"))


def image_to_pdf(source: Path, target: Path, seconds: float = _CONVERSION_SECONDS) -> None:
    """One A4 page with the upright image scaled to fit (apps/jobs/image_pdf.py), drawn in a
    child limited in memory and to `seconds`."""
    command = [sys.executable, "-m", "apps.jobs.image_pdf", str(source), str(target)]
    try:
        result = subprocess.run(
            limited_command(
                command,
                what="the image conversion",
                memory_bytes=_IMAGE_MEMORY_BYTES,
                cpu_seconds=max(1, math.ceil(seconds)),
                output_bytes=_IMAGE_OUTPUT_BYTES,
            ),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=seconds,
            check=False,
            cwd=settings.BASE_DIR,
        )
        answer = result.stdout.decode("utf-8", "replace").strip()
    except subprocess.TimeoutExpired:
        answer = "stopped"
    if answer == "ok" and result.returncode == 0:
        return
    target.unlink(missing_ok=True)
    word, _space, detail = answer.partition(" ")
    if word == "too-large" and detail != "0 0":
        width, height = map(int, detail.split())
        raise DocumentError(
            _("the image is too large (%(width)d×%(height)d pixels)")
            % {"width": width, "height": height}
        )
    if word == "too-large":
        raise DocumentError(_("the image is too large"))
    if word == "unreadable":
        logger.info("image %s cannot be read: %s", source.name, detail)
        raise DocumentError(_("the image cannot be read: the file is damaged or incomplete"))
    # Killed by its limits (or it failed at them): what it cost us is all the reason we have.
    logger.info(
        "image %s was stopped after at most %.0f s: %s", source.name, seconds, answer or "no answer"
    )
    raise DocumentError(
        _(
            "the image takes too much memory or time to convert: send it with fewer pixels, "
            "or on its own"
        )
    )


def raster_document_to_pdf(source: Path, target: Path, document_format: str) -> None:
    """Apple or PWG raster to a PDF with a page per raster page, at the page's own size."""
    limits = Limits(max_pages=settings.MAX_DOCUMENT_PAGES)
    try:
        raster_to_pdf(source, target, "urf" if document_format == URF else "pwg", limits)
    except RasterError as error:
        raise DocumentError(
            _("the raster cannot be printed: %(reason)s") % {"reason": error}
        ) from None


@functools.cache
def _text_font() -> str:
    if not _TEXT_FONT_FILE.exists():
        return "Courier"
    registerFont(TTFont("DejaVuSansMono", _TEXT_FONT_FILE))
    return "DejaVuSansMono"


@functools.cache
def _fallback_font() -> tuple[str, frozenset[int]] | None:
    """The fallback font's name and the characters it has that the text font has not; None
    without the fallback (or the text) font."""
    if not _FALLBACK_FONT_FILE.exists() or _text_font() == "Courier":
        return None
    fallback = TTFont("DroidSansFallback", _FALLBACK_FONT_FILE)
    registerFont(fallback)
    text_font = getFont(_text_font())
    assert isinstance(text_font, TTFont)
    lacking = frozenset(fallback.face.charToGlyph) - set(text_font.face.charToGlyph)
    return "DroidSansFallback", lacking


def _cells(character: str) -> int:
    """Columns a character takes: two for the wide characters of Chinese, Japanese, Korean."""
    return 2 if east_asian_width(character) in ("W", "F") else 1


def _wrapped(line: str, columns: int) -> list[str]:
    """`line` cut into lines of at most `columns` columns (at least one line)."""
    if line.isascii():
        return [line[start : start + columns] for start in range(0, max(len(line), 1), columns)]
    pieces: list[str] = []
    piece: list[str] = []
    used = 0
    for character in line:
        width = _cells(character)
        if piece and used + width > columns:
            pieces.append("".join(piece))
            piece, used = [], 0
        piece.append(character)
        used += width
    pieces.append("".join(piece))
    return pieces


def _draw_line(canvas: Canvas, line: str, x: float, y: float, cell: float) -> None:
    """A line with characters the text font lacks: each run in the font that has it, every
    character on its column, so that columns stay aligned."""
    fallback = _fallback_font()
    assert fallback is not None
    name, extra = fallback
    column = 0
    for in_fallback, run in groupby(line, key=lambda character: ord(character) in extra):
        characters = "".join(run)
        if in_fallback:
            canvas.setFont(name, _TEXT_SIZE)
            for character in characters:
                canvas.drawString(x + column * cell, y, character)
                column += _cells(character)
        else:
            canvas.setFont(_text_font(), _TEXT_SIZE)
            canvas.drawString(x + column * cell, y, characters)
            column += sum(_cells(character) for character in characters)


def text_to_pdf(source: Path, target: Path) -> None:
    """Plain text in a monospaced font on A4; long lines wrap, form feeds start a new page."""
    width, height = A4
    leading = _TEXT_SIZE * 1.2
    lines_per_page = int((height - 2 * _TEXT_MARGIN) // leading)
    too_many = DocumentError(
        _("the text makes more than %(limit)d pages: it is refused")
        % {"limit": settings.MAX_DOCUMENT_PAGES}
    )
    text = _decoded(source.read_bytes())
    # Too many form feeds or lines are refused before the text is split (which costs time and
    # memory in proportion to them); the exact count follows.
    if text.count("\f") > settings.MAX_DOCUMENT_PAGES or text.count("\n") > (
        settings.MAX_DOCUMENT_PAGES * lines_per_page
    ):
        raise too_many
    font = _text_font()
    columns = max(1, int((width - 2 * _TEXT_MARGIN) // stringWidth("M", font, _TEXT_SIZE)))
    # Counted before anything is drawn: reportlab keeps every page in memory until it saves.
    if _text_pages(text, columns, lines_per_page) > settings.MAX_DOCUMENT_PAGES:
        raise too_many
    fallback = _fallback_font()
    cell = stringWidth("M", font, _TEXT_SIZE)
    canvas = Canvas(str(target), pagesize=A4, invariant=True)
    for page_text in _page_texts(text):
        lines = [
            piece
            for line in page_text.expandtabs(8).split("\n")
            for piece in _wrapped(line, columns)
        ]
        for first in range(0, max(len(lines), 1), lines_per_page):
            top = height - _TEXT_MARGIN - _TEXT_SIZE
            body = canvas.beginText(_TEXT_MARGIN, top)
            body.setFont(font, _TEXT_SIZE, leading)
            for number, line in enumerate(lines[first : first + lines_per_page]):
                if line.isascii() or fallback is None or fallback[1].isdisjoint(map(ord, line)):
                    body.textLine(line)
                    continue
                body.textLine("")
                _draw_line(canvas, line, _TEXT_MARGIN, top - number * leading, cell)
            canvas.drawText(body)
            canvas.showPage()
    canvas.save()


def _decoded(raw: bytes) -> str:
    """The characters of a text file: UTF-16 after its byte order mark, else UTF-8, else
    Windows-1252 (Windows' own 8-bit text: Latin-1 with “quotes”, dashes and € where Latin-1
    has unprintable control codes), else Latin-1 (every byte is a Latin-1 character: it never
    fails). The byte order mark is no character to print."""
    if raw.startswith(_UTF16_BYTE_ORDER_MARKS):
        return raw.decode("utf-16", "replace")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _page_texts(text: str) -> list[str]:
    """The text of each page, without its last line break: a form feed starts a page, except
    one that ends the text (as report writers and `pr` end every page), and a line break ends
    a line (the last one starts no new line, nor a page after 62 lines)."""
    pages = text.replace("\r\n", "\n").split("\f")
    if len(pages) > 1 and not pages[-1].strip():
        pages.pop()
    return [page.removesuffix("\n") for page in pages]


def _text_pages(text: str, columns: int, lines_per_page: int) -> int:
    """How many pages text_to_pdf lays the text out on (a form feed starts a page)."""
    pages = 0
    for page_text in _page_texts(text):
        lines = sum(
            max(1, -(-len(line) // columns)) if line.isascii() else len(_wrapped(line, columns))
            for line in page_text.expandtabs(8).split("\n")
        )
        pages += max(1, -(-lines // lines_per_page))
    return pages
