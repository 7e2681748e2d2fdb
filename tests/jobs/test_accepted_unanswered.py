"""A printer that took the job but did not say how (Print-Job answered successful-ok without
a job-id, or not answered at all after the document was sent): the job is never sent again,
nor refunded as not printed while it may have printed. Step by step against a real
ippeveprinter, behind fronts that change its answers."""

from __future__ import annotations

import contextlib
import http.server
import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.db.models import F

from apps.accounts.models import User
from apps.accounts.selectors import job_refunded
from apps.jobs import outcomes, pipeline
from apps.jobs.choices import JobState
from apps.jobs.models import Job
from apps.jobs.release import job_release
from apps.printers.models import Printer
from printmgmt.ipp import Message, Operation, Status, decode, encode
from tests.jobs.conftest import RELEASED_PRICE, wait_for_end
from tests.jobs.test_pipeline_safety import _printer_answering
from tests.jobs.test_recovery import jobs_named
from tests.peers import IppEvePrinter, http_request_body, send_ipp_answer
from tests.workers import WorkerProcess

pytestmark = [pytest.mark.peers]


class _PrinterThatSaysNoJobId(http.server.BaseHTTPRequestHandler):
    """The test printer behind a front that passes every request on, but answers Print-Job
    successful-ok without its job attributes; it counts the Print-Jobs. `hides_jobs`: it
    answers Get-Jobs with no jobs too."""

    target = ""
    print_jobs = 0
    hides_jobs = False

    def do_POST(self) -> None:
        request = http_request_body(self)
        operation = int.from_bytes(request[2:4], "big")
        request_id = int.from_bytes(request[4:8], "big")
        if operation == Operation.GET_JOBS and self.hides_jobs:
            send_ipp_answer(self, encode(Message.response(Status.SUCCESSFUL_OK, request_id)))
            return
        answer = httpx.post(
            self.target, content=request, headers={"Content-Type": "application/ipp"}
        ).content
        if operation == Operation.PRINT_JOB:
            type(self).print_jobs += 1
            assert decode(answer).status_code == Status.SUCCESSFUL_OK
            answer = encode(Message.response(Status.SUCCESSFUL_OK, request_id))
        send_ipp_answer(self, answer)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def _front(peer: IppEvePrinter, *, hides_jobs: bool) -> type[_PrinterThatSaysNoJobId]:
    target = peer.uri.replace("ipp://", "http://", 1)
    return type(
        "Handler",
        (_PrinterThatSaysNoJobId,),
        {"target": target, "print_jobs": 0, "hides_jobs": hides_jobs},
    )


def test_a_job_accepted_without_a_job_id_is_found_by_its_marker_and_followed(
    released: Callable[[], Job], finisher: Printer, finisher_peer: IppEvePrinter, settings: Any
) -> None:
    settings.PRINT_MAX_ATTEMPTS = 3
    job = released()
    front = _front(finisher_peer, hides_jobs=False)
    with _printer_answering(finisher, handler=front):
        assert pipeline.send(job.pk, task_id="t").at_printer
    sent = Job.objects.get(pk=job.pk)
    printed = jobs_named(finisher_peer, job.marker.hex)
    assert front.print_jobs == 1
    assert [job_id for job_id, _, _ in printed] == [sent.printer_job_id]
    assert (sent.state, sent.send_attempts) == (JobState.PROCESSING, 1)


def test_a_job_accepted_without_a_job_id_nor_listed_ends_printed_keeping_its_charge(
    released: Callable[[], Job], finisher: Printer, finisher_peer: IppEvePrinter, settings: Any
) -> None:
    settings.PRINT_MAX_ATTEMPTS = 3
    job = released()
    front = _front(finisher_peer, hides_jobs=True)
    with _printer_answering(finisher, handler=front):
        assert not pipeline.send(job.pk, task_id="t").at_printer
        # Another message for the job sends nothing again.
        assert str(pipeline.send(job.pk, task_id="t2")) == "nothing to send: job is completed"
    done = Job.objects.get(pk=job.pk)
    assert front.print_jobs == 1
    assert (done.state, done.printer_job_id) == (JobState.COMPLETED, None)
    assert done.message == (
        "the printer accepted the job without saying its job id, so its end could not be "
        "followed: it counts as printed"
    )
    assert list(done.transitions.order_by("pk").values_list("to_state", flat=True))[-3:] == [
        JobState.SENDING,
        JobState.PROCESSING,
        JobState.COMPLETED,
    ]
    assert job_refunded(job.pk) == 0


class _SlowPrinter(http.server.BaseHTTPRequestHandler):
    """The test printer behind a front that, while `slow`, answers Print-Job (which it passes
    on: the printer prints it) and Get-Jobs only after `slow_seconds`, past the client's
    time-out.
    `hides_jobs`: it answers Get-Jobs with no jobs, the printer's own not asked."""

    target = ""
    slow = True
    slow_seconds = 1.5
    hides_jobs = False
    print_jobs = 0

    def do_POST(self) -> None:
        request = http_request_body(self)
        operation = int.from_bytes(request[2:4], "big")
        if operation == Operation.PRINT_JOB:
            type(self).print_jobs += 1
        if operation == Operation.GET_JOBS and self.hides_jobs:
            answer = encode(
                Message.response(Status.SUCCESSFUL_OK, int.from_bytes(request[4:8], "big"))
            )
        else:
            answer = httpx.post(
                self.target, content=request, headers={"Content-Type": "application/ipp"}
            ).content
        if self.slow and operation in {Operation.PRINT_JOB, Operation.GET_JOBS}:
            time.sleep(self.slow_seconds)
        with contextlib.suppress(OSError):  # the client gave up waiting
            send_ipp_answer(self, answer)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def _slow_front(peer: IppEvePrinter, **attributes: object) -> type[_SlowPrinter]:
    target = peer.uri.replace("ipp://", "http://", 1)
    return type("Handler", (_SlowPrinter,), {"target": target, "print_jobs": 0, **attributes})


@pytest.fixture
def short_waits(settings: Any) -> Any:
    """One attempt, and time-outs shorter than the slow printer's answers."""
    settings.PRINT_MAX_ATTEMPTS = 1
    settings.IPP_SEND_TIMEOUT_SECONDS = 1
    settings.IPP_TIMEOUT_SECONDS = 1
    return settings


def _waits_to_be_looked_for(job: Job) -> Job:
    with pytest.raises(outcomes.RetryLater):
        pipeline.send(job.pk, task_id="t")
    waiting = Job.objects.get(pk=job.pk)
    assert waiting.state == JobState.RELEASED
    assert waiting.looked_for_since is not None
    said = (
        "the printer did not say whether it took the job \\(ipp://.*: did not answer within 1 s\\)"
    )
    assert re.fullmatch(
        f"{said}: it is not sent again but looked for at the printer", waiting.message
    )
    return waiting


def test_a_job_the_printer_took_without_answering_is_looked_for_until_it_is_found(
    released: Callable[[], Job],
    finisher: Printer,
    finisher_peer: IppEvePrinter,
    short_waits: Any,
) -> None:
    job = released()
    front = _slow_front(finisher_peer)
    with _printer_answering(finisher, handler=front):
        # The last attempt sends the job; the printer prints it but answers too late, and
        # cannot be asked about it either, again and again.
        first = _waits_to_be_looked_for(job)
        looked_again = _waits_to_be_looked_for(job)
        assert looked_again.looked_for_since == first.looked_for_since
        assert job_refunded(job.pk) == 0
        front.slow = False
        assert pipeline.send(job.pk, task_id="t").at_printer
    found = Job.objects.get(pk=job.pk)
    printed = jobs_named(finisher_peer, job.marker.hex)
    assert front.print_jobs == 1
    assert [job_id for job_id, _, _ in printed] == [found.printer_job_id]
    assert found.state == JobState.PROCESSING
    assert job_refunded(job.pk) == 0


def test_a_job_looked_for_at_a_printer_that_answers_without_it_fails_and_is_refunded(
    released: Callable[[], Job],
    finisher: Printer,
    finisher_peer: IppEvePrinter,
    short_waits: Any,
) -> None:
    job = released()
    front = _slow_front(finisher_peer, hides_jobs=True)
    with _printer_answering(finisher, handler=front):
        _waits_to_be_looked_for(job)
        front.slow = False
        assert str(pipeline.send(job.pk, task_id="t")) == "failed: gave up"
    failed = Job.objects.get(pk=job.pk)
    assert front.print_jobs == 1
    assert failed.state == JobState.FAILED
    assert failed.message == "sending failed 1 time: the job was given up"
    assert job_refunded(job.pk) == RELEASED_PRICE


def test_a_job_the_printer_cannot_be_asked_about_until_the_deadline_is_refunded_saying_so(
    released: Callable[[], Job],
    finisher: Printer,
    finisher_peer: IppEvePrinter,
    short_waits: Any,
) -> None:
    short_waits.PRINT_SEARCH_MAX_SECONDS = 60
    job = released()
    front = _slow_front(finisher_peer)
    with _printer_answering(finisher, handler=front):
        _waits_to_be_looked_for(job)
        # A day later, for this test: PRINT_SEARCH_MAX_SECONDS have gone by since.
        Job.objects.filter(pk=job.pk).update(
            looked_for_since=F("looked_for_since") - timedelta(seconds=60)
        )
        assert str(pipeline.send(job.pk, task_id="t")) == "failed: printer could not be asked"
    failed = Job.objects.get(pk=job.pk)
    assert front.print_jobs == 1
    assert failed.state == JobState.FAILED
    assert re.fullmatch(
        "the printer could not be asked whether it printed the job \\(ipp://.*: did not "
        "answer within 1 s\\): it counts as not printed and is refunded; an administrator "
        "can look for it at the printer",
        failed.message,
    )
    assert "could not be reached" not in failed.message
    assert job_refunded(job.pk) == RELEASED_PRICE


# ------------------------------------------------------------------------- with a worker


def _wait_for_message(job_id: int, fragment: str, timeout: float = 60) -> Job:
    deadline = time.monotonic() + timeout
    while True:
        job = Job.objects.get(pk=job_id)
        if fragment in job.message:
            return job
        assert time.monotonic() < deadline, f"job {job_id} is {job.state}: {job.message}"
        time.sleep(0.2)


def test_a_job_a_slow_printer_printed_is_found_there_once_it_answers_and_keeps_its_charge(
    celery_worker: WorkerProcess,
    finisher: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    """The reviewer's case, with the test workers' settings (5 attempts, 3 s time-outs): a
    printer answering every Print-Job and Get-Jobs too late prints the job; the job is looked
    for until it answers in time, then followed to its end."""
    front = _slow_front(finisher_peer, slow_seconds=3.5)
    with _printer_answering(finisher, handler=front):
        job = held_job(pages=1)
        released = job_release(job.pk, staff_user, finisher.pk, {})
        waiting = _wait_for_message(job.pk, "looked for at the printer", timeout=90)
        assert "could not be reached" not in waiting.message
        front.slow = False
        done = wait_for_end(job.pk, timeout=90)
    assert front.print_jobs == 1
    assert done.state == JobState.COMPLETED, done.message
    assert done.send_attempts > 5  # looked for after the last attempt, not sent again
    assert released.price is not None
    assert job_refunded(job.pk) == 0


def test_a_job_accepted_without_a_job_id_is_sent_once_and_completes(
    celery_worker: WorkerProcess,
    finisher: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    front = _front(finisher_peer, hides_jobs=True)
    with _printer_answering(finisher, handler=front):
        job = held_job(pages=1)
        job_release(job.pk, staff_user, finisher.pk, {})
        done = wait_for_end(job.pk)
    assert front.print_jobs == 1
    assert done.state == JobState.COMPLETED, done.message
    assert job_refunded(job.pk) == 0
