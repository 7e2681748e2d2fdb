"""Document conversion: whatever a user sends becomes a PDF, or a DocumentError saying why not.

Pure functions from a path to a PDF path (no database), used by the IPP printer and the web
upload. Every format is checked by its content, not by what the sender claims, so a "PDF"
that is really a JPEG is refused with a sentence the sender understands.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from apps.jobs.documents import DocumentError, empty_document
from apps.jobs.text_pdf import UTF16_BYTE_ORDER_MARKS

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
#: The most time one document may take to convert (Ghostscript's CPU, a conversion child's).
_CONVERSION_SECONDS = 120
#: What one Ghostscript run may use: a PostScript file is a program, and a loop of a few bytes
#: can take all the memory, CPU or disk there is.
_GHOSTSCRIPT_MEMORY_BYTES = 2 * 1024**3
_GHOSTSCRIPT_OUTPUT_BYTES = 1024**3
#: What converting one image may use (a 100-megapixel image with transparency takes about
#: 1.3 GB): more is a bomb, stopped in its child.
_IMAGE_MEMORY_BYTES = 2 * 1024**3
#: What laying out one text may use: reportlab keeps every page until it saves, and the most a
#: text can be at MAX_DOCUMENT_PAGES' default (2000 pages of Chinese) takes about 370 MB.
_TEXT_MEMORY_BYTES = 1024**3
#: What converting one raster may use: it is read a line at a time, in about 25 MB whatever
#: its length.
_RASTER_MEMORY_BYTES = 1024**3
#: The largest PDF a conversion child may write.
_CHILD_OUTPUT_BYTES = 1024**3


def detect_format(path: Path) -> str:
    """The format of a file by its first bytes; text when it is readable UTF-8 or Latin-1."""
    with path.open("rb") as file:
        head = file.read(_PDF_HEADER_WINDOW + 8)
    if not head:
        raise empty_document()
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


def _as_utf8(head: bytes) -> bytes:
    """The first bytes of a document, UTF-16 text re-encoded as UTF-8 (a character cut at the
    end is dropped) for the text test; anything else as it is."""
    if head.startswith(UTF16_BYTE_ORDER_MARKS):
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
    detected. Any conversion may take at most `seconds` (and never more than
    _CONVERSION_SECONDS).
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
        raster_document_to_pdf(source, target, claimed, seconds)
    else:
        text_to_pdf(source, target, seconds)
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
                        cpu_seconds=_cpu_backstop(seconds),
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


def _cpu_backstop(seconds: float) -> int:
    """The CPU seconds a converter may use: a second more than its time, so that the time limit,
    which says why, ends it first (at the CPU limit the kernel kills it without a word, which
    read as running out of memory)."""
    return math.ceil(seconds) + 1


class _ChildAnswer(NamedTuple):
    """What a conversion child said: `ok`, or its own word for why not (and details), or
    _OUT_OF_TIME, or _NO_ANSWER when it ended without one (out of memory, mostly)."""

    word: str
    detail: str = ""


_OUT_OF_TIME = "out-of-time"
_NO_ANSWER = "no-answer"


def _convert_in_child(
    module: str,
    source: Path,
    target: Path,
    *arguments: str,
    what: str,
    seconds: float,
    memory_bytes: int,
) -> _ChildAnswer:
    """Run `python -m module SOURCE TARGET ARGUMENTS` (`what` it is, for the log) in a child
    limited to `seconds`, `memory_bytes` and _CHILD_OUTPUT_BYTES of output, so that what a
    document costs falls on the child, never on the web or IPP process that received it, and
    return its answer, the one line it writes on standard output. Unless that is `ok`, nothing
    is left at `target`. (Its limit on CPU time, _cpu_backstop, is for a child that the
    time limit somehow did not end.)"""
    command = [sys.executable, "-m", module, str(source), str(target), *arguments]
    try:
        result = subprocess.run(
            limited_command(
                command,
                what=what,
                memory_bytes=memory_bytes,
                cpu_seconds=_cpu_backstop(seconds),
                output_bytes=_CHILD_OUTPUT_BYTES,
            ),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=seconds,
            check=False,
            cwd=settings.BASE_DIR,
        )
    except subprocess.TimeoutExpired:
        answer = _ChildAnswer(_OUT_OF_TIME)
    else:
        word, _space, detail = result.stdout.decode("utf-8", "replace").strip().partition(" ")
        if not word or (word == "ok" and result.returncode != 0):
            # What it said last (a MemoryError, mostly) is for the log only.
            said = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
            logger.info(
                "%s of %s ended (%d) without an answer: %s",
                what, source.name, result.returncode, " ".join(said) or "nothing",
            )  # fmt: skip
            answer = _ChildAnswer(_NO_ANSWER)
        else:
            answer = _ChildAnswer(word, detail)
    if answer.word != "ok":
        target.unlink(missing_ok=True)
    return answer


def image_to_pdf(source: Path, target: Path, seconds: float = _CONVERSION_SECONDS) -> None:
    """One A4 page with the upright image scaled to fit (apps/jobs/image_pdf.py), drawn in a
    child limited in memory and to `seconds`."""
    answer = _convert_in_child(
        "apps.jobs.image_pdf",
        source,
        target,
        what="the image conversion",
        seconds=seconds,
        memory_bytes=_IMAGE_MEMORY_BYTES,
    )
    word, detail = answer
    if word == "ok":
        return
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
    # Stopped by its limits (or it failed at them): what it cost us is all the reason we have.
    logger.info("image %s was stopped after at most %.0f s: %s", source.name, seconds, word)
    raise DocumentError(
        _(
            "the image takes too much memory or time to convert: send it with fewer pixels, "
            "or on its own"
        )
    )


def raster_document_to_pdf(
    source: Path, target: Path, document_format: str, seconds: float = _CONVERSION_SECONDS
) -> None:
    """Apple or PWG raster to a PDF with a page per raster page, at the page's own size
    (printmgmt.raster), in a child limited in memory and to `seconds`."""
    word, detail = _convert_in_child(
        "printmgmt.raster",
        source,
        target,
        "urf" if document_format == URF else "pwg",
        str(settings.MAX_DOCUMENT_PAGES),
        what="the raster conversion",
        seconds=seconds,
        memory_bytes=_RASTER_MEMORY_BYTES,
    )
    if word == "ok":
        return
    if word == "refused":
        raise DocumentError(_("the raster cannot be printed: %(reason)s") % {"reason": detail})
    if word == _OUT_OF_TIME:
        raise DocumentError(_("the raster took too long to convert: send fewer pages at a time"))
    raise DocumentError(
        _("the raster takes too much memory to convert: send fewer pages at a time")
    )


def text_to_pdf(source: Path, target: Path, seconds: float = _CONVERSION_SECONDS) -> None:
    """Plain text in a monospaced font on A4 (apps/jobs/text_pdf.py), laid out in a child
    limited in memory and to `seconds`."""
    word, _detail = _convert_in_child(
        "apps.jobs.text_pdf",
        source,
        target,
        str(settings.MAX_DOCUMENT_PAGES),
        what="the text conversion",
        seconds=seconds,
        memory_bytes=_TEXT_MEMORY_BYTES,
    )
    if word == "ok":
        return
    if word == "empty":
        # As an empty file is: held, it would print a blank page.
        raise empty_document()
    if word == "too-many-pages":
        raise DocumentError(
            ngettext(
                "the text makes more than %(limit)d page: it is refused",
                "the text makes more than %(limit)d pages: it is refused",
                settings.MAX_DOCUMENT_PAGES,
            )
            % {"limit": settings.MAX_DOCUMENT_PAGES}
        )
    if word == _OUT_OF_TIME:
        raise DocumentError(_("the text took too long to convert: send it in smaller parts"))
    raise DocumentError(_("the text takes too much memory to convert: send it in smaller parts"))
