"""Real IPP clients print to our printer: Debian's ipptool conformance files, and CUPS (a
private cupsd with a driverless queue, as a desktop would set one up)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from apps.jobs.cancel import cancel
from apps.jobs.choices import JobSource, JobState
from apps.jobs.models import Job
from apps.jobs.release import ReleaseRefused, job_release
from apps.printers.models import Printer
from printmgmt.translatable import Text
from tests.ippserver.conftest import Printing
from tests.ippserver.documents import make_ipptool_documents
from tests.pdfs import make_pdf
from tests.peers import Cupsd
from tests.servers import AsgiServer
from tests.workers import WorkerProcess

pytestmark = [pytest.mark.peers]

IPPTOOL_FILES = Path("/usr/share/cups/ipptool")


class ReleaseDesk:
    """Staff at the printer: releases every held job of one user, as soon as it arrives.

    The conformance files wait for jobs to complete; in a hold queue that happens when someone
    releases them, so this thread does (to a real printer, through the real pipeline)."""

    def __init__(self, printing: Printing, printer: Printer) -> None:
        self._printing = printing
        self._printer = printer
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="release-desk", daemon=True)
        self.refused: list[str] = []

    def __enter__(self) -> ReleaseDesk:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            while not self._stop.wait(0.2):
                held = Job.objects.filter(owner=self._printing.user, state=JobState.HELD)
                for job in held:
                    try:
                        job_release(
                            job.pk,
                            self._printing.user,
                            self._printer.pk,
                            job.options,
                            copies=job.copies,
                            page_ranges=job.page_ranges,
                        )
                    except ReleaseRefused as refusal:
                        job.refresh_from_db()
                        if job.state != JobState.HELD:
                            continue  # its client canceled it meanwhile
                        # Canceled, so that its client is not left waiting for it.
                        self.refused.append(f"job {job.pk}: {refusal}")
                        cancel(job.pk, reason=Text("the release desk could not release it"))
        finally:
            connection.close()


def _wait_until_printed(printing: Printing, timeout: float = 120.0) -> None:
    """Let the worker finish what was released before the test's data is flushed."""
    printing_states = (JobState.RELEASED, JobState.SENDING, JobState.PROCESSING)
    deadline = time.monotonic() + timeout
    while Job.objects.filter(owner=printing.user, state__in=printing_states).exists():
        assert time.monotonic() < deadline, "released jobs did not finish printing"
        time.sleep(0.5)


def _ipptool_uri(server: AsgiServer, printing: Printing) -> str:
    secret = quote(printing.password, safe="")
    return f"ipp://{printing.username}:{secret}@127.0.0.1:{server.port}/ipp/print"


def _run_ipptool(cwd: Path, uri: str, test_file: str) -> subprocess.CompletedProcess[str]:
    """Run one conformance file; its report is kept in PRINTMGMT_TEST_ARTIFACTS/ipptool/."""
    result = subprocess.run(
        ["ipptool", "-t", "-T", "30", "-f", "testfile.pdf", uri, str(IPPTOOL_FILES / test_file)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    artifacts = Path(os.environ.get("PRINTMGMT_TEST_ARTIFACTS", "var/test-artifacts")) / "ipptool"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / f"{test_file}.txt").write_text(result.stdout + result.stderr)
    return result


@pytest.fixture
def ipptool_dir(tmp_path: Path) -> Path:
    if shutil.which("ipptool") is None:
        pytest.skip("ipptool is not installed (cups-ipp-utils)")
    make_ipptool_documents(tmp_path)
    return tmp_path


@pytest.mark.worker
@pytest.mark.parametrize("test_file", ["ipp-1.1.test", "ipp-2.0.test"])
def test_ipptool_conformance_files_pass(
    asgi_server: AsgiServer,
    celery_worker: WorkerProcess,
    printing_with_desk: Printing,
    release_printer: Printer,
    ipptool_dir: Path,
    test_file: str,
) -> None:
    with ReleaseDesk(printing_with_desk, release_printer) as desk:
        result = _run_ipptool(ipptool_dir, _ipptool_uri(asgi_server, printing_with_desk), test_file)
    _wait_until_printed(printing_with_desk)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "[FAIL]" not in result.stdout
    assert desk.refused == []
    assert Job.objects.filter(owner=printing_with_desk.user, state=JobState.COMPLETED).exists()


@pytest.mark.worker
def test_ipptool_print_job_hold_passes(
    asgi_server: AsgiServer,
    celery_worker: WorkerProcess,
    printing_with_desk: Printing,
    ipptool_dir: Path,
) -> None:
    result = _run_ipptool(
        ipptool_dir, _ipptool_uri(asgi_server, printing_with_desk), "print-job-hold.test"
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    job = Job.objects.get(owner=printing_with_desk.user)
    assert job.state != JobState.HELD
    assert job.printer is not None
    assert job.printer.name == "desk"
    _wait_until_printed(printing_with_desk)


def _wait_for_job(printing: Printing, cupsd: Cupsd, timeout: float = 90.0) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.filter(owner=printing.user).first()
        if job is not None:
            return job
        time.sleep(0.25)
    # What CUPS made of it, so that a failure here can be understood from the test output.
    jobs = subprocess.run(
        ["lpstat", "-W", "all", "-l", "-o"], env=cupsd.environment, capture_output=True,
        text=True, check=False,
    ).stdout  # fmt: skip
    log = (cupsd.directory / "log" / "error_log").read_text(errors="replace")[-4000:]
    raise AssertionError(
        f"no job for {printing.username} after {timeout}s\nCUPS jobs:\n{jobs}\nlog:\n{log}"
    )


@pytest.fixture
def hold_queue(
    cupsd: Cupsd, asgi_server: AsgiServer, printing: Printing, release_printer: Printer
) -> str:
    """A driverless CUPS queue pointing at our printer, logging in with the printing token."""
    uri = f"ipp://{printing.username}:{printing.token}@127.0.0.1:{asgi_server.port}/ipp/print"
    cupsd.add_queue("hold", uri, model="everywhere")
    return "hold"


def test_lp_through_cups_lands_held_in_the_users_inbox_with_its_options(
    cupsd: Cupsd, hold_queue: str, printing: Printing, tmp_path: Path
) -> None:
    document = make_pdf(tmp_path / "handout.pdf", 4)
    cupsd.lp(hold_queue, document, "sides=two-sided-long-edge", "finishings=20")
    job = _wait_for_job(printing, cupsd)
    assert (job.state, job.source, job.page_count) == (JobState.HELD, JobSource.IPP, 4)
    assert job.options["sides"] == "two-sided-long-edge"
    assert job.options["org.savapage-finishings-staple"] == "20"


def test_lp_of_two_files_through_cups_lands_as_one_job_of_two_documents(
    cupsd: Cupsd, hold_queue: str, printing: Printing, tmp_path: Path
) -> None:
    # cupsd filters each file and sends them as one Send-Document, the PDFs back to back:
    # without splitting them only the last one's pages were held.
    first = make_pdf(tmp_path / "agenda.pdf", 2)
    second = make_pdf(tmp_path / "minutes.pdf", 3)
    printed = subprocess.run(
        ["lp", "-d", hold_queue, "-t", "meeting", str(first), str(second)],
        env=cupsd.environment, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    job = _wait_for_job(printing, cupsd)
    assert (job.title, job.page_count) == ("meeting", 5)
    assert job.documents == [
        {"name": "document 1", "pages": 2},
        {"name": "document 2", "pages": 3},
    ]
    assert Job.objects.filter(owner=printing.user).count() == 1
