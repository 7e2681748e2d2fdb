"""Page thumbnails are rendered by PDFium, which crashes the process when two threads call it
at once; a web process renders them from several threads."""

from __future__ import annotations

import os
from pathlib import Path

from tests.children import run_django
from tests.pdfs import make_pdf

DOCUMENTS = 120
RENDER_FROM_THREADS = """
import sys
from concurrent.futures import ThreadPoolExecutor

import django

django.setup()
from apps.portal.thumbnails import thumbnail_path, thumbnail_render

names = sys.argv[1:]
work = [(name, page) for name in names for page in range(1, 6)]
with ThreadPoolExecutor(max_workers=8) as pool:
    paths = list(pool.map(lambda item: thumbnail_render(*item), work))
assert all(path.stat().st_size > 0 for path in paths)
assert len({thumbnail_path(*item) for item in work}) == len(work)
"""


def test_thumbnails_rendered_from_many_threads_at_once_do_not_crash(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    names = []
    # Enough renders that unguarded PDFium calls overlap: 600 crashed it every time here.
    for number in range(DOCUMENTS):
        name = f"{number:032x}.pdf"
        make_pdf(spool / name, 5)
        names.append(name)
    environment = {
        **os.environ,
        "PRINTMGMT_DATA_DIR": str(tmp_path / "data"),
        "SPOOL_DIR": str(spool),
    }
    result = run_django(RENDER_FROM_THREADS, *names, environment=environment)
    # A crash inside PDFium ends the process with a signal (a negative return code).
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(list((tmp_path / "data" / "thumbnails").glob("*.png"))) == DOCUMENTS * 5
