"""The embedded broker's polling interval: what an idle worker costs, and how long a message
waits before a worker takes it.

kombu's file-system transport has no way to wake a worker when a message arrives: an idle
worker looks in its queue folders, sleeps `polling_interval` seconds (kombu's default 1), and
looks again. For each interval this starts a Celery worker as `make run` does (the embedded
default: SQLite and the file-system broker, in a temporary data dir, concurrency 2), then

1. idle CPU: the CPU time (user + system, /proc/<pid>/stat) of the worker and its pool
   processes over `--idle-seconds` with no message, as a share of one core;
2. latency: `--messages` heartbeat tasks published one at a time, at random moments of the
   worker's polling, each measured from its publication to the worker's "received" log line.

    .venv/bin/python bench/bench_broker_polling.py [--intervals 1 0.1] [--idle-seconds 60]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: The worker log's times (local time, as this process reads them back).
LOG_TIME = "%Y-%m-%d %H:%M:%S,%f"
RECEIVED = re.compile(r"^\[(.{23}): INFO/MainProcess\] Task \S+\[([0-9a-f-]+)\] received", re.M)

# The worker of `make run`, with the polling interval of the run.
WORKER = """
import sys
from printmgmt.celery import app
app.conf.broker_transport_options = {
    **app.conf.broker_transport_options, "polling_interval": float(sys.argv[1])
}
app.worker_main(["worker", "--loglevel=INFO", "--concurrency=2"])
"""

# Heartbeat tasks published one at a time, far enough apart that the worker is idle (polling)
# at each publication; prints each task's id and the time it was published.
PUBLISHER = """
import os, random, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "printmgmt.settings")
import django
django.setup()
from printmgmt.celery import app
for _ in range(int(sys.argv[1])):
    time.sleep(random.uniform(1.2, 2.2))  # past the longest interval measured, at random
    published = time.time()
    print(app.send_task("apps.core.tasks.worker_heartbeat").id, published)
"""


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and every descendant now running."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += cpu_seconds(int(child))
    return total


def measure(interval: float, idle_seconds: float, messages: int) -> tuple[float, list[float]]:
    with tempfile.TemporaryDirectory(prefix="bench-polling-") as data_dir:
        env = {
            name: value
            for name, value in os.environ.items()
            if name not in ("CELERY_BROKER_URL", "DATABASE_URL", "CACHE_URL")
        }
        env["PRINTMGMT_DATA_DIR"] = data_dir
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=REPO, env=env, check=True
        )
        log_path = Path(data_dir) / "worker.log"
        with log_path.open("wb") as log:
            worker = subprocess.Popen(
                [PYTHON, "-c", WORKER, str(interval)], cwd=REPO, env=env, stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while "ready." not in log_path.read_text():
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the worker did not start:\n{log_path.read_text()}")
                time.sleep(0.2)
            time.sleep(5)  # start-up work (mingle, first polls) is not idling
            before = cpu_seconds(worker.pid)
            time.sleep(idle_seconds)
            idle_share = (cpu_seconds(worker.pid) - before) / idle_seconds

            published = subprocess.run(
                [PYTHON, "-c", PUBLISHER, str(messages)], cwd=REPO, env=env, check=True,
                capture_output=True, text=True,
            ).stdout.split()  # fmt: skip
            time.sleep(2)  # until the last one is taken
            taken = {found: at for at, found in RECEIVED.findall(log_path.read_text())}
            latencies = [
                datetime.strptime(taken[task_id], LOG_TIME).astimezone().timestamp() - float(at)
                for task_id, at in zip(published[::2], published[1::2], strict=True)
            ]
            return idle_share, latencies
        finally:
            worker.terminate()
            worker.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--intervals", type=float, nargs="+", default=[1.0, 0.1])
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--messages", type=int, default=20)
    options = parser.parse_args()
    print(f"{'interval':>9} {'idle CPU':>9} {'latency median':>15} {'max':>7}")
    for interval in options.intervals:
        idle_share, latencies = measure(interval, options.idle_seconds, options.messages)
        print(
            f"{interval:>8}s {idle_share:>8.2%} {statistics.median(latencies) * 1000:>12.0f} ms "
            f"{max(latencies) * 1000:>4.0f} ms"
        )


if __name__ == "__main__":
    main()
