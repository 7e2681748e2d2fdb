"""Raster documents for the tests: real ones from Ghostscript's urf and pwgraster devices, and
hand-built pages (headers and run-length lines) for the malformed cases no producer makes."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

# Ghostscript's CUPS-family devices take the colour space as a CUPS number.
GS_COLOR_SPACES = {"black": 3, "sgray": 18, "srgb": 19}


def gs_raster(
    pdf: Path, target: Path, *, device: str, color: str = "srgb", bits: int = 8, dpi: int = 150
) -> Path:
    """`pdf` rendered to Apple raster (device "urf") or PWG raster ("pwgraster") by Ghostscript."""
    gs = shutil.which("gs")
    if gs is None:
        pytest.skip("Ghostscript is not installed")
    subprocess.run(
        [
            gs,
            "-q",
            "-dSAFER",
            "-dBATCH",
            "-dNOPAUSE",
            f"-sDEVICE={device}",
            f"-dcupsColorSpace={GS_COLOR_SPACES[color]}",
            f"-dcupsBitsPerColor={bits}",
            f"-r{dpi}",
            f"-sOutputFile={target}",
            str(pdf),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return target


def urf_file(pages: list[bytes], declared: int = 0) -> bytes:
    return b"UNIRAST\x00" + struct.pack(">I", declared) + b"".join(pages)


def urf_page_header(
    width: int, height: int, *, bits_per_pixel: int = 24, color_space: int = 1, dpi: int = 300
) -> bytes:
    return (
        bytes([bits_per_pixel, color_space, 1, 4])
        + bytes(8)
        + struct.pack(">III", width, height, dpi)
        + bytes(8)
    )


def pwg_file(pages: list[bytes]) -> bytes:
    return b"RaS2" + b"".join(pages)


def pwg_page_header(
    width: int,
    height: int,
    *,
    bits_per_color: int = 8,
    bits_per_pixel: int | None = None,
    color_space: int = 19,
    color_order: int = 0,
    bytes_per_line: int | None = None,
    dpi: int = 300,
    media_class: bytes = b"PwgRaster",
) -> bytes:
    colors = {3: 1, 18: 1, 0: 1, 6: 4}.get(color_space, 3)
    bits_per_pixel = bits_per_pixel if bits_per_pixel is not None else bits_per_color * colors
    if bytes_per_line is None:
        bytes_per_line = (width * bits_per_pixel + 7) // 8
    header = bytearray(1796)
    header[: len(media_class)] = media_class
    struct.pack_into(">II", header, 276, dpi, dpi)
    struct.pack_into(
        ">6I", header, 372, width, height, 0, bits_per_color, bits_per_pixel, bytes_per_line
    )
    struct.pack_into(">II", header, 396, color_order, color_space)
    return bytes(header)


def literal_line(data: bytes, unit: int, repeat: int = 1) -> bytes:
    """A line coded as literal runs of up to 128 pixels (one pixel: a run of one)."""
    coded = bytearray([repeat - 1])
    pixels = [data[i : i + unit] for i in range(0, len(data), unit)]
    for start in range(0, len(pixels), 128):
        chunk = pixels[start : start + 128]
        coded.append(0 if len(chunk) == 1 else 257 - len(chunk))
        coded += b"".join(chunk)
    return bytes(coded)
