"""The print pipeline against the reference tools, in one run, on the same printer.

1. Latency: release → job accepted by an ippeveprinter (a 20-page PDF), against a direct
   `ipptool` Print-Job of the same file. Target: median ratio ≤ 1.2. "Accepted" is the time
   the worker recorded the job's PROCESSING transition, right after Print-Job returned
   successful-ok (so no polling interval is counted); the other recorded transitions cut the
   path into stages. Each run starts with the worker and the printer idle.
2. Throughput: N jobs released back to back with one Celery worker, against the same N files
   printed with `lp` through a cupsd queue to the same printer (until cupsd has handed every
   job to the printer). Target: at least 5× CUPS's jobs per second.

Self-contained: it starts Redis, an ippeveprinter, a private cupsd and a Celery worker, and
uses an SQLite database in a temporary directory.

    .venv/bin/python bench/bench_pipeline.py [--jobs 200] [--latency-runs 15]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from apps.printers.peers import (  # noqa: E402
    OFFICE_FINISHER_ATTRIBUTES,
    free_port,
    run_cupsd,
    run_ippeveprinter,
)

PRINT_JOB_TEST = """{
    NAME "Print-Job"
    OPERATION Print-Job
    GROUP operation-attributes-tag
    ATTR charset attributes-charset utf-8
    ATTR naturalLanguage attributes-natural-language en
    ATTR uri printer-uri $uri
    ATTR name requesting-user-name $user
    ATTR mimeMediaType document-format application/pdf
    FILE $filename
    STATUS successful-ok
}
"""


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir",
         str(directory)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(0.3)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait()


def configure_django(data_dir: Path, broker: str) -> None:
    os.environ.update(
        PRINTMGMT_DATA_DIR=str(data_dir),
        CELERY_BROKER_URL=broker,
        DJANGO_SETTINGS_MODULE="printmgmt.settings",
        FOLLOW_INTERVAL_SECONDS="1",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def start_worker(log: Path) -> subprocess.Popen[bytes]:
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "printmgmt", "worker", "--pool=solo",
         "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
        cwd=REPO, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    from printmgmt.celery import app

    deadline = time.monotonic() + 30
    while not (app.control.ping(timeout=0.5) or []):
        if time.monotonic() > deadline or worker.poll() is not None:
            raise SystemExit(f"the worker did not start; see {log}")
    return worker


def wait_accepted(job_ids: list[int], timeout: float = 600, poll: float = 0.005) -> None:
    from apps.jobs.choices import JobState
    from apps.jobs.models import Job

    accepted = (JobState.PROCESSING, JobState.COMPLETED)
    deadline = time.monotonic() + timeout
    while Job.objects.filter(pk__in=job_ids).exclude(state__in=accepted).exists():
        if time.monotonic() > deadline:
            raise SystemExit("jobs were not accepted in time")
        time.sleep(poll)


def wait_printer_idle(uri: str, timeout: float = 30) -> None:
    """ippeveprinter works on one job at a time and answers server-error-busy until it is
    done, so each timed send (ours or ipptool's) starts with no job left at the printer."""
    from printmgmt.ipp.client import IppClient

    deadline = time.monotonic() + timeout
    with IppClient(uri, timeout=5) as client:
        while client.get_jobs(which_jobs="not-completed", requested=("job-id",)):
            if time.monotonic() > deadline:
                raise SystemExit(f"the printer at {uri} did not finish its jobs")
            time.sleep(0.002)


def wait_ended(job_id: int, timeout: float = 60) -> None:
    """Until the worker has followed the job to its end: the next timed release then finds
    the worker idle, not busy with this job's follow-up task."""
    from apps.jobs.choices import TERMINAL_STATES
    from apps.jobs.models import Job

    deadline = time.monotonic() + timeout
    while Job.objects.filter(pk=job_id).exclude(state__in=TERMINAL_STATES).exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"job {job_id} did not end in time")
        time.sleep(0.01)
    time.sleep(0.05)  # the follow-up task's last steps after the state change (refund, usage)


def recorded_times(job_id: int) -> dict[str, float]:
    """When the job's transitions were recorded, by the state they lead to, as Unix times.

    The worker records PROCESSING right after Print-Job returned successful-ok: that is the
    moment the printer accepted the job."""
    from apps.jobs.models import JobTransition

    rows = JobTransition.objects.filter(job_id=job_id).values_list("to_state", "at")
    return {state: at.timestamp() for state, at in rows}


# The path of a release, cut where the job's recorded transitions fall.
STAGES: tuple[tuple[str, str | None, str], ...] = (
    ("release: check, price, charge, up to the RELEASED record", None, "released"),
    ("commit, publish, queue hop, worker picks up and claims (SENDING)", "released", "sending"),
    ("build, Print-Job to successful-ok, PROCESSING recorded", "sending", "processing"),
)


def latency(printer_uri: str, printer_id: int, document: Path, runs: int, workdir: Path) -> None:
    from apps.accounts.models import User
    from apps.jobs import pipeline
    from apps.jobs.choices import JobSource, JobState
    from apps.jobs.release import job_release
    from apps.jobs.services import job_create_held, job_transition

    user = User.objects.get(username="bench")
    test_file = workdir / "print-job.test"
    test_file.write_text(PRINT_JOB_TEST)
    ours, seen, releasing, direct = [], [], [], []
    stages: dict[str, list[float]] = {label: [] for label, _, _ in STAGES}
    for _ in range(runs):
        job = job_create_held(user, document, title="bench", source=JobSource.COMMAND)
        wait_printer_idle(printer_uri)
        # Wall-clock time, to compare with the times the worker process records.
        released_at = time.time()
        started = time.perf_counter()
        job_release(job.pk, user, printer_id, {})
        releasing.append(time.perf_counter() - started)
        wait_accepted([job.pk], poll=0.001)
        seen.append(time.perf_counter() - started)
        recorded = recorded_times(job.pk)
        ours.append(recorded[JobState.PROCESSING] - released_at)
        for label, begin, end in STAGES:
            since = released_at if begin is None else recorded[begin]
            stages[label].append(recorded[end] - since)
        wait_ended(job.pk)
        wait_printer_idle(printer_uri)
        started = time.perf_counter()
        subprocess.run(
            ["ipptool", "-q", "-f", str(document), "-d", "user=bench", printer_uri,
             str(test_file)],
            check=True,
        )  # fmt: skip
        direct.append(time.perf_counter() - started)
    sending = []
    for _ in range(runs):
        # The worker's part alone, in this process: claim, build, Print-Job, record.
        job = job_create_held(user, document, title="bench", source=JobSource.COMMAND)
        job_transition(
            job.pk, JobState.RELEASED, reason="bench", printer_id=printer_id, price=Decimal(0)
        )
        wait_printer_idle(printer_uri)
        started = time.perf_counter()
        pipeline.send(job.pk)
        sending.append(time.perf_counter() - started)
    median_ours, median_direct = statistics.median(ours), statistics.median(direct)
    print(f"latency, 20-page PDF, {runs} runs (median):")
    print(f"  release → accepted at the printer: {median_ours * 1000:8.1f} ms")
    for label, values in stages.items():
        print(f"    {label}: {statistics.median(values) * 1000:.1f} ms")
    print(
        f"    (the release call returns after {statistics.median(releasing) * 1000:.1f} ms; "
        f"this process sees the job accepted, polling every 1 ms, after "
        f"{statistics.median(seen) * 1000:.1f} ms)"
    )
    print(f"  ipptool Print-Job of the same file:  {median_direct * 1000:8.1f} ms")
    print(f"  ratio: {median_ours / median_direct:.2f} (target ≤ 1.2)")
    median_sending = statistics.median(sending)
    print(
        f"  the send step alone (claim, build, Print-Job, record): {median_sending * 1000:.1f} ms"
    )
    print(f"  ratio of the send step to ipptool: {median_sending / median_direct:.2f}")


def throughput(
    printer_uri: str,
    printer_id: int,
    cups_environment: dict[str, str],
    document: Path,
    jobs: int,
) -> None:
    from apps.accounts.models import User
    from apps.jobs.choices import JobSource
    from apps.jobs.release import job_release
    from apps.jobs.services import job_create_held

    user = User.objects.get(username="bench")
    held = [
        job_create_held(user, document, title=f"bench {n}", source=JobSource.COMMAND).pk
        for n in range(jobs)
    ]
    wait_printer_idle(printer_uri)
    started = time.perf_counter()
    for job_id in held:
        job_release(job_id, user, printer_id, {})
    wait_accepted(held)
    ours = time.perf_counter() - started

    wait_printer_idle(printer_uri)
    started = time.perf_counter()
    for _ in range(jobs):
        subprocess.run(
            ["lp", "-d", "bench", str(document)], env=cups_environment, check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
    while subprocess.run(
        ["lpstat", "-o", "bench"], env=cups_environment, capture_output=True, text=True,
        check=True,
    ).stdout.strip():  # fmt: skip
        time.sleep(0.05)
    cups = time.perf_counter() - started
    print(f"throughput, {jobs} jobs, one worker:")
    print(f"  ours:  {jobs / ours:8.1f} jobs/s  ({ours:.1f} s)")
    print(f"  CUPS:  {jobs / cups:8.1f} jobs/s  ({cups:.1f} s, lp through a cupsd queue)")
    print(f"  ratio: {cups / ours:.1f}× CUPS (target ≥ 5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--latency-runs", type=int, default=15)
    arguments = parser.parse_args()
    for program in ("redis-server", "ippeveprinter", "cupsd", "ipptool", "lp"):
        if shutil.which(program) is None:
            raise SystemExit(f"{program} is missing: run `make test` once to install the peers")
    workdir = Path(tempfile.mkdtemp(prefix="printmgmt-bench-"))
    with (
        redis_server(workdir) as broker,
        run_ippeveprinter(name="Bench", attributes=OFFICE_FINISHER_ATTRIBUTES) as peer,
        run_cupsd(with_auth=False) as cups,
    ):
        configure_django(workdir / "var", broker)
        from apps.accounts.movements import account_deposit
        from apps.accounts.roles import STAFF
        from apps.accounts.services import personal_account_ensure, user_create
        from apps.printers.models import SidePrice
        from apps.printers.services import printer_add
        from tests.pdfs import make_pdf

        user = user_create("bench", "a long enough password", role=STAFF)
        account_deposit(personal_account_ensure(user).pk, Decimal(1000), actor=None)
        printer = printer_add("bench", peer.uri)
        SidePrice.objects.create(
            printer=printer, media="iso_a4_210x297mm", color=False,
            one_sided=Decimal("0.05"), two_sided=Decimal("0.04"),
        )  # fmt: skip
        cups.add_queue("bench", peer.uri)
        document = make_pdf(workdir / "twenty.pdf", 20)
        worker = start_worker(workdir / "worker.log")
        try:
            latency(peer.uri, printer.pk, document, arguments.latency_runs, workdir)
            throughput(peer.uri, printer.pk, cups.environment, document, arguments.jobs)
        finally:
            worker.terminate()
            worker.wait()
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
