"""PDFs sent back to back as one document.

CUPS sends `lp a.pdf b.pdf` to a driverless queue (ours) as one Send-Document whose data is
the filtered files one after the other: two complete PDFs in one stream. A PDF reader finds
the last one only (its cross-reference table is read from the end), so the earlier files
would be lost without a word. Each is split off and held as a document of its own.
"""

from __future__ import annotations

import mmap
import os
import re
from itertools import pairwise
from pathlib import Path

#: What comes before a PDF that begins after another: its end-of-file marker and a little
#: white space. An incremental update goes on with objects after %%EOF, not a header.
_END_BEFORE = re.compile(rb"%%EOF[\x00\t\n\x0c\r ]{0,64}\Z")
_LOOK_BACK_BYTES = len(b"%%EOF") + 64
_HEADER = b"%PDF-"
_CHUNK_BYTES = 1024 * 1024


def pdf_starts(path: Path, most: int) -> list[int]:
    """The offsets where a PDF begins after another in `path` (none for a single PDF); it
    stops after `most` + 1 of them, which is too many anyway.

    Every intake of a document looks, so the search is the bytes' own (mapped, not read into
    memory), for the header; only a header found is checked for the end marker before it."""
    starts: list[int] = []
    with path.open("rb") as document:
        if os.fstat(document.fileno()).st_size == 0:
            return starts
        with mmap.mmap(document.fileno(), 0, access=mmap.ACCESS_READ) as data:
            position = data.find(_HEADER, 1)
            while position != -1 and len(starts) <= most:
                if _END_BEFORE.search(data[max(0, position - _LOOK_BACK_BYTES) : position]):
                    starts.append(position)
                position = data.find(_HEADER, position + 1)
    return starts


def split_pdfs(path: Path, starts: list[int]) -> list[Path]:
    """Copy each PDF of `path` (split at `starts`) into a file of its own beside it; the caller
    deletes them."""
    size = path.stat().st_size
    parts: list[Path] = []
    try:
        with path.open("rb") as source:
            for number, (begin, end) in enumerate(pairwise([0, *starts, size]), start=1):
                part = path.parent / f"{path.name}.{number}.pdf"
                parts.append(part)
                source.seek(begin)
                with part.open("wb") as target:
                    remaining = end - begin
                    while remaining > 0 and (data := source.read(min(remaining, _CHUNK_BYTES))):
                        target.write(data)
                        remaining -= len(data)
    except BaseException:
        for part in parts:
            part.unlink(missing_ok=True)
        raise
    return parts
