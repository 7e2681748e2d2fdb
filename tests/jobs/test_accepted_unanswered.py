"""A printer that took the job but did not say how (Print-Job answered successful-ok without
a job-id, or not answered at all after the document was sent): the job is never sent again,
nor refunded as not printed while it may have printed. Step by step against a real
ippeveprinter, behind fronts that change its answers."""

from __future__ import annotations

import http.server
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from apps.accounts.selectors import job_refunded
from apps.jobs import pipeline
from apps.jobs.choices import JobState
from apps.jobs.models import Job
from apps.printers.models import Printer
from printmgmt.ipp import Message, Operation, Status, decode, encode
from tests.jobs.test_pipeline_safety import _printer_answering
from tests.jobs.test_recovery import jobs_named
from tests.peers import IppEvePrinter, http_request_body, send_ipp_answer

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
