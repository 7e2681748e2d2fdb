"""Benchmark what converting text and raster in a limited child costs against in this process.

    .venv/bin/python bench/bench_conversion_child.py [--raster-pages N] [--runs R]

Converts a one-page letter (plain text) and an N-page A4 raster (Apple and PWG, rendered by
Ghostscript at 300 dpi as in bench_raster.py) as the product does, each in its child under
limits (apps.jobs.convert.text_to_pdf, raster_document_to_pdf), and, as the reference in the
same run, by the same code called in this process as before the children (fonts already
loaded, as in a web process that has converted a text before), the two in turns. Prints the
best of R runs of each, wall and CPU time (the CPU time counts the child's, and is what
the load of others on the machine changes least), their ratios and differences.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Literal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "printmgmt.settings")

LETTER = (
    "Dear all,\n\n"
    + "The meeting moves to Friday, 10:00, room 2.14. Please bring the figures for the third "
    "quarter and your questions about the new printing budget.\n" * 8 + "\nRegards,\nAnna\n"
)


def _cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def best_of_alternating(
    runs: int, first: Callable[[], object], second: Callable[[], object]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The best wall and CPU time of each over `runs` runs, taken in turns so that both meet
    the same load."""
    walls: tuple[list[float], list[float]] = ([], [])
    cpus: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for which, convert in enumerate((first, second)):
            start, cpu_start = time.perf_counter(), _cpu_seconds()
            convert()
            walls[which].append(time.perf_counter() - start)
            cpus[which].append(_cpu_seconds() - cpu_start)
    return (min(walls[0]), min(cpus[0])), (min(walls[1]), min(cpus[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raster-pages", type=int, default=20)
    parser.add_argument("--runs", type=int, default=10)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-conversion-") as scratch:
        directory = Path(scratch)
        os.environ["PRINTMGMT_DATA_DIR"] = str(directory / "data")
        import django

        django.setup()
        from bench_raster import make_pdf, render  # beside this script

        from apps.jobs import text_pdf
        from apps.jobs.convert import raster_document_to_pdf, text_to_pdf
        from printmgmt.raster import Limits, raster_to_pdf

        text = directory / "letter.txt"
        text.write_text(LETTER)
        target = directory / "out.pdf"
        text_pdf.text_to_pdf(text, target, 2000)  # the fonts, loaded once per process
        cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
            (
                "text, 1 page",
                lambda: text_pdf.text_to_pdf(text, target, 2000),
                lambda: text_to_pdf(text, target),
            )
        ]
        make_pdf(directory / "doc.pdf", arguments.raster_pages)
        rasters: tuple[tuple[str, Literal["urf", "pwg"], str], ...] = (
            ("urf", "urf", "image/urf"),
            ("pwgraster", "pwg", "image/pwg-raster"),
        )
        for device, document_format, name in rasters:
            raster = directory / f"doc.{document_format}"
            render(directory / "doc.pdf", raster, device, 300)
            cases.append(
                (
                    f"{document_format} raster, {arguments.raster_pages} pages",
                    partial(raster_to_pdf, raster, target, document_format, Limits(max_pages=2000)),
                    partial(raster_document_to_pdf, raster, target, name),
                )
            )
        print(f"best of {arguments.runs}; wall time (CPU time, with the child's)")
        print("| document | in this process | in a limited child | ratio | difference |")
        print("|---|---|---|---|---|")
        for label, in_process, in_child in cases:
            before, after = best_of_alternating(arguments.runs, in_process, in_child)
            print(
                f"| {label} | {before[0] * 1000:.1f} ms ({before[1] * 1000:.0f} ms) "
                f"| {after[0] * 1000:.1f} ms ({after[1] * 1000:.0f} ms) "
                f"| {after[0] / before[0]:.2f} ({after[1] / before[1]:.2f}) "
                f"| {(after[0] - before[0]) * 1000:+.0f} ms "
                f"({(after[1] - before[1]) * 1000:+.0f} ms) |"
            )


if __name__ == "__main__":
    main()
