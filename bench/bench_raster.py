"""Benchmark raster intake: Apple and PWG raster from a phone to the PDF we hold.

    .venv/bin/python bench/bench_raster.py [--pages N] [--dpi D] [--runs R]

Ghostscript renders an N-page PDF (text and a photo-like gradient on every page) to sRGB Apple
raster and PWG raster at D dpi, then each is converted by printmgmt.raster and, as the
reference in the same run, by cups-filters' `rastertopdf` (C++, libcups, QPDF). Prints the
best of R runs, the ratio, and each side's peak resident memory.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

RASTERTOPDF = Path("/usr/lib/cups/filter/rastertopdf")


def make_pdf(path: Path, pages: int) -> None:
    canvas = Canvas(str(path), pagesize=A4, invariant=True)
    for number in range(1, pages + 1):
        for step in range(64):  # a gradient: long literal runs, like a photo
            canvas.setFillColorRGB(step / 64, 0.5, 1 - step / 64)
            canvas.rect(72 + step * 4, 400, 4, 300, fill=1, stroke=0)
        canvas.setFont("Helvetica", 24)
        canvas.drawString(72, 760, f"Page {number}: the quick brown fox jumps over the lazy dog")
        canvas.showPage()
    canvas.save()


def render(pdf: Path, target: Path, device: str, dpi: int) -> None:
    subprocess.run(
        ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", f"-sDEVICE={device}",
         "-dcupsColorSpace=19", "-dcupsBitsPerColor=8", f"-r{dpi}", f"-sOutputFile={target}",
         str(pdf)],
        check=True, capture_output=True,
    )  # fmt: skip


def ours(raster: Path, target: Path, document_format: str) -> tuple[float, float]:
    """Seconds and peak MB, in a child process so the peak is its own."""
    code = (
        "import resource, sys, time; from pathlib import Path; "
        "from printmgmt.raster import raster_to_pdf; start = time.perf_counter(); "
        f"raster_to_pdf(Path({str(raster)!r}), Path({str(target)!r}), {document_format!r}); "
        "print(time.perf_counter() - start, "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def reference(raster: Path, target: Path) -> tuple[float, float]:
    """Seconds and peak MB of rastertopdf (peak from GNU time's %M, in kB)."""
    start = time.perf_counter()
    with target.open("wb") as output:
        result = subprocess.run(
            ["/usr/bin/time", "-f", "%M", str(RASTERTOPDF), "1", "bench", "bench", "1", "",
             str(raster)],
            stdout=output, stderr=subprocess.PIPE, text=True, check=True,
        )  # fmt: skip
    elapsed = time.perf_counter() - start
    return elapsed, int(result.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--dpi", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("gs") is None or not RASTERTOPDF.exists() or not Path("/usr/bin/time").exists():
        sys.exit("needs Ghostscript, cups-filters (make test installs both) and GNU time")
    with tempfile.TemporaryDirectory() as work:
        directory = Path(work)
        make_pdf(directory / "doc.pdf", args.pages)
        print(f"{args.pages} A4 pages at {args.dpi} dpi, sRGB 8-bit; best of {args.runs}")
        print("| format | raster | ours | rastertopdf | ratio | our peak RSS | its peak RSS |")
        print("|---|---|---|---|---|---|---|")
        for device, document_format in (("urf", "urf"), ("pwgraster", "pwg")):
            raster = directory / f"doc.{document_format}"
            render(directory / "doc.pdf", raster, device, args.dpi)
            our_runs = [
                ours(raster, directory / "ours.pdf", document_format) for _ in range(args.runs)
            ]
            their_runs = [reference(raster, directory / "theirs.pdf") for _ in range(args.runs)]
            our_time = min(t for t, _ in our_runs)
            their_time = min(t for t, _ in their_runs)
            print(
                f"| {document_format} | {raster.stat().st_size / 1e6:.1f} MB | {our_time:.2f} s "
                f"| {their_time:.2f} s | {our_time / their_time:.2f} "
                f"| {max(m for _, m in our_runs):.0f} MB | {max(m for _, m in their_runs):.0f} MB |"
            )


if __name__ == "__main__":
    main()
