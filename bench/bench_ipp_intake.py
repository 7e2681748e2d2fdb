"""Benchmark of Print-Job intake: our IPP printer against a private cupsd, in one run.

    .venv/bin/python bench/bench_ipp_intake.py [--jobs N] [--clients C] [--pdf-mb M]
        [--rounds R] [--workers W]

1. Makes a PDF of about M MB (default 1) that does not compress (a noise image).
2. Starts the product with `manage.py serve` (W web processes, default 1; `make run` starts
   one per CPU) on a throwaway SQLite database in a temporary data directory, migrated,
   with one user and a printing token; and a private cupsd with a driverless queue (pointing
   at our printer, never reached: every job is held there with job-hold-until=indefinite).
3. The same client code (httpx, C connections, keep-alive) sends N Print-Jobs (default 200)
   of the same bytes to each server, alternately, R times (default 3), so that a change in
   the machine's load (other processes) falls on both; cupsd's held jobs are purged between
   rounds (its MaxJobs is 500). Prints jobs per second for both, the ratio per round and its
   median (target: ours at least as fast as cupsd), the CPU time per job of each server and
   of the clients, and our server's peak resident memory after a warm-up and at the end
   (target: flat, the documents are streamed to disk).

Our server checks credentials (Basic, the user's printing token) on every request; cupsd's
queue asks for none (cupsd checks Basic passwords through PAM, a process per request).
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from apps.printers.peers import Cupsd, free_port, run_cupsd  # noqa: E402
from printmgmt.ipp import Attribute, AttributeGroup, GroupTag, Message, Operation, decode, encode  # noqa: E402

USERNAME = "bench"
WARM_UP_JOBS = 16


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time these processes have used."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def client_cpu_seconds() -> float:
    """CPU time of this process: the clients' threads, when a measurement runs."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cupsd_pids(cupsd: Cupsd) -> list[int]:
    """The cupsd process (found by its configuration file in its private directory)."""
    marker = str(cupsd.directory / "cupsd.conf").encode()
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            arguments = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue  # a process that just ended
        if arguments[0].endswith(b"cupsd") and marker in arguments:
            pids.append(int(cmdline.parent.name))
    if not pids:
        raise RuntimeError("cupsd's process not found")
    return pids


def purge_cupsd_jobs(cupsd: Cupsd, queue: str) -> None:
    subprocess.run(
        ["cancel", "-a", "-x", queue], env=cupsd.environment, check=True, capture_output=True
    )


def make_pdf(path: Path, megabytes: float) -> Path:
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    side = int((megabytes * 1024 * 1024 / 3) ** 0.5)
    noise = Image.frombytes("RGB", (side, side), random.Random(7).randbytes(side * side * 3))
    canvas = Canvas(str(path), pagesize=A4)
    canvas.drawImage(ImageReader(noise), 36, 200, 520, 520)
    canvas.showPage()
    canvas.save()
    return path


def print_job_body(uri: str, pdf: bytes) -> bytes:
    request = Message.request(
        Operation.PRINT_JOB,
        1,
        target_uri=uri,
        operation_attributes=[
            Attribute.name_("requesting-user-name", USERNAME),
            Attribute.name_("job-name", "bench"),
            Attribute.mime_media_type("document-format", "application/pdf"),
        ],
        groups=[AttributeGroup(GroupTag.JOB, (Attribute.keyword("job-hold-until", "indefinite"),))],
    )
    return encode(request) + pdf


class Product:
    """The product served by `manage.py serve` on a throwaway data directory."""

    def __init__(self, data_dir: Path, workers: int) -> None:
        self.data_dir = data_dir
        self.workers = workers
        self.port = free_port()
        self.env = {
            k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")
        }
        self.env.update(
            PRINTMGMT_DATA_DIR=str(data_dir), MAX_DOCUMENT_MB="100", LOG_LEVEL="WARNING"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def _manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    def prepare(self) -> str:
        """Migrate and create the user; returns the user's printing token."""
        self._manage("migrate", "--skip-checks", "-v0")
        script = (
            "from apps.accounts.services import user_create\n"
            "from apps.accounts.roles import STAFF\n"
            "from apps.ippserver.services import printing_token_issue\n"
            f"print(printing_token_issue(user_create('{USERNAME}', 'bench password 123',"
            " role=STAFF)))\n"
        )
        return self._manage("shell", "-c", script).strip().splitlines()[-1]

    def start(self) -> None:
        log = (self.data_dir / "server.log").open("wb")
        command = [sys.executable, "manage.py", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--workers", str(self.workers)]
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.post(self.url, content=b"", headers={"content-type": "application/ipp"})
                return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ipp/print"

    def processes(self) -> list[int]:
        """The serving processes: the web processes `serve` started (not its resource tracker)."""
        assert self.process is not None
        workers = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                command_line = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue  # a process that just ended
            if int(fields[1]) == self.process.pid and b"spawn_main" in command_line:
                workers.append(int(stat.parent.name))
        return workers

    def peak_rss_mb(self) -> float:
        """The largest peak resident set of the serving processes."""
        peaks = []
        for pid in self.processes():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return max(peaks)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)


def run_clients(
    url: str, body: bytes, jobs: int, clients: int, headers: dict[str, str]
) -> tuple[float, int]:
    """Send `jobs` Print-Jobs over `clients` connections; (seconds, failures)."""
    remaining = iter(range(jobs))
    lock = threading.Lock()
    failures = 0

    def client() -> None:
        nonlocal failures
        with httpx.Client(
            timeout=120, headers={"content-type": "application/ipp", **headers}
        ) as http:
            while True:
                with lock:
                    if next(remaining, None) is None:
                        return
                response = http.post(url, content=body)
                ok = response.status_code == 200 and decode(response.content).status_code < 0x100
                if not ok:
                    with lock:
                        failures += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    return time.perf_counter() - started, failures


@dataclass(frozen=True)
class Measurement:
    rate: float  # jobs per second
    server_cpu_ms: float  # per job
    client_cpu_ms: float  # per job


def measure(
    url: str, body: bytes, jobs: int, clients: int, headers: dict[str, str], pids: list[int]
) -> Measurement:
    server_before, client_before = cpu_seconds(pids), client_cpu_seconds()
    seconds, failures = run_clients(url, body, jobs, clients, headers)
    if failures:
        raise SystemExit(f"{url}: {failures} of {jobs} jobs failed")
    return Measurement(
        rate=jobs / seconds,
        server_cpu_ms=(cpu_seconds(pids) - server_before) / jobs * 1000,
        client_cpu_ms=(client_cpu_seconds() - client_before) / jobs * 1000,
    )


def describe(name: str, measurement: Measurement) -> str:
    return (
        f"{name} {measurement.rate:6.1f} jobs/s "
        f"(server {measurement.server_cpu_ms:.1f} ms CPU/job, "
        f"clients {measurement.client_cpu_ms:.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--pdf-mb", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="web processes")
    args = parser.parse_args()
    if args.jobs + WARM_UP_JOBS > 500:
        parser.error("cupsd keeps at most 500 jobs: --jobs must be at most 484")

    with (
        tempfile.TemporaryDirectory(prefix="bench-intake-") as temp,
        run_cupsd(with_auth=False) as cupsd,
    ):
        work = Path(temp)
        pdf = make_pdf(work / "bench.pdf", args.pdf_mb).read_bytes()
        print(
            f"document: {len(pdf) / 1024 / 1024:.2f} MB PDF, {args.jobs} jobs, "
            f"{args.clients} clients, {args.workers} web process(es)"
        )
        product = Product(work / "var", args.workers)
        token = product.prepare()
        product.start()
        try:
            ours_body = print_job_body(f"ipp://127.0.0.1:{product.port}/ipp/print", pdf)
            auth = base64.b64encode(f"{USERNAME}:{token}".encode()).decode()
            headers = {"authorization": f"Basic {auth}"}
            queue_uri = cupsd.add_queue(
                "held", product.url.replace("http://", "ipp://"), model="everywhere"
            )
            queue_url = queue_uri.replace("ipp://", "http://")
            cups_body = print_job_body(queue_uri, pdf)
            pids = cupsd_pids(cupsd)
            # Connections, caches, imports, cupsd's first spool files.
            run_clients(product.url, ours_body, WARM_UP_JOBS, args.clients, headers)
            run_clients(queue_url, cups_body, WARM_UP_JOBS, args.clients, {})
            purge_cupsd_jobs(cupsd, "held")
            rss_start = product.peak_rss_mb()
            ratios = []
            for number in range(1, args.rounds + 1):
                ours = measure(
                    product.url, ours_body, args.jobs, args.clients, headers, product.processes()
                )
                cups = measure(queue_url, cups_body, args.jobs, args.clients, {}, pids)
                purge_cupsd_jobs(cupsd, "held")
                ratios.append(ours.rate / cups.rate)
                print(
                    f"round {number}: {describe('product', ours)}; {describe('cupsd', cups)}; "
                    f"ratio {ratios[-1]:.2f}"
                )
            rss_end = product.peak_rss_mb()
        finally:
            product.stop()
    print(f"ratio product / cupsd, median of {args.rounds}: {statistics.median(ratios):.2f}")
    print("(target >= 1)")
    print(f"product peak RSS: {rss_start:.0f} MB after warm-up, {rss_end:.0f} MB at the end")


if __name__ == "__main__":
    main()
