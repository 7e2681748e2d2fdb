"""Exporting usage records: our CSV, XLSX and PDF against PostgreSQL's own COPY, in one run.

Starts a throwaway PostgreSQL cluster (as scripts/test.sh does), seeds ROWS demo usage records
with `seed_usage`, then runs every export in its own process, so that each process's peak
resident memory is that export's alone:

- COPY: `COPY (the records query) TO STDOUT WITH (FORMAT csv)` through psycopg into a file —
  the reference;
- CSV, XLSX, PDF: `apps.reports.exports.write_export` (what `manage.py report records`, the
  web download and the export task run).

Each export also runs on a tenth of the rows: flat memory means the same peak for both.

    .venv/bin/python bench/bench_reports.py [--rows 1000000] [--formats csv,xlsx,pdf]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAYS = 100


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def throwaway_postgres(work: Path) -> Iterator[str]:
    """A PostgreSQL cluster on a free loopback port, owned by the postgres user when we are
    root; yields its database URL and removes everything afterwards."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not bins:
        sys.exit("PostgreSQL is not installed: run scripts/test.sh once (it installs it)")
    pg_bin = bins[-1]
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data = work / "pg"
    data.mkdir()
    if as_pg:
        shutil.chown(work, "postgres")
        shutil.chown(data, "postgres")
    port = free_port()
    subprocess.run(
        [*as_pg, str(pg_bin / "initdb"), "-D", str(data / "data"), "-U", "postgres",
         "-A", "trust", "-E", "UTF8", "--no-sync"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = subprocess.Popen(
        [*as_pg, str(pg_bin / "postgres"), "-D", str(data / "data"), "-h", "127.0.0.1",
         "-p", str(port), "-k", str(data), "-c", "fsync=off", "-c", "synchronous_commit=off",
         "-c", "full_page_writes=off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(
            [*as_pg, str(pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(port),
             "-U", "postgres", "bench"],
            capture_output=True, check=False,
        ).returncode:  # fmt: skip
            if time.monotonic() > deadline:
                sys.exit("PostgreSQL did not start")
            time.sleep(0.3)
        yield f"postgresql://postgres@127.0.0.1:{port}/bench"
    finally:
        server.terminate()
        server.wait()


def child(mode: str, start: str, end: str, out: Path) -> None:
    """One export in this process; prints its time, size and this process's peak memory."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "printmgmt.settings")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from apps.reports.choices import ExportKind, ReportFormat
    from apps.reports.exports import write_export
    from apps.reports.selectors import record_values, report_request

    request = report_request(start, end)
    started = time.perf_counter()
    with out.open("wb") as file:
        if mode == "copy":
            sql, params = record_values(request).query.sql_with_params()
            with transaction.atomic(), connection.cursor() as cursor:
                zone = timezone.get_current_timezone_name()
                cursor.execute("SELECT set_config('TimeZone', %s, true)", [zone])
                with cursor.cursor.copy(
                    f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params
                ) as copy:
                    for data in copy:
                        file.write(data)
        else:
            write_export(ExportKind.RECORDS, ReportFormat(mode), request, file)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "bytes": out.stat().st_size}))


def run_child(env: dict[str, str], mode: str, start: str, end: str, out: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--start", start, "--end", end,
         "--out", str(out)],
        env=env, capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    if result.returncode:
        sys.exit(f"{mode} export failed:\n{result.stderr[-3000:]}")
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,xlsx,pdf")
    parser.add_argument("--child", choices=("copy", "csv", "xlsx", "pdf"), help=argparse.SUPPRESS)
    parser.add_argument("--start", help=argparse.SUPPRESS)
    parser.add_argument("--end", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child, arguments.start, arguments.end, arguments.out)
        return
    formats = [name for name in arguments.formats.split(",") if name]
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as folder:
        work = Path(folder)
        with throwaway_postgres(work) as url:
            env = dict(
                os.environ,
                DATABASE_URL=url,
                SECRET_KEY="bench-" + "x" * 50,
                PRINTMGMT_DATA_DIR=str(work / "var"),
                LOG_LEVEL="WARNING",
            )
            manage = [sys.executable, str(ROOT / "manage.py")]
            subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
            started = time.perf_counter()
            subprocess.run(
                [*manage, "seed_usage", "--jobs", str(arguments.rows), "--users", "500",
                 "--printers", "20", "--days", str(DAYS)],
                env=env, check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            print(f"seed_usage --jobs {arguments.rows}: {time.perf_counter() - started:.1f} s")
            subprocess.run(
                [*manage, "shell", "-c", "from django.db import connection; "
                 "connection.cursor().execute('VACUUM ANALYZE reports_usagerecord')"],
                env=env, check=True,
            )  # fmt: skip
            # The seeded history ends today in the site's time zone (UTC unless TIME_ZONE).
            today = datetime.now(tz=UTC).date()
            full = ((today - timedelta(days=DAYS + 1)).isoformat(), today.isoformat())
            tenth = ((today - timedelta(days=DAYS // 10 - 1)).isoformat(), today.isoformat())
            out = work / "out"
            results: dict[str, dict[str, float]] = {}
            for mode in ("copy", "csv", "copy", "csv"):  # best of two, alternating
                figures = run_child(env, mode, *full, out)
                best = results.get(mode)
                if best is None or figures["seconds"] < best["seconds"]:
                    results[mode] = figures
            for mode in formats:
                if mode != "csv":
                    results[mode] = run_child(env, mode, *full, out)
                results[f"{mode} (a tenth)"] = run_child(env, mode, *tenth, out)
    copy = results["copy"]
    print(f"\n{arguments.rows} usage records; peak = the exporting process's maximum RSS\n")
    print("| export | time | size | peak memory | time vs COPY |")
    print("|---|---|---|---|---|")
    for mode, figures in results.items():
        ratio = figures["seconds"] / copy["seconds"] if not mode.endswith("tenth)") else None
        print(
            f"| {mode} | {figures['seconds']:.2f} s | {figures['bytes'] / 1e6:.1f} MB "
            f"| {figures['peak_mb']:.0f} MB | {f'{ratio:.2f}×' if ratio else '—'} |"
        )
    csv_ratio = results["csv"]["seconds"] / copy["seconds"]
    print(
        f"\nCSV / COPY = {csv_ratio:.2f} (target ≤ 1.5): {'met' if csv_ratio <= 1.5 else 'NOT met'}"
    )
    peak = max(figures["peak_mb"] for figures in results.values())
    print(
        f"highest peak memory {peak:.0f} MB (target < 200 MB): {'met' if peak < 200 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
