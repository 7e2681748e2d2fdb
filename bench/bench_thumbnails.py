"""Benchmark page thumbnails: drawn in the renderer children against PDFium in this process.

    .venv/bin/python bench/bench_thumbnails.py [--pages N] [--runs R]

Makes an N-page PDF (text and a gradient on every page, like a scanned or typeset document),
then draws every page's thumbnail as the portal does (thumbnail_render: a child process draws
it and the PNG is written to the cache), and, as the reference in the same run, with PDFium
called in this process under one lock as before the children (the same drawing code and the
same PNG). Prints the best of R runs per page for each, their ratio, and what the first
thumbnail of a web process costs (starting its child).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "printmgmt.settings")

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

OWNER = 1  # one user's document: its pages are drawn one at a time


def make_pdf(path: Path, pages: int) -> None:
    canvas = Canvas(str(path), pagesize=A4, invariant=True)
    for number in range(1, pages + 1):
        for step in range(64):
            canvas.setFillGray(step / 64)
            canvas.rect(72, 300 + step * 4, 450, 4, stroke=0, fill=1)
        canvas.setFont("Helvetica", 11)
        for line in range(40):
            canvas.drawString(72, 780 - line * 12, f"Page {number}, line {line}: " + "text " * 12)
        canvas.showPage()
    canvas.save()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-thumbnails-") as scratch:
        data, spool = Path(scratch) / "data", Path(scratch) / "spool"
        spool.mkdir(parents=True)
        os.environ["PRINTMGMT_DATA_DIR"] = str(data)
        os.environ["SPOOL_DIR"] = str(spool)
        import django

        django.setup()
        from apps.portal.thumbnail_renderer import render
        from apps.portal.thumbnails import thumbnail_dir, thumbnail_render

        name = f"{1:032x}.pdf"
        make_pdf(spool / name, arguments.pages)
        lock = threading.Lock()

        def in_process() -> None:
            for page in range(1, arguments.pages + 1):
                with lock:
                    image = render(str(spool / name), page)
                image.save(Path(scratch) / f"{page}.png", format="PNG", optimize=True)

        def in_children() -> None:
            shutil.rmtree(thumbnail_dir(), ignore_errors=True)
            for page in range(1, arguments.pages + 1):
                thumbnail_render(name, page, OWNER)

        started = time.perf_counter()
        thumbnail_render(name, 1, OWNER)
        first = time.perf_counter() - started
        best: dict[str, float] = {}
        for _run in range(arguments.runs):
            for label, draw in (("in process", in_process), ("children", in_children)):
                started = time.perf_counter()
                draw()
                per_page = (time.perf_counter() - started) / arguments.pages
                best[label] = min(best.get(label, per_page), per_page)
    print(f"{arguments.pages} pages, best of {arguments.runs} runs, per thumbnail:")
    for label, seconds in best.items():
        print(f"  {label:<11} {seconds * 1000:7.2f} ms")
    print(f"  ratio children / in process: {best['children'] / best['in process']:.2f}")
    print(f"  first thumbnail of a process (starts its child): {first * 1000:.0f} ms")


if __name__ == "__main__":
    main()
