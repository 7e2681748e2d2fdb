"""PDFs sent back to back as one document.

CUPS sends `lp a.pdf b.pdf` to a driverless queue (ours) as one Send-Document whose data is
the filtered files one after the other: two complete PDFs in one stream. A PDF reader finds
the last one only (its cross-reference table is read from the end), so the earlier files
would be lost without a word. Each is split off and held as a document of its own.
"""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

#: Where one PDF ends and the next begins: the end-of-file marker, a little white space, and
#: the next one's header. An incremental update goes on with objects after %%EOF, not a header.
_NEXT_PDF = re.compile(rb"%%EOF[\x00\t\n\x0c\r ]{0,64}(%PDF-)")
_CHUNK_BYTES = 1024 * 1024
#: Longer than any match, so that one across two chunks is found.
_OVERLAP_BYTES = 128


def pdf_starts(path: Path, most: int) -> list[int]:
    """The offsets where a PDF begins after another in `path` (none for a single PDF), read
    a chunk at a time; it stops after `most` + 1 of them, which is too many anyway."""
    starts: list[int] = []
    offset = 0
    tail = b""
    with path.open("rb") as document:
        while (chunk := document.read(_CHUNK_BYTES)) and len(starts) <= most:
            buffer = tail + chunk
            base = offset - len(tail)
            for match in _NEXT_PDF.finditer(buffer):
                start = base + match.start(1)
                if not starts or start > starts[-1]:  # found again in the overlap
                    starts.append(start)
            offset += len(chunk)
            tail = buffer[-_OVERLAP_BYTES:]
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
