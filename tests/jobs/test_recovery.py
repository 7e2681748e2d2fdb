"""Exactly once under failure, refunds, job sheets, local booklets, expiry, `lp`.

Failures are real: a worker killed with SIGKILL, a printer process stopped with SIGSTOP
(it stops answering, as a hung or unplugged printer does) and continued later.
"""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from apps.accounts.models import User
from apps.accounts.selectors import job_charge, job_refunded
from apps.jobs.choices import JobState
from apps.jobs.documents import spool_path
from apps.jobs.models import Job
from apps.jobs.parts import Part
from apps.jobs.release import job_release
from apps.jobs.services import job_transition
from apps.jobs.tasks import expire_held_jobs, print_job, reconcile_jobs
from apps.printers.models import Printer, SidePrice
from apps.printers.services import printer_add
from apps.rules.services import rule_file_activate, rule_file_save
from printmgmt import process_identity
from printmgmt.celery import app as celery_app
from printmgmt.ipp import Operation
from printmgmt.ipp.client import IppClient
from tests.children import child_processes
from tests.jobs.conftest import FINISHER_RULES, RELEASED_PRICE, charged_and_released, wait_for_end
from tests.pdfs import make_pdf
from tests.peers import (
    OFFICE_FINISHER_ATTRIBUTES,
    IppEvePrinter,
    http_request_body,
    send_ipp_answer,
)
from tests.workers import WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.peers]


def jobs_named(peer: IppEvePrinter, fragment: str) -> list[tuple[int, str, int]]:
    """(job-id, job-name, job-state) of the printer's jobs whose name contains `fragment`.

    By job id: a job that completes between the two questions is in both answers."""
    found: dict[int, tuple[int, str, int]] = {}
    with IppClient(peer.uri) as client:
        for which in ("not-completed", "completed"):
            for group in client.get_jobs(
                which_jobs=which, requested=("job-id", "job-name", "job-state")
            ):
                values = {attribute.name: attribute.value for attribute in group}
                name, job_id, state = values["job-name"], values["job-id"], values["job-state"]
                assert isinstance(job_id, int)
                assert isinstance(state, int)
                if fragment in str(name):
                    found[job_id] = (job_id, str(name), state)
    return sorted(found.values())


def peer_pid(peer: IppEvePrinter) -> int:
    result = subprocess.run(
        ["pgrep", "-f", f"ippeveprinter .*-p {peer.port} "],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout.split()[0])


@contextmanager
def printer_stopped(peer: IppEvePrinter) -> Iterator[None]:
    """The printer process frozen: connections are accepted by the kernel, nothing answers."""
    pid = peer_pid(peer)
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_job_sheets_arrive_as_separate_jobs_before_and_after(
    celery_worker: WorkerProcess,
    finisher: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    # Sheets are released only to a printer whose rule file offers them.
    version = rule_file_save(
        "test-finisher",
        FINISHER_RULES + "*SPJobTicket/Set: org.savapage-job-sheets *none job-start-sheet "
        "job-end-sheet\n",
    )
    rule_file_activate(version.pk)
    job = held_job(pages=2)
    sheets = ["job-start-sheet", "job-end-sheet"]
    job_release(job.pk, staff_user, finisher.pk, {"org.savapage-job-sheets": sheets})
    done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED, done.message
    arrived = jobs_named(finisher_peer, done.marker.hex)
    names = [name.rsplit("[", 1)[1] for _, name, _ in arrived]
    marker = f"pm-{done.marker.hex}"
    assert names == [f"{marker}-start]", f"{marker}]", f"{marker}-end]"]
    assert done.printer_job_id == arrived[1][0]


def test_a_job_the_printer_accepted_before_a_crash_is_adopted_not_sent_again(
    celery_worker: WorkerProcess,
    finisher: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    job = held_job(pages=1)
    # The state a worker leaves when it dies after the printer accepted, before recording it.
    job_transition(job.pk, JobState.RELEASED, reason="test", printer=finisher, price=Decimal(0))
    job_transition(job.pk, JobState.SENDING, reason="test", send_attempts=1)
    job.refresh_from_db()
    name = Part("", spool_path(job.document_name), []).job_name(job)
    with IppClient(finisher_peer.uri) as client:
        accepted = client.print_job(
            spool_path(job.document_name), job_name=name, document_format="application/pdf"
        )
    print_job.delay(job.pk)
    done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED, done.message
    assert done.printer_job_id == accepted.job_id
    assert len(jobs_named(finisher_peer, job.marker.hex)) == 1


def worker_database_sessions(worker: WorkerProcess) -> list[int]:
    """Backend pids of a worker's idle sessions (named by its PGAPPNAME)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %s AND state = 'idle'",
            [f"celery-{worker.name}"],
        )
        return [pid for (pid,) in cursor.fetchall()]


def test_the_worker_keeps_its_database_connection_and_survives_losing_it(
    celery_worker: WorkerProcess,
    finisher: Printer,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("cuts a PostgreSQL session")
    first = held_job(pages=1, title="first")
    job_release(first.pk, staff_user, finisher.pk, {})
    assert wait_for_end(first.pk).state == JobState.COMPLETED
    inspector = celery_app.control.inspect(timeout=1.0)
    deadline = time.monotonic() + 10
    while any((inspector.active() or {}).values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    # Between tasks the worker holds its connection open (no login per task) ...
    sessions = worker_database_sessions(celery_worker)
    assert sessions, "the worker closed its database connection after its tasks"
    # ... and a connection the database dropped meanwhile costs a reconnect, not the job.
    with connection.cursor() as cursor:
        for pid in sessions:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    second = held_job(pages=1, title="second")
    job_release(second.pk, staff_user, finisher.pk, {})
    done = wait_for_end(second.pk, timeout=30)
    assert done.state == JobState.COMPLETED, done.message
    assert done.send_attempts == 1


def test_worker_killed_mid_send_then_the_job_prints_exactly_once(
    celery_worker: WorkerProcess,
    celery_worker_factory: Callable[..., WorkerProcess],
    finisher: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    doomed = celery_worker_factory("doomed", queues="doomed")
    job = held_job(pages=2)
    # Released and charged as job_release does, but queued for the worker we are going to kill.
    charged_and_released(job, finisher)
    with printer_stopped(finisher_peer):
        print_job.apply_async((job.pk,), queue="doomed")
        deadline = time.monotonic() + 20
        while Job.objects.get(pk=job.pk).state != JobState.SENDING:
            assert time.monotonic() < deadline, "the worker never started sending"
            time.sleep(0.05)
        doomed.kill()
    # The broker would hand the unacknowledged task to another worker after its visibility
    # timeout; the reconcile sweep does the same for a job stuck in SENDING. Both end here:
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk=job.pk).update(state_changed_at=an_hour_ago, claimed_at=an_hour_ago)
    assert reconcile_jobs() == 1
    done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED, done.message
    printed = [j for j in jobs_named(finisher_peer, job.marker.hex) if j[2] == 9]
    assert len(printed) == 1
    assert printed[0][0] == done.printer_job_id
    charge = job_charge(job.pk)
    assert charge is not None
    assert charge.amount == -RELEASED_PRICE
    assert job_refunded(job.pk) == 0


class PrinterThatHoldsBackOnePrintJob:
    """A proxy before a printer: passes every request on and answers it, except the first
    Print-Job, which it passes on (the printer takes the job) and answers only when told to
    (`answer`), as a slow printer or network does; closed first, never, as if the worker
    sending it died before the answer came back."""

    def __init__(self, printer_uri: str) -> None:
        self.printer_url = printer_uri.replace("ipp://", "http://", 1)
        self.printer_took_the_job = threading.Event()
        self.held = threading.Event()
        self.answers = False
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = http_request_body(self)
                answer = httpx.post(
                    proxy.printer_url, content=body, headers={"Content-Type": "application/ipp"}
                )
                is_print_job = body[2:4] == Operation.PRINT_JOB.to_bytes(2, "big")
                if is_print_job and not proxy.printer_took_the_job.is_set():
                    proxy.printer_took_the_job.set()
                    proxy.held.wait(60)
                    if not proxy.answers:
                        return
                send_ipp_answer(self, answer.content)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.uri = f"ipp://127.0.0.1:{self.server.server_address[1]}/ipp/print"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self) -> None:
        self.answers = True
        self.held.set()

    def close(self) -> None:
        self.held.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_pool_process_killed_after_the_printer_took_the_job_prints_it_once_at_once(
    celery_worker: WorkerProcess,
    celery_worker_factory: Callable[..., WorkerProcess],
    finisher: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    # Celery hands the task of a killed pool process straight back to the queue. The job is
    # taken over then, not once its claim is stale ten minutes later, when the printer would
    # have forgotten it (ippeveprinter keeps finished jobs for a minute) and a resend printed
    # it twice.
    proxy = PrinterThatHoldsBackOnePrintJob(finisher_peer.uri)
    try:
        Printer.objects.filter(pk=finisher.pk).update(uri=proxy.uri)
        worker = celery_worker_factory("prefork", queues="prefork", pool="prefork")
        job = charged_and_released(held_job(pages=2), finisher)
        assert worker.process is not None
        before = child_processes(worker.process.pid)
        assert len(before) == 1
        print_job.apply_async((job.pk,), queue="prefork")
        assert proxy.printer_took_the_job.wait(30), "the job never reached the printer"
        os.kill(before.pop(), signal.SIGKILL)
        done = wait_for_end(job.pk, timeout=60)
    finally:
        proxy.close()
    assert done.state == JobState.COMPLETED, done.message
    assert done.send_attempts == 2  # the killed attempt, and the one that found its job
    printed = jobs_named(finisher_peer, job.marker.hex)
    assert len(printed) == 1
    assert printed[0][0] == done.printer_job_id
    assert job_refunded(job.pk) == 0


def test_a_worker_renews_its_claim_while_the_printer_holds_back_its_answer(
    celery_worker_factory: Callable[..., WorkerProcess],
    finisher: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
) -> None:
    # The renewals come from a thread of the pool process while the task waits for the
    # answer (the workers renew every second, FAST_PIPELINE).
    proxy = PrinterThatHoldsBackOnePrintJob(finisher_peer.uri)
    try:
        Printer.objects.filter(pk=finisher.pk).update(uri=proxy.uri)
        celery_worker_factory("prefork", queues="prefork", pool="prefork")
        job = charged_and_released(held_job(pages=1), finisher)
        print_job.apply_async((job.pk,), queue="prefork")
        assert proxy.printer_took_the_job.wait(30), "the job never reached the printer"
        claim = Job.objects.get(pk=job.pk)
        renewed = claim.claim_renewed_at
        deadline = time.monotonic() + 2.5  # within the worker's IPP_SEND_TIMEOUT_SECONDS
        while renewed == claim.claim_renewed_at and time.monotonic() < deadline:
            time.sleep(0.05)
            renewed = Job.objects.get(pk=job.pk).claim_renewed_at
        proxy.answer()
        done = wait_for_end(job.pk)
    finally:
        proxy.close()
    assert claim.state == JobState.SENDING
    assert claim.claim_renewed_at is not None
    assert renewed is not None
    assert renewed > claim.claim_renewed_at, "the claim was not renewed while the task waited"
    assert done.state == JobState.COMPLETED, done.message
    assert done.send_attempts == 1


def test_a_job_whose_claim_another_machine_stopped_renewing_is_taken_over_in_seconds(
    celery_worker: WorkerProcess,
    finisher: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
) -> None:
    # A worker on another machine claimed the job and died (power cut, container killed)
    # before the printer had it: nothing here can tell that its process is gone, but its
    # renewals stop. The message refused while its claim was fresh looks again when the claim
    # goes stale (the workers' SEND_CLAIM_STALE_SECONDS is 5), not after SEND_CLAIM_SECONDS.
    job = charged_and_released(held_job(pages=1), finisher)
    now = timezone.now()
    here = process_identity.current()
    job_transition(
        job.pk,
        JobState.SENDING,
        reason="test",
        send_attempts=1,
        claimed_by="elsewhere",
        claimed_at=now,
        claim_renewed_at=now,
        claimed_in="elsewhere" + here[here.index("/") :],
    )
    print_job.delay(job.pk)
    done = wait_for_end(job.pk, timeout=30)
    assert done.state == JobState.COMPLETED, done.message
    assert done.send_attempts == 2  # the dead worker's attempt, and the one that took over
    assert done.claimed_by != "elsewhere"
    assert len(jobs_named(finisher_peer, job.marker.hex)) == 1


def test_a_printer_that_stops_answering_for_a_while_gets_the_job_once(
    celery_worker: WorkerProcess,
    finisher: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    job = held_job(pages=2)
    with printer_stopped(finisher_peer):
        job_release(job.pk, staff_user, finisher.pk, {})
        deadline = time.monotonic() + 30
        while Job.objects.get(pk=job.pk).send_attempts < 2:
            assert time.monotonic() < deadline, "no retry while the printer was stopped"
            time.sleep(0.2)
        waiting = Job.objects.get(pk=job.pk)
        assert waiting.state in (JobState.RELEASED, JobState.SENDING)
    done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED, done.message
    printed = [j for j in jobs_named(finisher_peer, job.marker.hex) if j[2] == 9]
    assert len(printed) == 1
    assert job_refunded(job.pk) == 0


def test_a_refused_job_fails_with_the_reason_and_is_refunded_in_full(
    celery_worker: WorkerProcess,
    ippeveprinter_factory: Callable[..., IppEvePrinter],
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    # The stock ippeveprinter takes raster formats only: a PDF is refused. The release refuses
    # such a printer; this one's snapshot says PDF, as if it changed since it was last asked.
    raster_only = ippeveprinter_factory(name="Raster", attributes=None)
    printer = printer_add("raster", raster_only.uri)
    formats = [*printer.capabilities["document-format-supported"], "application/pdf"]
    printer.capabilities = {**printer.capabilities, "document-format-supported": formats}
    printer.save(update_fields=["capabilities"])
    media = printer.capabilities["media-default"][0]
    for color in (False, True):
        SidePrice.objects.create(
            printer=printer,
            media=media,
            color=color,
            one_sided=Decimal("0.2"),
            two_sided=Decimal("0.2"),
        )
    job = held_job(pages=2)
    released = job_release(job.pk, staff_user, printer.pk, {})
    assert released.price == Decimal("0.40")
    done = wait_for_end(job.pk)
    assert done.state == JobState.FAILED
    assert "document-format" in done.message
    assert job_refunded(job.pk) == Decimal("0.40")
    assert not spool_path(done.document_name).exists()


def test_a_printer_busy_with_another_job_takes_ours_in_the_same_attempt(
    celery_worker: WorkerProcess,
    ippeveprinter_factory: Callable[..., IppEvePrinter],
    held_job: Callable[..., Job],
    staff_user: User,
    tmp_path: Path,
) -> None:
    # ippeveprinter takes one job at a time and answers server-error-busy until it has
    # processed the one before; this one takes half a second per job.
    slow_command = tmp_path / "slow-print"
    slow_command.write_text("#!/bin/sh\nsleep 0.5\n")
    slow_command.chmod(0o755)
    peer = ippeveprinter_factory(
        name="Slow", attributes=OFFICE_FINISHER_ATTRIBUTES, extra_args=["-c", str(slow_command)]
    )
    printer = printer_add("slow", peer.uri)
    SidePrice.objects.create(
        printer=printer, media="iso_a4_210x297mm", color=False, one_sided=Decimal("0.1"),
        two_sided=Decimal("0.1"),
    )  # fmt: skip
    with IppClient(peer.uri) as client:
        client.print_job(
            make_pdf(tmp_path / "other.pdf", 1),
            job_name="someone else's",
            document_format="application/pdf",
        )
    job = held_job(pages=1)
    job_release(job.pk, staff_user, printer.pk, {})
    done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED, done.message
    assert done.send_attempts == 1
    assert not done.transitions.filter(reason__startswith="will retry").exists()


def test_booklet_is_imposed_locally_when_the_printer_has_no_booklet_maker(
    celery_worker: WorkerProcess,
    ippeveprinter_factory: Callable[..., IppEvePrinter],
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    attributes = OFFICE_FINISHER_ATTRIBUTES.replace("3,4,13,14,", "3,4,14,")
    peer = ippeveprinter_factory(name="No Booklet Maker", attributes=attributes)
    printer = printer_add("plain-duplex", peer.uri)
    SidePrice.objects.create(
        printer=printer, media="iso_a4_210x297mm", color=False, one_sided=Decimal("0.1"),
        two_sided=Decimal("0.1"),
    )  # fmt: skip
    job = held_job(pages=8)
    options = {"org.savapage-finishings-booklet": "toleft-totop", "number-up": "2"}
    job_release(job.pk, staff_user, printer.pk, options)
    done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED, done.message
    assert done.printer_job_id is not None
    with IppClient(peer.uri) as client:
        arrived = {a.name: a.python_values for a in client.get_job_attributes(done.printer_job_id)}
    assert arrived["sides"] == ("two-sided-short-edge",)
    assert 13 not in arrived.get("finishings", ())
    (kept,) = [p for p in peer.spool_dir.iterdir() if p.suffix == ".pdf"]
    imposed = PdfReader(kept)
    assert len(imposed.pages) == 4  # 8 pages, two per side
    assert imposed.pages[0].mediabox.width > imposed.pages[0].mediabox.height


def test_held_jobs_expire_and_their_documents_are_deleted(
    held_job: Callable[..., Job],
) -> None:
    old, fresh = held_job(title="old"), held_job(title="fresh")
    Job.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert expire_held_jobs() == 1
    old.refresh_from_db()
    assert old.state == JobState.EXPIRED
    assert not spool_path(old.document_name).exists()
    assert Job.objects.get(pk=fresh.pk).state == JobState.HELD
    assert spool_path(fresh.document_name).exists()


def test_lp_prints_at_once_and_waits_for_the_end(
    celery_worker: WorkerProcess,
    finisher: Printer,
    staff_user: User,
    tmp_path: Path,
) -> None:
    document = make_pdf(tmp_path / "memo.pdf", 2)
    out = StringIO()
    call_command(
        "lp", str(document), "-U", "sam", "-d", "finisher", "-n", "2", "-o",
        "org.savapage-finishings-staple=20", "-t", "Memo", "-H", "immediate", "--wait",
        stdout=out,
    )  # fmt: skip
    lines = out.getvalue().splitlines()
    job = Job.objects.get(title="Memo")
    assert lines[0] == f"request id is finisher-{job.pk}"
    assert lines[-1] == f"job {job.pk} completed"
    assert job.copies == 2
    assert job_charge(job.pk) is not None


def test_lp_prints_at_once_the_pages_each_document_has_of_those_asked(
    celery_worker: WorkerProcess,
    finisher: Printer,
    staff_user: User,
    tmp_path: Path,
) -> None:
    short = make_pdf(tmp_path / "short.pdf", 2)
    long = make_pdf(tmp_path / "long.pdf", 6)
    out = StringIO()
    call_command(
        "lp", str(short), str(long), "-U", "sam", "-d", "finisher", "-P", "2-5",
        "-H", "immediate", "--wait", stdout=out,
    )  # fmt: skip
    (job,) = Job.objects.all()
    assert out.getvalue().splitlines()[-1] == f"job {job.pk} completed"
    # Page 2 of the first document and pages 2-5 of the second.
    assert job.page_ranges == "2,4-7"


def test_lp_holds_by_default_and_explains_bad_input(
    staff_user: User, finisher: Printer, tmp_path: Path
) -> None:
    document = make_pdf(tmp_path / "memo.pdf", 1)
    out = StringIO()
    call_command("lp", str(document), "-U", "sam", stdout=out)
    job = Job.objects.get()
    assert out.getvalue().strip() == f"request id is inbox-{job.pk}"
    assert job.state == JobState.HELD
    not_pdf = tmp_path / "notes.pdf"
    not_pdf.write_bytes(document.read_bytes()[:300])  # a PDF cut short
    cases = [
        (["lp", str(document), "-U", "nobody"], "there is no user called 'nobody'"),
        (["lp", str(tmp_path / "missing.pdf"), "-U", "sam"], "no such file"),
        (["lp", str(tmp_path), "-U", "sam"], "is a directory, not a file"),
        (["lp", str(not_pdf), "-U", "sam"], "the PDF cannot be read"),
        (["lp", str(document), "-U", "sam", "-H", "immediate"], "needs a printer"),
        (["lp", str(document), "-U", "sam", "-d", "nope"], "no printer or printer group called"),
        (["lp", str(document), "-U", "sam", "-o", "staple"], "write options as name=value"),
        (
            ["lp", str(document), "-U", "sam", "-d", "finisher", "-H", "immediate", "-o",
             "org.savapage-finishings-staple=99"],
            "stays held: org.savapage-finishings-staple=99 is not offered",
        ),
    ]  # fmt: skip
    for arguments, message in cases:
        with pytest.raises(CommandError, match=message):
            call_command(*arguments, stdout=StringIO())
    assert Job.objects.filter(state=JobState.HELD).count() == 2  # the first and the refused


class GarbageHandler(http.server.BaseHTTPRequestHandler):
    """A "printer" that answers every request with bytes that are not IPP."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        body = b"<html>not a printer</html>"
        send_ipp_answer(self, body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads the job's message, not the server's log."""


def test_a_printer_answering_garbage_fails_the_job_after_bounded_retries(
    celery_worker: WorkerProcess,
    finisher: Printer,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), GarbageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        Printer.objects.filter(pk=finisher.pk).update(
            uri=f"ipp://127.0.0.1:{server.server_address[1]}/ipp/print"
        )
        job = held_job(pages=1)
        released = job_release(job.pk, staff_user, finisher.pk, {})
        done = wait_for_end(job.pk, timeout=90)
    finally:
        server.shutdown()
    assert done.state == JobState.FAILED
    assert done.message.endswith(
        "the printer's answer is not IPP: HTTP 200 OK, application/ipp: "
        "'<html>not a printer</html>'; the job was given up after 5 attempts"
    )
    assert done.send_attempts == 5  # PRINT_MAX_ATTEMPTS of the test workers
    assert released.price is not None
    assert job_refunded(job.pk) == released.price
