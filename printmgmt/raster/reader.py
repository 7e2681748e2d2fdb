"""Readers of the two raster formats phones send: Apple raster (image/urf) and PWG raster
(image/pwg-raster, PWG 5102.4).

Both are a file header, then per page a header (size, resolution, pixel format) and the lines
of the page, each coded as a line-repeat byte followed by pixel runs: a byte n < 128 repeats
the next pixel n + 1 times, n > 128 copies 257 - n literal pixels, and 128 fills the rest of
the line with white. Pages are read one line at a time, so memory stays bounded by one line
whatever the page count. Anything malformed raises RasterError naming the page (and line).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal

from printmgmt.english import counted

URF_MAGIC = b"UNIRAST\x00"
PWG_SYNC = b"RaS2"
PWG_HEADER_SIZE = 1796
URF_PAGE_HEADER_SIZE = 32

# PDF viewers refuse pages larger than 14400 points (200 inches) on a side.
MAX_PAGE_INCHES = 200
# A3+ (SRA3) at 600 dpi is 89 million pixels; a bigger page is not a document for an office
# printer.
DEFAULT_MAX_PAGE_PIXELS = 100_000_000
# About 570 A4 pages at 300 dpi: past it a tiny file that repeats white lines is a CPU bomb.
DEFAULT_MAX_DOCUMENT_PIXELS = 5_000_000_000
# 200 inches at 1200 dpi in 16-bit CMYK is under 4 MiB: one line never needs more memory.
MAX_LINE_BYTES = 4 << 20
_READ_CHUNK = 1 << 20

ColorModel = Literal["gray", "rgb", "cmyk"]
_COLOR_COUNTS: dict[ColorModel, int] = {"gray": 1, "rgb": 3, "cmyk": 4}

# CUPS colour-space numbers allowed in PWG raster: model, and whether 0 means white.
_PWG_COLOR_SPACES: dict[int, tuple[ColorModel, bool]] = {
    0: ("gray", True),  # W (luminance)
    1: ("rgb", True),  # RGB
    3: ("gray", False),  # K (black): 0 is no ink
    6: ("cmyk", False),
    18: ("gray", True),  # sGray
    19: ("rgb", True),  # sRGB
    20: ("rgb", True),  # AdobeRGB
}
# Apple raster colour-space codes (CIE Lab, 2, is not supported).
_URF_COLOR_SPACES: dict[int, ColorModel] = {
    0: "gray",  # sGray
    1: "rgb",  # sRGB
    3: "rgb",  # AdobeRGB
    4: "gray",  # W
    5: "rgb",  # device RGB
    6: "cmyk",
}


class RasterError(ValueError):
    """The raster is malformed or too large; the message says what and at which page."""


@dataclass(frozen=True)
class PageHeader:
    """What a page header says, checked: its lines can be decoded and drawn."""

    width: int
    height: int
    bits_per_color: int
    color_model: ColorModel
    # True when a sample of 0 means white (gray and RGB); False for black ink and CMYK.
    additive: bool
    x_resolution: int
    y_resolution: int

    @property
    def bits_per_pixel(self) -> int:
        return self.bits_per_color * _COLOR_COUNTS[self.color_model]

    @property
    def bytes_per_line(self) -> int:
        return (self.width * self.bits_per_pixel + 7) // 8

    @property
    def run_unit(self) -> int:
        """Bytes per pixel in runs: below 8 bits per pixel a run counts bytes."""
        return max(1, self.bits_per_pixel // 8)

    @property
    def size_points(self) -> tuple[float, float]:
        return self.width * 72 / self.x_resolution, self.height * 72 / self.y_resolution


@dataclass(frozen=True)
class Limits:
    max_page_pixels: int = DEFAULT_MAX_PAGE_PIXELS
    max_document_pixels: int = DEFAULT_MAX_DOCUMENT_PIXELS
    max_pages: int | None = None


DEFAULT_LIMITS = Limits()


class _Input:
    """A buffered reader over a binary stream that knows how far it got."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.buffer = b""
        self.position = 0

    def window(self, size: int) -> bytes:
        """The buffer with at least `size` bytes after position, unless the stream ends first."""
        missing = size - (len(self.buffer) - self.position)
        if missing > 0:
            parts = [self.buffer[self.position :]]
            self.position = 0
            while missing > 0:
                chunk = self._stream.read(max(missing, _READ_CHUNK))
                if not chunk:
                    break
                parts.append(chunk)
                missing -= len(chunk)
            self.buffer = b"".join(parts)
        return self.buffer

    def read(self, size: int) -> bytes:
        """Up to `size` bytes: fewer only at the end of the stream."""
        buffer = self.window(size)
        taken = buffer[self.position : self.position + size]
        self.position += len(taken)
        return taken

    def at_end(self) -> bool:
        return len(self.window(1)) == self.position


def read_pages(
    stream: BinaryIO, document_format: Literal["urf", "pwg"], limits: Limits = DEFAULT_LIMITS
) -> Iterator[tuple[PageHeader, Iterator[bytes]]]:
    """Each page's header and an iterator over its decoded lines, top to bottom.

    A page's lines must be consumed before the next page is asked for.
    """
    source = _Input(stream)
    declared = _read_urf_file_header(source) if document_format == "urf" else _read_pwg_sync(source)
    number = 0
    pixels = 0
    while not source.at_end():
        number += 1
        if document_format == "urf":
            header = _read_urf_page_header(source, number)
        else:
            header = _read_pwg_page_header(source, number)
        if limits.max_pages is not None and number > limits.max_pages:
            raise RasterError(f"the document has more than {counted(limits.max_pages, 'page')}")
        _check_page(header, number, limits)
        pixels += header.width * header.height
        if pixels > limits.max_document_pixels:
            raise RasterError(
                f"page {number}: the document is too large (more than "
                f"{limits.max_document_pixels:,} pixels in all)"
            )
        lines = _page_lines(source, header, number)
        yield header, lines
        for _unread in lines:  # a caller that stopped early still leaves us at the next page
            pass
    if number == 0:
        raise RasterError("the raster holds no pages")
    if declared and declared != number:
        raise RasterError(f"the raster announces {counted(declared, 'page')} but holds {number}")


def _read_urf_file_header(source: _Input) -> int:
    head = source.read(len(URF_MAGIC) + 4)
    if not head.startswith(URF_MAGIC):
        raise RasterError("the document is not Apple raster: it does not start with UNIRAST")
    if len(head) < len(URF_MAGIC) + 4:
        raise RasterError("the Apple raster file header is truncated")
    (pages,) = struct.unpack(">I", head[len(URF_MAGIC) :])
    return int(pages)


def _read_pwg_sync(source: _Input) -> int:
    if source.read(len(PWG_SYNC)) != PWG_SYNC:
        raise RasterError("the document is not PWG raster: it does not start with RaS2")
    return 0  # PWG raster does not announce its page count


def _read_urf_page_header(source: _Input, number: int) -> PageHeader:
    raw = source.read(URF_PAGE_HEADER_SIZE)
    if len(raw) < URF_PAGE_HEADER_SIZE:
        raise RasterError(
            f"page {number}: the page header is truncated "
            f"({len(raw)} of {URF_PAGE_HEADER_SIZE} bytes)"
        )
    bits_per_pixel, color_space = raw[0], raw[1]
    width, height, resolution = struct.unpack(">III", raw[12:24])
    model = _URF_COLOR_SPACES.get(color_space)
    if model is None:
        raise RasterError(f"page {number}: colour space {color_space} is not supported")
    bits_per_color, remainder = divmod(bits_per_pixel, _COLOR_COUNTS[model])
    if remainder or bits_per_color not in (8, 16):
        raise RasterError(
            f"page {number}: {bits_per_pixel} bits per pixel do not fit colour space "
            f"{color_space} ({model}, 8 or 16 bits per colour)"
        )
    return PageHeader(
        width=width,
        height=height,
        bits_per_color=bits_per_color,
        color_model=model,
        additive=model != "cmyk",
        x_resolution=resolution,
        y_resolution=resolution,
    )


def _read_pwg_page_header(source: _Input, number: int) -> PageHeader:
    raw = source.read(PWG_HEADER_SIZE)
    if len(raw) < PWG_HEADER_SIZE:
        raise RasterError(
            f"page {number}: the page header is truncated ({len(raw)} of {PWG_HEADER_SIZE} bytes)"
        )
    if not raw.startswith(b"PwgRaster\x00"):
        raise RasterError(f"page {number}: the page header does not start with PwgRaster")
    x_resolution, y_resolution = struct.unpack(">II", raw[276:284])
    (width, height, _media_type, bits_per_color, bits_per_pixel, bytes_per_line) = struct.unpack(
        ">6I", raw[372:396]
    )
    color_order, color_space = struct.unpack(">II", raw[396:404])
    known = _PWG_COLOR_SPACES.get(color_space)
    if known is None:
        raise RasterError(f"page {number}: colour space {color_space} is not supported")
    model, additive = known
    allowed_depths = (1, 8, 16) if model == "gray" else (8, 16)
    if bits_per_color not in allowed_depths:
        raise RasterError(
            f"page {number}: {bits_per_color} bits per colour are not supported in colour "
            f"space {color_space}"
        )
    header = PageHeader(
        width=width,
        height=height,
        bits_per_color=bits_per_color,
        color_model=model,
        additive=additive,
        x_resolution=x_resolution,
        y_resolution=y_resolution,
    )
    if bits_per_pixel != header.bits_per_pixel:
        raise RasterError(
            f"page {number}: {bits_per_pixel} bits per pixel do not match {bits_per_color} "
            f"bits per colour in colour space {color_space}"
        )
    if color_order != 0:
        raise RasterError(f"page {number}: colour order {color_order} is not chunked (0)")
    if bytes_per_line != header.bytes_per_line:
        raise RasterError(
            f"page {number}: {bytes_per_line} bytes per line do not match a width of "
            f"{width} pixels at {bits_per_pixel} bits per pixel"
        )
    return header


def _check_page(header: PageHeader, number: int, limits: Limits) -> None:
    if header.width == 0 or header.height == 0:
        raise RasterError(f"page {number}: the page is empty ({header.width}×{header.height})")
    if header.x_resolution == 0 or header.y_resolution == 0:
        raise RasterError(f"page {number}: the resolution is zero")
    if header.width * header.height > limits.max_page_pixels:
        raise RasterError(
            f"page {number}: the page is too large ({header.width}×{header.height} pixels; "
            f"at most {limits.max_page_pixels:,})"
        )
    if header.bytes_per_line > MAX_LINE_BYTES:
        raise RasterError(
            f"page {number}: lines of {header.bytes_per_line:,} bytes are too long "
            f"(at most {MAX_LINE_BYTES:,})"
        )
    width, height = header.size_points
    if max(width, height) > MAX_PAGE_INCHES * 72:
        raise RasterError(
            f"page {number}: the page is larger than {MAX_PAGE_INCHES} inches "
            f"({header.width}×{header.height} pixels at {header.x_resolution}×"
            f"{header.y_resolution} dpi)"
        )


def _page_lines(source: _Input, header: PageHeader, number: int) -> Iterator[bytes]:
    """The page's lines, one decoded line at a time (a repeated line is yielded repeatedly)."""
    line_length = header.bytes_per_line
    unit = header.run_unit
    white = b"\xff" if header.additive else b"\x00"
    # The longest a coded line can be: a repeat byte, then a one-pixel run for every pixel.
    longest = 1 + (line_length // unit) * (1 + unit)
    line_number = 0
    while line_number < header.height:
        buffer = source.window(longest)
        position, end = source.position, len(buffer)
        if position >= end:
            raise RasterError(
                f"page {number}: the raster ends at line {line_number + 1} of {header.height}"
            )
        repeat = buffer[position] + 1
        position += 1
        if line_number + repeat > header.height:
            raise RasterError(
                f"page {number}, line {line_number + 1}: a line repeat runs past the "
                f"page's {counted(header.height, 'line')}"
            )
        line = bytearray()
        while len(line) < line_length:
            if position >= end:
                raise RasterError(f"page {number}: the raster ends inside line {line_number + 1}")
            code = buffer[position]
            position += 1
            if code == 128:
                line += white * (line_length - len(line))
                continue
            if code < 128:
                count, following = code + 1, unit
            else:
                count, following = 1, (257 - code) * unit
            if position + following > end:
                raise RasterError(f"page {number}: the raster ends inside line {line_number + 1}")
            line += buffer[position : position + following] * count
            position += following
        if len(line) > line_length:
            raise RasterError(
                f"page {number}, line {line_number + 1}: a pixel run goes past the end of "
                f"the line ({len(line)} of {line_length} bytes)"
            )
        source.position = position
        decoded = bytes(line)
        for _ in range(repeat):
            yield decoded
        line_number += repeat
