"""Document conversion: each format becomes a PDF with the right pages, or a clear refusal."""

from __future__ import annotations

import codecs
import re
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from django.utils import translation
from PIL import Image
from pypdf import PdfReader

from apps.jobs import convert
from apps.jobs.convert import detect_format, to_pdf
from apps.jobs.documents import DocumentError, inspect_pdf
from tests.ippserver.documents import make_image, make_postscript
from tests.pdfs import make_pdf


def _pages(path: Path) -> int:
    return len(PdfReader(path).pages)


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("d.pdf", lambda p: make_pdf(p, 2), "application/pdf"),
        ("d.ps", lambda p: make_postscript(p, 1), "application/postscript"),
        ("d.jpg", make_image, "image/jpeg"),
        ("d.png", make_image, "image/png"),
    ],
)
def test_formats_are_detected_by_content(
    tmp_path: Path, name: str, make: Callable[[Path], object], expected: str
) -> None:
    path = tmp_path / name
    make(path)
    assert detect_format(path) == expected


def test_text_is_detected_and_binary_junk_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes"
    text.write_text("Dear all,\n\tthe meeting moves to Friday.\n")
    assert detect_format(text) == "text/plain"
    junk = tmp_path / "junk"
    junk.write_bytes(bytes(range(256)))
    with pytest.raises(DocumentError, match="not PDF, PostScript"):
        detect_format(junk)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(DocumentError, match="empty"):
        detect_format(empty)


def test_a_pdf_is_returned_as_it_is(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "d.pdf", 3)
    assert to_pdf(pdf, "application/pdf") == pdf


def test_postscript_becomes_a_pdf_with_its_pages(tmp_path: Path) -> None:
    result = to_pdf(make_postscript(tmp_path / "d.ps", 3), "application/postscript")
    assert _pages(result) == 3


def test_broken_postscript_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "d.ps"
    broken.write_text("%!PS\n/undefinedthing 12 nonsense showpage\n")
    unclosed = tmp_path / "e.ps"
    unclosed.write_text("%!PS\n{\n")
    for document in (broken, unclosed):
        with pytest.raises(DocumentError, match="PostScript cannot be converted") as refused:
            to_pdf(document, "application/postscript")
        # Ghostscript's banner, version and paths on this server are for the log only.
        assert "Ghostscript" not in str(refused.value)
        assert str(tmp_path) not in str(refused.value)


def test_a_wide_image_is_one_landscape_page(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    wide = make_image(tmp_path / "wide.png", size=(800, 300))
    result = to_pdf(wide, "image/png", tmp_path / "elsewhere")
    assert result == tmp_path / "elsewhere" / "wide.png.converted.pdf"
    page = PdfReader(result).pages[0]
    assert _pages(result) == 1
    assert float(page.mediabox.width) > float(page.mediabox.height)


@pytest.mark.parametrize(
    ("mode", "background", "colour"),
    [("RGBA", (0, 0, 0, 0), (200, 30, 30, 255)), ("LA", (0, 0), (80, 255)), ("P", 0, 1)],
)
def test_what_is_transparent_in_an_image_prints_as_the_white_paper(
    tmp_path: Path, mode: str, background: Any, colour: Any
) -> None:
    # A logo on a transparent background: the background was printed black.
    image = Image.new(mode, (60, 40), background)
    image.paste(colour, (20, 10, 40, 30))
    if mode == "P":
        image.putpalette([0, 0, 0, 200, 30, 30])
        image.info["transparency"] = 0
    image.save(tmp_path / "logo.png")
    page = PdfReader(to_pdf(tmp_path / "logo.png", "image/png")).pages[0]
    printed = page.images[0].image
    assert printed is not None
    assert printed.convert("RGB").getpixel((2, 2)) == (255, 255, 255)
    assert printed.convert("RGB").getpixel((30, 20)) != (255, 255, 255)


def test_a_16_bit_grey_image_keeps_its_greys(tmp_path: Path) -> None:
    # A scanner's 16-bit grey PNG, black to white: all of it but the first 1/256 printed white.
    gradient = Image.new("I;16", (256, 10))
    gradient.putdata([x * 257 for _y in range(10) for x in range(256)])
    gradient.save(tmp_path / "scan.png")
    page = PdfReader(to_pdf(tmp_path / "scan.png", "image/png")).pages[0]
    printed = page.images[0].image
    assert printed is not None
    greys = [printed.convert("L").getpixel((x, 5)) for x in (0, 64, 128, 255)]
    assert greys == [0, 64, 128, 255]


def test_a_photo_is_turned_upright_as_its_orientation_tag_says(tmp_path: Path) -> None:
    # A phone's portrait photo: 300x200 pixels on its side, and a tag to turn them 90° to the
    # right. It was printed on its side, on a landscape page.
    tags = Image.Exif()
    tags[0x0112] = 6  # Orientation
    Image.new("RGB", (300, 200), (200, 30, 30)).save(tmp_path / "photo.jpg", exif=tags)
    page = PdfReader(to_pdf(tmp_path / "photo.jpg", "image/jpeg")).pages[0]
    assert float(page.mediabox.width) < float(page.mediabox.height)
    printed = page.images[0].image
    assert printed is not None
    assert printed.size == (200, 300)


def test_a_truncated_image_is_refused(tmp_path: Path) -> None:
    image = make_image(tmp_path / "photo.jpg", size=(400, 400))
    image.write_bytes(image.read_bytes()[:200])
    with pytest.raises(DocumentError, match="image cannot be read"):
        to_pdf(image, "image/jpeg")
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"\xff\xd8\xff" + b"junk" * 100)
    with pytest.raises(DocumentError, match="image cannot be read") as refused:
        to_pdf(junk, "image/jpeg")
    assert str(tmp_path) not in str(refused.value)  # Pillow names the server's path


def test_long_text_flows_onto_more_pages_and_form_feeds_break_pages(tmp_path: Path) -> None:
    text = tmp_path / "long.txt"
    text.write_text("line\n" * 150 + "\fafter the form feed\n")
    # 62 lines fit on a page: 150 lines take 3 pages, the form feed starts a 4th.
    assert _pages(to_pdf(text, "text/plain")) == 4


@pytest.mark.parametrize(
    ("content", "pages"),
    [
        ("one\ftwo\f", 2),
        ("one\r\n\ftwo\r\n\f\r\n", 2),
        ("line\n" * 62, 1),
        ("line\n" * 63, 2),
        ("one\f\ftwo", 3),
        ("x\n", 1),
    ],
)
def test_the_last_form_feed_and_line_break_start_no_blank_page(
    tmp_path: Path, content: str, pages: int
) -> None:
    # A form feed that ends the text (report writers end every page with one), or the line
    # break of a 62nd line, added a blank page to print and pay for.
    text = tmp_path / "report.txt"
    text.write_bytes(content.encode())
    assert _pages(to_pdf(text, "text/plain")) == pages


def test_latin1_text_is_accepted(tmp_path: Path) -> None:
    text = tmp_path / "old.txt"
    text.write_bytes("Grüße aus Köln\n".encode("latin-1"))
    assert _pages(to_pdf(text, "text/plain")) == 1


def test_windows_text_prints_its_quotes_dashes_and_euro_signs(tmp_path: Path) -> None:
    # Read as Latin-1, these bytes are control codes: they printed as nothing.
    text = tmp_path / "memo.txt"
    words = "„Angebot“ – “quoted” … 5 €"
    text.write_bytes(words.encode("cp1252"))
    printed = PdfReader(to_pdf(text, "text/plain")).pages[0].extract_text()
    assert printed.strip() == words
    # Bytes Windows-1252 leaves undefined are read as Latin-1, as before.
    text.write_bytes(b"caf\xe9 \x81")
    assert _pages(to_pdf(text, "text/plain")) == 1


def test_text_in_any_european_alphabet_prints_its_letters(tmp_path: Path) -> None:
    # Courier has Western European letters only: the others, and the byte order mark Notepad
    # writes first, were printed as black boxes.
    text = tmp_path / "notes.txt"
    words = "Zażółć gęślą jaźń, Příliš žluťoučký kůň, Привет, Γειά σου, Grüße €5"
    text.write_bytes(b"\xef\xbb\xbf" + words.encode())
    printed = PdfReader(to_pdf(text, "text/plain")).pages[0].extract_text()
    assert printed.strip() == words


def test_chinese_and_japanese_text_prints_two_columns_a_character(tmp_path: Path) -> None:
    # DejaVu has no Chinese or Japanese: they printed as boxes, and a line of 60 characters
    # (120 columns wide on paper) ran off the page instead of wrapping.
    text = tmp_path / "notes.txt"
    line = "這是一行很長的中文文字日本語のテキスト" * 3 + "測試自動換行"  # 63 characters
    text.write_text("\n".join([line] * 62), encoding="utf-8")
    converted = to_pdf(text, "text/plain")
    pages = PdfReader(converted).pages
    assert len(pages) == 2  # every line wraps once: 124 printed lines of 62 a page
    # The fallback font is embedded (under a subset name) beside the text font.
    assert b"DroidSansFallback" in converted.read_bytes()
    printed = "".join(pages[0].extract_text().split())
    assert line in printed


def _characters_drawn_in(pdf_path: Path, font_name: str) -> set[str]:
    """The characters the first page draws in the font `font_name` (its subsets, which
    reportlab names TAG+NAME or, from a collection, TAG+NAME-INDEX), as their ToUnicode maps
    say: reportlab maps in them exactly the characters drawn with them."""
    drawn: set[str] = set()
    with pikepdf.open(pdf_path) as pdf:
        for font in pdf.pages[0].Resources.Font.values():
            name = str(font.BaseFont).split("+")[-1]
            if name != font_name and not name.startswith(f"{font_name}-"):
                continue
            cmap = font.ToUnicode.read_bytes().decode()
            targets = re.findall(r"<[0-9A-Fa-f]+>\s*<([0-9A-Fa-f]{4,})>", cmap)
            drawn.update(chr(int(target, 16)) for target in targets)
    return drawn


def test_korean_text_prints_in_a_korean_font_beside_chinese(tmp_path: Path) -> None:
    # Droid Sans Fallback has 3 of the 11,172 Hangul syllables (가 among them, which must not
    # come out in another font than its neighbours): the others printed as boxes.
    text = tmp_path / "notes.txt"
    korean = "안녕하세요, 회의가 금요일로 옮깁니다"
    text.write_text(f"{korean}\n中文 and 한국어 on one line\n", encoding="utf-8")
    converted = to_pdf(text, "text/plain")
    hangul = {character for character in korean + "한국어" if "가" <= character <= "힣"}
    assert hangul <= _characters_drawn_in(converted, "D2Coding")
    in_droid = _characters_drawn_in(converted, "DroidSansFallback")
    assert {"中", "文"} <= in_droid
    assert not hangul & in_droid
    printed = "".join(PdfReader(converted).pages[0].extract_text().split())
    assert printed.startswith("".join(korean.split()))


@pytest.mark.parametrize(
    "blank",
    [
        b" ",
        b"\n\n\n",
        b"  \r\n\t\r\n",
        b"\f\f",
        "\u00a0\u3000\n".encode(),
        codecs.BOM_UTF16_LE + b" \x00",
    ],
    ids=["space", "line-breaks", "crlf-and-tabs", "form-feeds", "unicode-spaces", "utf-16"],
)
def test_a_text_of_white_space_only_is_refused_as_empty(tmp_path: Path, blank: bytes) -> None:
    # It was held as a blank page, where an empty file is refused.
    text = tmp_path / "blank.txt"
    text.write_bytes(blank)
    for claimed in ("text/plain", "application/octet-stream"):
        with pytest.raises(DocumentError, match=r"^the document is empty$"):
            to_pdf(text, claimed)
    assert list(tmp_path.iterdir()) == [text]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_text_with_its_byte_order_mark_is_text(tmp_path: Path, encoding: str) -> None:
    # What Windows' Notepad saves as "Unicode" and Windows PowerShell's `>` writes: refused as
    # "not PDF, PostScript, JPEG, PNG, Apple or PWG raster, or plain text" (its NUL bytes).
    text = tmp_path / "notes.txt"
    lines = ["Grüße aus Köln, Привет", "second line €5"]
    text.write_bytes(codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE)
    with text.open("ab") as file:
        file.write("\r\n".join(lines).encode(encoding) + "\r\n\f".encode(encoding))
    assert detect_format(text) == "text/plain"
    for claimed in ("text/plain", "application/octet-stream"):
        pages = PdfReader(to_pdf(text, claimed)).pages
        assert len(pages) == 1
        assert pages[0].extract_text().splitlines() == lines


def test_octet_stream_is_converted_as_what_it_is(tmp_path: Path) -> None:
    result = to_pdf(make_postscript(tmp_path / "d", 2), "application/octet-stream")
    assert _pages(result) == 2


@pytest.mark.parametrize(
    ("claimed", "message"),
    [("application/pdf", "not a PDF"), ("image/png", "not a PNG image")],
)
def test_a_document_that_is_not_its_format_is_refused(
    tmp_path: Path, claimed: str, message: str
) -> None:
    jpeg = make_image(tmp_path / "photo.jpg")
    with pytest.raises(DocumentError, match=message):
        to_pdf(jpeg, claimed)


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="not accepted"):
        to_pdf(make_pdf(tmp_path / "d.pdf", 1), "application/vnd.hp-pcl")


# ---------------------------------------------------------------- documents that are bombs


def test_text_of_more_pages_than_allowed_is_refused_before_it_is_laid_out(
    tmp_path: Path, settings: Any
) -> None:
    settings.MAX_DOCUMENT_PAGES = 50
    text = tmp_path / "feeds.txt"
    text.write_text("a\f" * 400_000)  # 800 kB, 400,001 pages
    with pytest.raises(DocumentError, match="more than 50 pages"):
        to_pdf(text, "text/plain")
    assert not (tmp_path / "feeds.txt.converted.pdf").exists()
    text.write_text("a\f" * 50)  # the last form feed starts no page
    assert _pages(to_pdf(text, "text/plain")) == 50
    text.write_text("line\n" * 50 * 62)  # 62 lines a page
    assert _pages(to_pdf(text, "text/plain")) == 50
    text.write_text("line\n" * (50 * 62 + 1))
    with pytest.raises(DocumentError, match="more than 50 pages"):
        to_pdf(text, "text/plain")


def test_text_that_takes_longer_than_its_time_is_stopped_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    # 400 pages of Chinese take about 10 s to lay out: inside the web or IPP process that
    # received them, whatever time the upload had left.
    text = tmp_path / "long.txt"
    line = "這是一行很長的中文文字日本語のテキスト" * 3 + "測試自動換行"  # wraps once
    text.write_text("\n".join([line] * 400 * 31), encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(DocumentError, match=r"^the text took too long to convert: send it in"):
        to_pdf(text, "text/plain", seconds=1)
    assert time.monotonic() - started < 8
    assert list(tmp_path.iterdir()) == [text]


def test_text_that_needs_more_memory_than_its_limit_is_refused_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(convert, "_TEXT_MEMORY_BYTES", 64 * 1024**2)
    text = tmp_path / "notes.txt"
    text.write_text("Dear all,\n\tthe meeting moves to Friday.\n")
    assert _pages(to_pdf(text, "text/plain")) == 1  # a text of a page fits
    (tmp_path / "notes.txt.converted.pdf").unlink()
    text.write_text("\n".join(["x" * 80] * 2000 * 62))  # 10 MB, 2000 pages
    with pytest.raises(DocumentError, match=r"^the text takes too much memory to convert"):
        to_pdf(text, "text/plain")
    assert list(tmp_path.iterdir()) == [text]


def test_a_pdf_naming_one_page_a_million_times_is_refused_without_counting_them_all(
    tmp_path: Path, settings: Any
) -> None:
    settings.MAX_DOCUMENT_PAGES = 2000
    bomb = tmp_path / "bomb.pdf"
    with pikepdf.new() as document:
        document.add_blank_page()
        page = document.Root.Pages.Kids[0]
        document.Root.Pages.Kids = pikepdf.Array([page] * 1_000_000)
        document.Root.Pages.Count = 1  # the count lies
        document.save(bomb)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(DocumentError, match="more than 2000 pages"):
        inspect_pdf(bomb)
    # qpdf's own page list would have taken gigabytes (kilobytes here).
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 500_000


@pytest.mark.parametrize(
    ("language", "refusal"),
    [
        ("en", "the PDF has more than 1 page: it is refused"),
        ("de", "das PDF hat mehr als 1 Seite: es wird abgelehnt"),
    ],
)
def test_a_limit_of_one_page_is_said_in_the_singular(
    tmp_path: Path, settings: Any, language: str, refusal: str
) -> None:
    settings.MAX_DOCUMENT_PAGES = 1
    with translation.override(language), pytest.raises(DocumentError) as refused:
        inspect_pdf(make_pdf(tmp_path / "two.pdf", 2))
    assert str(refused.value) == refusal


def test_a_pdf_with_a_cycle_in_its_page_tree_is_refused(tmp_path: Path) -> None:
    looping = tmp_path / "loop.pdf"
    with pikepdf.new() as document:
        document.add_blank_page()
        pages = document.Root.Pages
        inner = document.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Pages, Count=1))
        inner.Kids = pikepdf.Array([pages])
        pages.Kids = pikepdf.Array([inner])
        document.save(looping, fix_metadata_version=False)
    with pytest.raises(DocumentError):
        inspect_pdf(looping)


def test_kids_of_a_page_tree_that_are_no_pages_are_skipped_as_printers_skip_them(
    tmp_path: Path,
) -> None:
    damaged = tmp_path / "damaged.pdf"
    with pikepdf.new() as document:
        document.add_blank_page()
        page = document.Root.Pages.Kids[0]
        document.Root.Pages.Kids = pikepdf.Array([5, page, pikepdf.Name.Foo])
        document.save(damaged)
    assert inspect_pdf(damaged).page_count == 1
    with pikepdf.open(damaged, allow_overwriting_input=True) as document:
        document.Root.Pages.Kids = pikepdf.Array([5, pikepdf.Name.Foo])
        document.save(damaged)
    with pytest.raises(DocumentError, match="no pages"):
        inspect_pdf(damaged)


def test_postscript_that_never_ends_is_stopped_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(convert, "_CONVERSION_SECONDS", 3)
    endless = tmp_path / "loop.ps"
    endless.write_text("%!PS\n{} loop\n")
    with pytest.raises(DocumentError, match=r"took too long|cannot be converted"):
        to_pdf(endless, "application/postscript")
    assert not (tmp_path / "loop.ps.converted.pdf").exists()
    assert not list(Path(tempfile.gettempdir()).glob("gs-*/gs_*"))


def test_postscript_that_prints_in_a_loop_does_not_fill_our_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(convert, "_CONVERSION_SECONDS", 3)
    chatty = tmp_path / "chatty.ps"
    chatty.write_text("%!PS\n/s 65536 string def { s print } loop\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(DocumentError, match=r"took too long|cannot be converted"):
        to_pdf(chatty, "application/postscript")
    # Its output was kept in memory before: gigabytes in three seconds.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000


def test_postscript_that_eats_memory_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(convert, "_GHOSTSCRIPT_MEMORY_BYTES", 256 * 1024**2)
    hungry = tmp_path / "hungry.ps"
    hungry.write_text("%!PS\n/a 0 array def {/a [a 1000000 string] def} loop\n")
    started = time.monotonic()
    with pytest.raises(DocumentError, match=r"cannot be converted"):
        to_pdf(hungry, "application/postscript")
    assert time.monotonic() - started < 60  # stopped by the memory limit, not the time-out


def test_ghostscript_without_util_linux_limits_is_said_in_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    only_gs = tmp_path / "bin"
    only_gs.mkdir()
    gs = shutil.which("gs")
    assert gs is not None
    (only_gs / "gs").symlink_to(gs)
    monkeypatch.setenv("PATH", str(only_gs))
    result = to_pdf(make_postscript(tmp_path / "d.ps", 1), "application/postscript")
    assert _pages(result) == 1
    assert "Ghostscript runs unlimited" in caplog.text
