"""A raster as a PDF, in a child process: `python -m printmgmt.raster SOURCE TARGET FORMAT
MAX_PAGES` (FORMAT `urf` or `pwg`).

A long raster takes seconds of CPU (zlib): apps/jobs/convert.py runs this in a child limited in
time and memory, so that the cost falls on the child, never on the web process that received
the raster. The answer is one line on standard output, `ok` or `refused REASON` (the
RasterError's message, which names the page and line), which the parent turns into a message.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, cast

from printmgmt.raster import Limits, RasterError, raster_to_pdf


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    document_format = cast(Literal["urf", "pwg"], sys.argv[3])
    try:
        raster_to_pdf(source, target, document_format, Limits(max_pages=int(sys.argv[4])))
    except RasterError as error:
        answer = f"refused {error}".replace("\n", " ")
    else:
        answer = "ok"
    sys.stdout.write(answer + "\n")


if __name__ == "__main__":
    main()
