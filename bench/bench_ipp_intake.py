"""Benchmark of Print-Job intake: our IPP printer against a private cupsd, in one run.

    .venv/bin/python bench/bench_ipp_intake.py [--jobs N] [--clients C] [--pdf-mb M]

1. Makes a PDF of about M MB (default 1) that does not compress (a noise image).
2. Starts the product under uvicorn (one process, as `make run` serves it) on a throwaway
   SQLite database in a temporary data directory, migrated, with one user and a printing
   token; and a private cupsd with a driverless queue (pointing at our printer, never
   reached: every job is held there with job-hold-until=indefinite).
3. C clients (default 8) send N Print-Jobs (default 200) to each, with the same bytes;
   prints jobs per second for both and the ratio (target: ours at least as fast as cupsd),
   and our server's peak resident memory after a warm-up and at the end (target: flat, the
   documents are streamed to disk).
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from apps.printers.peers import free_port, run_cupsd  # noqa: E402
from printmgmt.ipp import Attribute, AttributeGroup, GroupTag, Message, Operation, decode, encode  # noqa: E402

USERNAME = "bench"
WARM_UP_JOBS = 16


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
    """The product under uvicorn on a throwaway data directory."""

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
        log = (self.data_dir / "uvicorn.log").open("wb")
        command = [sys.executable, "-m", "uvicorn", "printmgmt.asgi:application"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        command += ["--workers", str(self.workers)]
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
        raise RuntimeError("uvicorn did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ipp/print"

    def _processes(self) -> list[int]:
        """The serving processes: uvicorn itself, or its workers when there are several."""
        assert self.process is not None
        if self.workers == 1:
            return [self.process.pid]
        workers = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a process that just ended
            if int(fields[1]) == self.process.pid:
                workers.append(int(stat.parent.name))
        return workers

    def peak_rss_mb(self) -> float:
        """The largest peak resident set of the serving processes."""
        peaks = []
        for pid in self._processes():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return max(peaks)

    def cpu_seconds(self) -> float:
        """User and system CPU time the serving processes have used."""
        total = 0
        for pid in self._processes():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

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


def measure(
    name: str, url: str, body: bytes, jobs: int, clients: int, headers: dict[str, str]
) -> float:
    run_clients(url, body, WARM_UP_JOBS, clients, headers)  # connections, caches, imports
    seconds, failures = run_clients(url, body, jobs, clients, headers)
    rate = jobs / seconds
    print(f"{name:>8}: {jobs} jobs in {seconds:6.2f} s = {rate:6.1f} jobs/s, {failures} failed")
    if failures:
        raise SystemExit(f"{name}: {failures} jobs failed")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--pdf-mb", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-intake-") as temp:
        work = Path(temp)
        pdf = make_pdf(work / "bench.pdf", args.pdf_mb).read_bytes()
        print(
            f"document: {len(pdf) / 1024 / 1024:.2f} MB PDF, {args.clients} clients, "
            f"{args.workers} uvicorn worker(s)"
        )
        product = Product(work / "var", args.workers)
        token = product.prepare()
        product.start()
        auth = base64.b64encode(f"{USERNAME}:{token}".encode()).decode()
        try:
            ours_body = print_job_body(f"ipp://127.0.0.1:{product.port}/ipp/print", pdf)
            headers = {"authorization": f"Basic {auth}"}
            run_clients(product.url, ours_body, WARM_UP_JOBS, args.clients, headers)
            rss_start = product.peak_rss_mb()
            cpu_start = product.cpu_seconds()
            ours = measure("product", product.url, ours_body, args.jobs, args.clients, headers)
            cpu_per_job_ms = (product.cpu_seconds() - cpu_start) / args.jobs * 1000
            rss_end = product.peak_rss_mb()
            with run_cupsd(with_auth=False) as cupsd:
                queue_uri = cupsd.add_queue(
                    "held", f"ipp://127.0.0.1:{product.port}/ipp/print", model="everywhere"
                )
                queue_url = queue_uri.replace("ipp://", "http://")
                cups = measure(
                    "cupsd", queue_url, print_job_body(queue_uri, pdf), args.jobs, args.clients, {}
                )
        finally:
            product.stop()
    print(f"   ratio: product / cupsd = {ours / cups:.2f} (target >= 1)")
    print(f"product CPU: {cpu_per_job_ms:.1f} ms per job (after warm-up)")
    print(f"product peak RSS: {rss_start:.0f} MB after warm-up, {rss_end:.0f} MB at the end")


if __name__ == "__main__":
    main()
