"""Plain text as a PDF, in a child process: `python -m apps.jobs.text_pdf SOURCE TARGET
MAX_PAGES`.

Laying out a long text keeps every page in memory until the PDF is saved and takes seconds of
CPU: apps/jobs/convert.py runs this in a child limited in both, so that the cost falls on the
child, never on the web process that received the text. No Django: the answer is one line on
standard output, `ok`, `too-many-pages` or `empty`, which the parent turns into a message.
"""

from __future__ import annotations

import codecs
import functools
import sys
from itertools import groupby
from pathlib import Path
from unicodedata import east_asian_width

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import getFont, registerFont, stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

#: Text is set in DejaVu Sans Mono (Debian's fonts-dejavu-core, which fontconfig installs), with
#: the letters of most alphabets. Courier, built into every PDF reader, is used where it is
#: missing: it has Western European letters only (ł, č or Cyrillic print as black boxes).
_TEXT_FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
#: Korean Hangul: the syllables and the compatibility letters, all of which D2Coding has.
_HANGUL = frozenset(range(0xAC00, 0xD7A4)) | frozenset(range(0x3131, 0x318F))
#: The characters DejaVu lacks, each from the first of these that is for it and has it
#: (TrueType outlines, as reportlab needs them; a wide character is drawn two columns wide):
#: Korean Hangul from D2Coding, a fixed-width Korean font (fonts-naver-d2coding, 8 MB;
#: fonts-nanum is 33 MB), Chinese and Japanese from Droid Sans Fallback (fonts-droid-fallback),
#: which has 3 of the 11,172 Hangul syllables: a Korean text in both would mix them. Each is
#: (name, folder, file pattern, the characters it is for, all of which it has; None: any).
_FALLBACK_FONTS: tuple[tuple[str, str, str, frozenset[int] | None], ...] = (
    ("D2Coding", "/usr/share/fonts/truetype/naver-d2coding", "D2Coding-*-all.ttc", _HANGUL),
    ("DroidSansFallback", "/usr/share/fonts/truetype/droid", "DroidSansFallbackFull.ttf", None),
)
_TEXT_SIZE = 10
_TEXT_MARGIN = 48
#: Text in UTF-16 starts with one of these: what Windows' Notepad saves as "Unicode" and Windows
#: PowerShell's `>` writes. Every other character of Western text is a NUL byte.
UTF16_BYTE_ORDER_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class TooManyPages(Exception):
    """The text makes more pages than a document may have."""


class NothingToPrint(Exception):
    """The text is spaces and line or page breaks only: it would print blank pages."""


@functools.cache
def _text_font() -> str:
    if not _TEXT_FONT_FILE.exists():
        return "Courier"
    registerFont(TTFont("DejaVuSansMono", _TEXT_FONT_FILE))
    return "DejaVuSansMono"


@functools.cache
def _text_font_characters() -> frozenset[int]:
    """The characters the text font has (none for Courier: it has no fallback)."""
    text_font = getFont(_text_font())
    return frozenset(text_font.face.charToGlyph) if isinstance(text_font, TTFont) else frozenset()


Fallback = tuple[str, frozenset[int]]


def _fallback_file(index: int) -> Path | None:
    _name, folder, pattern, _for = _FALLBACK_FONTS[index]
    return min(Path(folder).glob(pattern), default=None)


@functools.cache
def _fallback_font(index: int) -> Fallback | None:
    """The name of _FALLBACK_FONTS[index] and the characters it draws (those it is for and has
    that the text font and the fallbacks before it do not draw); None without it. Loaded at
    the first character of it that the fonts before it lack: that takes 50 to 150 ms, which
    most texts need not spend."""
    name, _folder, _pattern, for_characters = _FALLBACK_FONTS[index]
    file = _fallback_file(index)
    if file is None:
        return None
    font = TTFont(name, file, subfontIndex=0)  # a collection's first font: the regular one
    registerFont(font)
    drawn = frozenset(font.face.charToGlyph) - _text_font_characters()
    if for_characters is not None:
        drawn &= for_characters
    for earlier in range(index):
        earlier_for = _FALLBACK_FONTS[earlier][3]
        if earlier_for is not None and _fallback_file(earlier) is not None:
            drawn -= earlier_for  # it has them all: known without loading it
        elif (fallback := _fallback_font(earlier)) is not None:
            drawn -= fallback[1]
    return name, drawn


def _fallbacks_for(line: str) -> list[Fallback]:
    """The fallback fonts that draw characters of `line` (none when the text font has them
    all, or is Courier)."""
    if line.isascii() or _text_font() == "Courier":
        return []
    lacking = set(map(ord, line)) - _text_font_characters()
    fallbacks = []
    for index, (*_font, for_characters) in enumerate(_FALLBACK_FONTS):
        if not lacking:
            break
        if for_characters is not None and lacking.isdisjoint(for_characters):
            continue
        fallback = _fallback_font(index)
        if fallback is not None and not fallback[1].isdisjoint(lacking):
            fallbacks.append(fallback)
            lacking -= fallback[1]
    return fallbacks


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


def _draw_line(
    canvas: Canvas, line: str, fallbacks: list[Fallback], x: float, y: float, cell: float
) -> None:
    """A line with characters the text font lacks: each run in the font that has it, every
    character on its column, so that columns stay aligned."""

    def font_of(character: str) -> str | None:
        code = ord(character)
        return next((name for name, drawn in fallbacks if code in drawn), None)

    column = 0
    for fallback, run in groupby(line, key=font_of):
        characters = "".join(run)
        if fallback is not None:
            canvas.setFont(fallback, _TEXT_SIZE)
            for character in characters:
                canvas.drawString(x + column * cell, y, character)
                column += _cells(character)
        else:
            canvas.setFont(_text_font(), _TEXT_SIZE)
            canvas.drawString(x + column * cell, y, characters)
            column += sum(_cells(character) for character in characters)


def text_to_pdf(source: Path, target: Path, max_pages: int) -> None:
    """Plain text in a monospaced font on A4; long lines wrap, form feeds start a new page.
    Raises TooManyPages, before anything is drawn, for a text of more than `max_pages` pages,
    and NothingToPrint for one of white space only."""
    width, height = A4
    leading = _TEXT_SIZE * 1.2
    lines_per_page = int((height - 2 * _TEXT_MARGIN) // leading)
    text = _decoded(source.read_bytes())
    if not text.strip():
        raise NothingToPrint
    # Too many form feeds or lines are refused before the text is split (which costs time and
    # memory in proportion to them); the exact count follows.
    if text.count("\f") > max_pages or text.count("\n") > max_pages * lines_per_page:
        raise TooManyPages
    font = _text_font()
    cell = stringWidth("M", font, _TEXT_SIZE)
    columns = max(1, int((width - 2 * _TEXT_MARGIN) // cell))
    # Counted before anything is drawn: reportlab keeps every page in memory until it saves.
    if _text_pages(text, columns, lines_per_page) > max_pages:
        raise TooManyPages
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
                fallbacks = _fallbacks_for(line)
                if not fallbacks:
                    body.textLine(line)
                    continue
                body.textLine("")
                _draw_line(canvas, line, fallbacks, _TEXT_MARGIN, top - number * leading, cell)
            canvas.drawText(body)
            canvas.showPage()
    canvas.save()


def _decoded(raw: bytes) -> str:
    """The characters of a text file: UTF-16 after its byte order mark, else UTF-8, else
    Windows-1252 (Windows' own 8-bit text: Latin-1 with “quotes”, dashes and € where Latin-1
    has unprintable control codes), else Latin-1 (every byte is a Latin-1 character: it never
    fails). The byte order mark is no character to print."""
    if raw.startswith(UTF16_BYTE_ORDER_MARKS):
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


def main() -> None:
    source, target, max_pages = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    try:
        text_to_pdf(source, target, max_pages)
    except TooManyPages:
        answer = "too-many-pages"
    except NothingToPrint:
        answer = "empty"
    else:
        answer = "ok"
    sys.stdout.write(answer + "\n")


if __name__ == "__main__":
    main()
