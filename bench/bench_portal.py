"""Benchmark the staff inbox page under load, against a trivial page of the same server.

    .venv/bin/python bench/bench_portal.py [--users N] [--jobs N] [--clients C] [--seconds S]
                                           [--workers N]

Starts its own throwaway PostgreSQL and Redis (as scripts/test.sh does) and serves the product
the way the README's Production section says: PostgreSQL, CACHE_URL on Redis, `manage.py serve`
with one process per CPU (`--workers N` overrides, e.g. 1 for the one-process figures) and
WEB_THREADS threads each (the environment's, else the default). It fills the database with many
users and jobs (1,000,000 jobs of 10,000 users by default), gives one user 200 held jobs, then
lets C concurrent clients (default 50) load that user's inbox (its first page: 50 jobs and the
count of all 200) for S seconds, and then the log-in page (a template render without a database
query) for as long. The server runs with its defaults, so after the first load the inbox is the
page its process kept (INBOX_PAGE_CACHE_MB). Prints both throughputs, their ratio (target
≥ 0.5) and the inbox's p99 latency (target < 300 ms), for reference the inbox's latency with one
client alone (its own cost, without waiting behind the other clients), then the same inbox from
a second server started with INBOX_PAGE_CACHE_MB=0, which builds every page, and the CPU the load
client itself used per request (it shares the machine with the server). All figures come from
the same run on the same machine, so the ratio stays meaningful on other hardware.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from printmgmt.config import Env, web_workers  # noqa: E402

HELD_JOBS = 200
BENCH_USER = "bench"
BENCH_PASSWORD = "bench password long enough"  # noqa: S105 - a throwaway database
BATCH = 20_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"bench: {url} did not answer within {seconds}s")


# ---------------------------------------------------------------- PostgreSQL


class Postgres:
    """A throwaway cluster on a free loopback port, owned by `postgres` when run as root."""

    def __init__(self, workdir: Path) -> None:
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name)
        if not versions:
            raise SystemExit("bench: PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = versions[-1]
        self.dir = workdir / "pg"
        self.port = free_port()
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        self.dir.mkdir(parents=True)
        if self.as_pg:
            shutil.chown(self.dir, "postgres")
        log = (self.dir.parent / "postgres.log").open("wb")
        subprocess.run(
            [*self.as_pg, str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres",
             "-A", "trust", "-E", "UTF8", "--no-sync"],
            check=True, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.process = subprocess.Popen(
            [*self.as_pg, str(self.bin / "postgres"), "-D", str(self.dir / "data"),
             "-h", "127.0.0.1", "-p", str(self.port), "-k", str(self.dir),
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while subprocess.run(
            [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
            capture_output=True,
        ).returncode:
            if time.monotonic() > deadline:
                raise SystemExit("bench: PostgreSQL did not start")
            time.sleep(0.2)
        subprocess.run(
            [*self.as_pg, str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
             "-U", "postgres", "printmgmt"],
            check=True,
        )  # fmt: skip
        return f"postgresql://postgres@127.0.0.1:{self.port}/printmgmt"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


class Redis:
    """A throwaway Redis on a free loopback port: the production cache (CACHE_URL)."""

    def __init__(self, workdir: Path) -> None:
        if shutil.which("redis-server") is None:
            raise SystemExit("bench: Redis is not installed (apt-get install redis-server)")
        self.dir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=(self.dir / "redis.log").open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return f"redis://127.0.0.1:{self.port}/0"
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("bench: Redis did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


# ---------------------------------------------------------------- data


def generate(users: int, jobs: int) -> None:
    """Runs in a child process with the bench settings: users, jobs, and the bench user's
    held jobs, written with bulk inserts."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "printmgmt.settings")
    django.setup()
    from datetime import timedelta

    from django.utils import timezone

    from apps.accounts.models import User
    from apps.accounts.roles import STAFF
    from apps.accounts.services import user_create
    from apps.jobs.choices import JobSource, JobState
    from apps.jobs.models import Job

    started = time.monotonic()
    bench = user_create(BENCH_USER, BENCH_PASSWORD, role=STAFF)
    User.objects.bulk_create(
        # "!" is Django's unusable password: these users never log in.
        (User(username=f"user{n:06d}", password="!") for n in range(users - 1)),  # noqa: S106
        batch_size=BATCH,
    )
    owners = list(User.objects.values_list("pk", flat=True))
    expires = timezone.now() + timedelta(hours=72)
    ended = (JobState.COMPLETED, JobState.COMPLETED, JobState.COMPLETED, JobState.FAILED,
             JobState.CANCELED, JobState.EXPIRED)  # fmt: skip
    for start in range(0, jobs, BATCH):
        Job.objects.bulk_create(
            Job(
                owner_id=owners[number % len(owners)],
                title=f"document {number}",
                source=JobSource.WEB,
                document_name=f"{secrets.token_hex(16)}.pdf",
                page_count=1 + number % 40,
                state=ended[number % len(ended)],
                expires_at=expires,
            )
            for number in range(start, min(start + BATCH, jobs))
        )
    Job.objects.bulk_create(
        Job(
            owner=bench,
            title=f"held {number}",
            source=JobSource.IPP if number % 3 else JobSource.WEB,
            document_name=f"{secrets.token_hex(16)}.pdf",
            page_count=1 + number % 12,
            expires_at=expires,
        )
        for number in range(HELD_JOBS)
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"generated {users:,} users and {jobs + HELD_JOBS:,} jobs "
        f"in {time.monotonic() - started:.0f} s"
    )


# ---------------------------------------------------------------- load


@dataclass
class Run:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: int
    client_cpu_seconds: float

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<10} {self.throughput:8.1f} req/s  "
            f"p50 {self.percentile(0.5):6.1f} ms  p99 {self.percentile(0.99):6.1f} ms  "
            f"mean {statistics.fmean(self.latencies) * 1000:6.1f} ms  errors {self.errors}  "
            f"client CPU {self.client_cpu_seconds / self.requests * 1000:4.1f} ms/req"
        )


async def logged_in_cookies(base_url: str) -> httpx.Cookies:
    async with httpx.AsyncClient(base_url=base_url) as client:
        await client.get("/login/")
        response = await client.post(
            "/login/",
            data={
                "username": BENCH_USER,
                "password": BENCH_PASSWORD,
                "csrfmiddlewaretoken": client.cookies["csrftoken"],
            },
            headers={"Referer": f"{base_url}/login/"},
        )
        if response.status_code != 302:
            raise SystemExit(f"bench: log-in failed ({response.status_code})")
        return client.cookies


async def load(
    base_url: str, path: str, cookies: httpx.Cookies, clients: int, seconds: float, expect: str
) -> Run:
    """C clients, each on its own kept-alive connection, send `cookies` and ask for `path`
    again as soon as the answer is read. aiohttp (a C HTTP parser) rather than httpx: the
    client shares the 2 cores with the server, and httpx spent about 4 ms of CPU per request."""
    latencies: list[float] = []
    errors = 0
    headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
    expected = expect.encode()
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(
        base_url, connector=connector, cookie_jar=aiohttp.DummyCookieJar(), headers=headers,
        timeout=aiohttp.ClientTimeout(total=30),
    ) as session:  # fmt: skip

        async def one_client(until: float, record: bool) -> None:
            nonlocal errors
            while time.monotonic() < until:
                began = time.monotonic()
                async with session.get(path) as response:
                    body = await response.read()
                if response.status != 200 or expected not in body:
                    errors += 1
                if record:
                    latencies.append(time.monotonic() - began)

        warm_until = time.monotonic() + 2
        await asyncio.gather(*(one_client(warm_until, False) for _ in range(clients)))
        errors = 0
        began, cpu_began = time.monotonic(), time.process_time()
        until = began + seconds
        await asyncio.gather(*(one_client(until, True) for _ in range(clients)))
        elapsed, client_cpu = time.monotonic() - began, time.process_time() - cpu_began
    return Run(path, len(latencies), elapsed, latencies, errors, client_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument(
        "--workers",
        type=int,
        default=web_workers(Env(os.environ)),
        help="web processes (default: WEB_WORKERS, else one per CPU, as make run serves)",
    )
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.users, args.jobs)
        return

    workdir = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    workdir.chmod(0o755)
    postgres = Postgres(workdir)
    redis = Redis(workdir)
    server: subprocess.Popen[bytes] | None = None
    try:
        env = dict(
            os.environ,
            DATABASE_URL=postgres.start(),
            CACHE_URL=redis.start(),
            PRINTMGMT_DATA_DIR=str(workdir / "var"),
            SECRET_KEY=secrets.token_hex(32),
            LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="printmgmt.settings",
            PYTHONPATH=str(ROOT),
        )
        python = sys.executable
        subprocess.run([python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [python, __file__, "--generate", "--users", str(args.users), "--jobs", str(args.jobs)],
            cwd=ROOT, env=env, check=True,
        )  # fmt: skip

        def serve(extra: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
            port = free_port()
            process = subprocess.Popen(
                [python, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(args.workers)],
                cwd=ROOT, env={**env, **extra},
            )  # fmt: skip
            wait_for(f"http://127.0.0.1:{port}/login/", 30)
            return process, f"http://127.0.0.1:{port}"

        server, base_url = serve({})
        cookies = asyncio.run(logged_in_cookies(base_url))
        # The log-in page is asked for as a returning visitor would: with the CSRF cookie only.
        visitor = httpx.Cookies({"csrftoken": cookies["csrftoken"]})
        inbox = asyncio.run(
            load(base_url, "/inbox/", cookies, args.clients, args.seconds, "held 199")
        )
        trivial = asyncio.run(
            load(base_url, "/login/", visitor, args.clients, args.seconds, "Username")
        )
        alone = asyncio.run(load(base_url, "/inbox/", cookies, 1, args.seconds / 3, "held 199"))
        server.terminate()
        server.wait(timeout=30)
        # For reference: the same inbox built for every request (no kept pages).
        server, base_url = serve({"INBOX_PAGE_CACHE_MB": "0"})
        cookies = asyncio.run(logged_in_cookies(base_url))
        built = asyncio.run(
            load(base_url, "/inbox/", cookies, args.clients, args.seconds, "held 199")
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        postgres.stop()
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    processes = "one web process" if args.workers == 1 else f"{args.workers} web processes"
    print(f"{args.clients} concurrent clients, {args.seconds:.0f} s each, {processes}")
    print(trivial.line())
    print(inbox.line())
    print(f"{alone.line()}  (one client alone: the page's own time, without queueing)")
    built.name = "/inbox/ built"
    print(f"{built.line()}  (INBOX_PAGE_CACHE_MB=0: every page built, for reference)")
    ratio = inbox.throughput / trivial.throughput
    p99 = inbox.percentile(0.99)
    verdict = "ok" if ratio >= 0.5 else "MISSED"
    print(f"inbox/trivial throughput ratio {ratio:.2f} (target ≥ 0.5): {verdict}")
    print(f"inbox p99 {p99:.0f} ms (target < 300 ms): {'ok' if p99 < 300 else 'MISSED'}")


if __name__ == "__main__":
    main()
