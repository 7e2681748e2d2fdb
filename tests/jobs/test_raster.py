"""Apple and PWG raster to PDF: real rasters from Ghostscript come out as PDFs with the same
pages, sizes and colours; every malformed raster is refused naming the page, leaving no file."""

from __future__ import annotations

import io
import time
import tracemalloc
from pathlib import Path

import pypdfium2
import pytest
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.pdfgen.canvas import Canvas

from apps.jobs import convert
from apps.jobs.convert import detect_format, to_pdf
from apps.jobs.documents import DocumentError
from printmgmt.raster import Limits, RasterError, raster_to_pdf
from printmgmt.raster.reader import DEFAULT_LIMITS, read_pages
from tests.jobs.rasters import (
    gs_raster,
    literal_line,
    pwg_file,
    pwg_page_header,
    urf_file,
    urf_page_header,
)

RED = (220, 20, 20)


def _coloured_pdf(path: Path, pages: int, size: tuple[float, float] = A4) -> Path:
    """Pages with a red square in the lower-left quarter, on white."""
    canvas = Canvas(str(path), pagesize=size, invariant=True)
    for number in range(1, pages + 1):
        canvas.setFillColorRGB(*(c / 255 for c in RED))
        canvas.rect(0, 0, size[0] / 2, size[1] / 2, fill=1, stroke=0)
        canvas.setFillColorRGB(0, 0, 0)
        canvas.drawString(size[0] / 2 + 20, size[1] - 72, f"Page {number}")
        canvas.showPage()
    canvas.save()
    return path


def _pixel(pdf: Path, page: int, x: float, y: float) -> tuple[int, ...]:
    """The rendered colour at (x, y), as fractions of the page from the top-left."""
    document = pypdfium2.PdfDocument(str(pdf))
    scale = 200 / document[page].get_width()
    image = document[page].render(scale=scale).to_pil().convert("RGB")
    document.close()
    return tuple(image.getpixel((int(image.width * x), int(image.height * y))))


def _close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 50) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def _size(pdf: Path, page: int = 0) -> tuple[float, float]:
    box = PdfReader(pdf).pages[page].mediabox
    return float(box.width), float(box.height)


@pytest.mark.parametrize(
    ("device", "color", "document_format"),
    [
        ("urf", "srgb", "image/urf"),
        ("urf", "sgray", "image/urf"),
        ("pwgraster", "srgb", "image/pwg-raster"),
        ("pwgraster", "sgray", "image/pwg-raster"),
    ],
)
def test_real_rasters_become_pdfs_with_their_pages_size_and_colours(
    tmp_path: Path, device: str, color: str, document_format: str
) -> None:
    raster = gs_raster(_coloured_pdf(tmp_path / "d.pdf", 3), tmp_path / "d.raster", device=device,
                       color=color)  # fmt: skip
    assert detect_format(raster) == document_format
    pdf = to_pdf(raster, document_format)
    assert len(PdfReader(pdf).pages) == 3
    width, height = _size(pdf, 2)
    assert abs(width - A4[0]) < 1
    assert abs(height - A4[1]) < 1
    square, paper = _pixel(pdf, 2, 0.2, 0.8), _pixel(pdf, 2, 0.8, 0.6)
    assert paper == (255, 255, 255)
    if color == "srgb":
        assert _close(square, RED), square
    else:
        assert len(set(square)) == 1, square
        assert 40 < square[0] < 200, square


def test_black_one_bit_pwg_raster_prints_black_on_white_at_letter_size(tmp_path: Path) -> None:
    raster = gs_raster(_coloured_pdf(tmp_path / "d.pdf", 2, LETTER), tmp_path / "d.pwg",
                       device="pwgraster", color="black", bits=1, dpi=300)  # fmt: skip
    pdf = to_pdf(raster, "application/octet-stream")
    width, height = _size(pdf)
    assert abs(width - LETTER[0]) < 1
    assert abs(height - LETTER[1]) < 1
    assert _pixel(pdf, 1, 0.8, 0.6) == (255, 255, 255)
    assert sum(_pixel(pdf, 1, 0.2, 0.8)) < 3 * 200  # dithered red: mostly black dots


def test_sixteen_bit_cmyk_and_fill_to_end_of_line(tmp_path: Path) -> None:
    """Hand-built: 16-bit CMYK (0 is no ink) where 128 fills a line with paper white."""
    cyan = b"\xff\xff\x00\x00\x00\x00\x00\x00"
    lines = bytes([1, 0]) + cyan + bytes([128])  # two lines: one cyan pixel, then white
    page = pwg_page_header(4, 2, bits_per_color=16, color_space=6, dpi=72) + lines
    (tmp_path / "c.pwg").write_bytes(pwg_file([page]))
    pdf = tmp_path / "c.pdf"
    assert raster_to_pdf(tmp_path / "c.pwg", pdf, "pwg") == 1
    assert _size(pdf) == (4, 2)
    cyan_pixel, white_pixel = _pixel(pdf, 0, 0.05, 0.1), _pixel(pdf, 0, 0.9, 0.9)
    assert _close(cyan_pixel, (0, 174, 239)), cyan_pixel  # process cyan, as pdfium shows it
    assert white_pixel == (255, 255, 255)


def test_sixteen_bit_gray_urf_with_line_repeats(tmp_path: Path) -> None:
    dark = b"\x20\x00" * 3
    page = urf_page_header(3, 4, bits_per_pixel=16, color_space=0, dpi=72)
    page += literal_line(dark, 2, repeat=4)
    (tmp_path / "g.urf").write_bytes(urf_file([page], declared=1))
    pdf = tmp_path / "g.pdf"
    assert raster_to_pdf(tmp_path / "g.urf", pdf, "urf") == 1
    assert _pixel(pdf, 0, 0.5, 0.9)[0] < 60


def test_lines_are_read_one_at_a_time_and_unread_lines_skipped() -> None:
    """A caller that skips a page's lines still gets the next page (memory: one line)."""
    first = urf_page_header(2, 3, bits_per_pixel=8, color_space=4) + literal_line(b"\x00\x01", 1, 3)
    second = urf_page_header(1, 1, bits_per_pixel=8, color_space=4) + bytes([0, 0, 0x7F])
    pages = read_pages(io.BytesIO(urf_file([first, second])), "urf")
    header, _skipped = next(pages)
    assert (header.width, header.height, header.size_points) == (2, 3, (0.48, 0.72))
    header, lines = next(pages)
    assert list(lines) == [b"\x7f"]
    assert next(pages, None) is None


def test_a_large_raster_streams_in_bounded_memory(tmp_path: Path) -> None:
    """200 pages at 300 dpi: the reader keeps a line, the writer only object offsets."""
    header = pwg_page_header(2480, 3508, bits_per_color=8, color_space=18)
    line = bytes([255, 128])  # 256 lines of white per two bytes
    page = header + line * (3508 // 256) + bytes([3508 % 256 - 1, 128])
    (tmp_path / "big.pwg").write_bytes(pwg_file([page] * 200))
    pdf = tmp_path / "big.pdf"
    tracemalloc.start()
    try:
        assert raster_to_pdf(tmp_path / "big.pwg", pdf, "pwg") == 200
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"{peak:,} bytes at the peak"
    assert len(PdfReader(pdf).pages) == 200


def _refusal(
    tmp_path: Path, data: bytes, document_format: str, limits: Limits = DEFAULT_LIMITS
) -> str:
    (tmp_path / "r").write_bytes(data)
    with pytest.raises(RasterError) as refused:
        raster_to_pdf(tmp_path / "r", tmp_path / "r.pdf", document_format, limits)  # type: ignore[arg-type]
    assert not (tmp_path / "r.pdf").exists()
    return str(refused.value)


GRAY = {"bits_per_pixel": 8, "color_space": 4}
ONE_WHITE_LINE = bytes([0, 128])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"UNIRAST\x00\x00", "file header is truncated"),
        (b"UNIRASX\x00" + bytes(4), "not Apple raster"),
        (urf_file([]), "holds no pages"),
        (urf_file([b"\x08\x04"]), "page 1: the page header is truncated (2 of 32 bytes)"),
        (urf_file([urf_page_header(1, 1, color_space=2)]), "page 1: colour space 2"),
        (urf_file([urf_page_header(1, 1, bits_per_pixel=16)]), "16 bits per pixel do not fit"),
        (urf_file([urf_page_header(1, 1, bits_per_pixel=8, color_space=6)]), "8 bits per pixel"),
        (urf_file([urf_page_header(0, 5, **GRAY)]), "page 1: the page is empty"),
        (urf_file([urf_page_header(5, 5, dpi=0, **GRAY)]), "the resolution is zero"),
        (urf_file([urf_page_header(100_000, 100_000, **GRAY)]), "too large (100000×100000"),
        (urf_file([urf_page_header(70_000, 1, **GRAY)]), "larger than 200 inches"),
        (
            urf_file([urf_page_header(600_000, 1, bits_per_pixel=64, color_space=6)]),
            "lines of 4,800,000 bytes are too long",
        ),
        (urf_file([urf_page_header(4, 3, **GRAY)]), "page 1: the raster ends at line 1 of 3"),
        (
            urf_file([urf_page_header(4, 3, **GRAY) + ONE_WHITE_LINE]),
            "the raster ends at line 2 of 3",
        ),
        (urf_file([urf_page_header(4, 3, **GRAY) + bytes([3])]), "line 1: a line repeat runs"),
        (urf_file([urf_page_header(4, 1, **GRAY) + bytes([0])]), "ends inside line 1"),
        (urf_file([urf_page_header(4, 1, **GRAY) + bytes([0, 3])]), "ends inside line 1"),
        (urf_file([urf_page_header(4, 1, **GRAY) + bytes([0, 250, 1])]), "ends inside line 1"),
        (
            urf_file([urf_page_header(4, 1, **GRAY) + bytes([0, 4, 0])]),
            "page 1, line 1: a pixel run goes past the end of the line (5 of 4 bytes)",
        ),
        (
            urf_file([urf_page_header(4, 1, **GRAY) + ONE_WHITE_LINE], declared=2),
            "announces 2 pages but holds 1",
        ),
        (
            urf_file([urf_page_header(4, 1, **GRAY) + ONE_WHITE_LINE] * 2, declared=1),
            "announces 1 page but holds 2",
        ),
    ],
)
def test_malformed_apple_raster_is_refused_naming_the_page(
    tmp_path: Path, data: bytes, message: str
) -> None:
    assert message in _refusal(tmp_path, data, "urf")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (pwg_page_header(4, 1)[:1000], "page 2: the page header is truncated (1000 of 1796"),
        (pwg_page_header(4, 1, media_class=b"CupsRaster"), "does not start with PwgRaster"),
        (pwg_page_header(4, 1, color_space=48), "colour space 48 is not supported"),
        (pwg_page_header(4, 1, bits_per_color=1), "1 bits per colour are not supported"),
        (pwg_page_header(4, 1, bits_per_color=2, color_space=18), "2 bits per colour"),
        (pwg_page_header(4, 1, bits_per_pixel=32), "32 bits per pixel do not match"),
        (pwg_page_header(4, 1, color_order=1), "colour order 1 is not chunked"),
        (pwg_page_header(4, 1, bytes_per_line=13), "13 bytes per line do not match"),
    ],
)
def test_malformed_pwg_raster_is_refused_naming_the_page(
    tmp_path: Path, header: bytes, message: str
) -> None:
    good = pwg_page_header(4, 1) + ONE_WHITE_LINE
    assert message in _refusal(tmp_path, pwg_file([good, header]), "pwg")


def test_pwg_raster_must_start_with_its_sync_word(tmp_path: Path) -> None:
    assert "not PWG raster" in _refusal(tmp_path, b"2SaR" + bytes(1796), "pwg")


def test_a_document_past_the_pixel_limit_is_refused_at_the_page_that_passes_it(
    tmp_path: Path,
) -> None:
    page = urf_page_header(10, 10, **GRAY) + bytes([9, 128])
    limits = Limits(max_page_pixels=100, max_document_pixels=250)
    message = _refusal(tmp_path, urf_file([page] * 3), "urf", limits)
    assert message.startswith("page 3: the document is too large (more than 250 pixels")


def test_a_document_with_more_pages_than_allowed_is_refused(tmp_path: Path) -> None:
    page = urf_page_header(10, 10, **GRAY) + bytes([9, 128])
    message = _refusal(tmp_path, urf_file([page] * 3), "urf", Limits(max_pages=2))
    assert message == "the document has more than 2 pages"
    message = _refusal(tmp_path, urf_file([page] * 3), "urf", Limits(max_pages=1))
    assert message == "the document has more than 1 page"


def test_a_line_repeat_past_a_page_of_one_line_says_one_line(tmp_path: Path) -> None:
    message = _refusal(tmp_path, urf_file([urf_page_header(4, 1, **GRAY) + bytes([3])]), "urf")
    assert message == "page 1, line 1: a line repeat runs past the page's 1 line"


def test_conversion_names_the_raster_problem_and_checks_the_claimed_format(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "b.urf"
    broken.write_bytes(urf_file([urf_page_header(4, 3, **GRAY) + ONE_WHITE_LINE]))
    with pytest.raises(DocumentError, match=r"^the raster cannot be printed: page 1: the raster"):
        to_pdf(broken, "image/urf")
    assert list(tmp_path.iterdir()) == [broken]
    with pytest.raises(DocumentError, match=r"not PWG raster \(it looks like image/urf\)"):
        to_pdf(broken, "image/pwg-raster")


def _white_pages(path: Path, pages: int) -> Path:
    """Gray pages of 100 million pixels, each line repeated 256 times: 2 bytes a page, but
    about half a second each to compress."""
    page = urf_page_header(9765, 10240, bits_per_pixel=8, color_space=0) + bytes([255, 128]) * 40
    path.write_bytes(urf_file([page] * pages))
    return path


def test_a_raster_that_takes_longer_than_its_time_is_stopped_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    # 50 such pages (the most pixels a document may have) take about 25 s, which were spent in
    # the web or IPP process that received them, whatever time it had left.
    raster = _white_pages(tmp_path / "white.urf", 50)
    started = time.monotonic()
    with pytest.raises(DocumentError, match=r"^the raster took too long to convert"):
        to_pdf(raster, "image/urf", seconds=1)
    assert time.monotonic() - started < 8
    assert list(tmp_path.iterdir()) == [raster]


def test_a_raster_conversion_stopped_by_its_memory_limit_is_refused_saying_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A raster is converted in about 25 MB whatever its size, so only a limit below what the
    # child needs to start stops it (a limit near that makes Python spin on MemoryError).
    raster = _white_pages(tmp_path / "white.urf", 1)
    monkeypatch.setattr(convert, "_RASTER_MEMORY_BYTES", 4 * 1024**2)
    with pytest.raises(DocumentError, match=r"^the raster takes too much memory to convert"):
        to_pdf(raster, "image/urf")
    assert list(tmp_path.iterdir()) == [raster]
