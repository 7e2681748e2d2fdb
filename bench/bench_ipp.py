"""Benchmark of the IPP layer against real peers started by this script.

    .venv/bin/python bench/bench_ipp.py [--rounds N] [--upload-mb M]

1. Starts ippeveprinter (stock, and the finisher from the tests) and a private cupsd with
   a queue, and captures their Get-Printer-Attributes answers.
2. Times our decode and encode and pyipp's parser (pyipp.parser.parse) on the same bytes
   in this run; target: decode at least 5x as fast as pyipp.
3. Sends an M MB file (default 100) to ippeveprinter with our client in a child process and
   reports its peak memory (tracemalloc peak and growth of the maximum resident set);
   target: below 50 MB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import timeit
import tracemalloc
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from apps.printers.peers import run_cupsd, run_ippeveprinter  # noqa: E402
from printmgmt.ipp import Attribute, Operation, decode, encode  # noqa: E402
from printmgmt.ipp.client import IppClient  # noqa: E402

DECODE_TARGET = 5.0
MEMORY_TARGET_MB = 50.0


def capture_printer_attributes(uri: str) -> bytes:
    with IppClient(uri) as client:
        request = client.new_request(
            Operation.GET_PRINTER_ATTRIBUTES,
            operation_attributes=[Attribute.keyword("requested-attributes", "all")],
        )
        return client.post(encode(request))


def best_time(function: Callable[[], object], rounds: int) -> float:
    """Seconds per call, best of five batches (the least disturbed by other processes)."""
    return min(timeit.repeat(function, number=rounds, repeat=5)) / rounds


def compare_codecs(name: str, raw: bytes, rounds: int) -> None:
    from pyipp.parser import parse as pyipp_parse

    message = decode(raw)
    assert encode(message) == raw, f"{name}: round trip is not byte-exact"
    ours_decode = best_time(lambda: decode(raw), rounds)
    ours_encode = best_time(lambda: encode(message), rounds)
    try:
        pyipp_decode: float | None = best_time(lambda: pyipp_parse(raw), rounds)
    except Exception as error:  # pyipp's own failures are a result here, not a crash
        pyipp_decode = None
        pyipp_failure = f"{type(error).__name__}: {error}"
    attributes = sum(len(group.attributes) for group in message.groups)
    print(f"\n{name}: {len(raw)} bytes, {attributes} attributes")
    print(f"  our decode   {ours_decode * 1e6:9.1f} µs")
    print(f"  our encode   {ours_encode * 1e6:9.1f} µs")
    if pyipp_decode is None:
        print(f"  pyipp parse  fails: {pyipp_failure}")
        return
    ratio = pyipp_decode / ours_decode
    verdict = "meets" if ratio >= DECODE_TARGET else "MISSES"
    print(f"  pyipp parse  {pyipp_decode * 1e6:9.1f} µs")
    print(f"  decode speed-up over pyipp: {ratio:.1f}x ({verdict} the {DECODE_TARGET:.0f}x target)")


def measure_upload(uri: str, document: Path) -> None:
    """Child process: print ``document`` and report memory as JSON on stdout."""
    with IppClient(uri, timeout=300) as client:
        client.get_printer_attributes(["printer-state"])  # connection and imports warmed up
        baseline_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        started = time.perf_counter()
        job = client.print_job(document, document_format="application/pdf")
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "job_id": job.job_id,
                "seconds": elapsed,
                "tracemalloc_peak_mb": peak / 2**20,
                "max_rss_growth_mb": (rss_kb - baseline_rss_kb) / 1024,
                "max_rss_mb": rss_kb / 1024,
            }
        )
    )


def upload_benchmark(uri: str, size_mb: int, directory: Path) -> None:
    document = directory / "big.bin"
    with document.open("wb") as handle:
        # A PDF header, then a sparse hole: quick to make, read back as zeros. The
        # printer's print command is /bin/true, so the content is never interpreted.
        handle.write(b"%PDF-1.7\n")
        handle.truncate(size_mb * 2**20)
    child = subprocess.run(
        [sys.executable, __file__, "--measure-upload", uri, str(document)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if child.returncode != 0:
        raise SystemExit(f"upload measurement failed:\n{child.stderr}")
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    document.unlink()
    peak = max(figures["tracemalloc_peak_mb"], figures["max_rss_growth_mb"])
    verdict = "meets" if peak < MEMORY_TARGET_MB else "MISSES"
    print(f"\nupload of {size_mb} MB to ippeveprinter (job {figures['job_id']}):")
    print(f"  time                      {figures['seconds']:8.2f} s")
    print(f"  tracemalloc peak          {figures['tracemalloc_peak_mb']:8.2f} MB")
    print(f"  max RSS growth            {figures['max_rss_growth_mb']:8.2f} MB")
    print(f"  max RSS of the process    {figures['max_rss_mb']:8.2f} MB")
    print(f"  peak memory for the upload {verdict} the {MEMORY_TARGET_MB:.0f} MB target")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="calls per timing batch")
    parser.add_argument("--upload-mb", type=int, default=100)
    parser.add_argument(
        "--measure-upload", nargs=2, metavar=("URI", "FILE"), help=argparse.SUPPRESS
    )
    arguments = parser.parse_args()
    if arguments.measure_upload:
        uri, document = arguments.measure_upload
        measure_upload(uri, Path(document))
        return

    print(f"Python {sys.version.split()[0]}, {arguments.rounds} calls per batch, best of 5")
    with (
        run_ippeveprinter(name="Stock", attributes=None) as stock,
        run_ippeveprinter() as finisher,
        run_cupsd(with_auth=False) as cupsd,
    ):
        queue = cupsd.add_queue("bench", stock.uri, model="everywhere")
        answers = {
            "ippeveprinter (stock) Get-Printer-Attributes": capture_printer_attributes(stock.uri),
            "ippeveprinter (finisher) Get-Printer-Attributes": capture_printer_attributes(
                finisher.uri
            ),
            "cupsd queue Get-Printer-Attributes": capture_printer_attributes(queue),
        }
        for name, raw in answers.items():
            compare_codecs(name, raw, arguments.rounds)
        upload_benchmark(finisher.uri, arguments.upload_mb, finisher.directory)


if __name__ == "__main__":
    main()
