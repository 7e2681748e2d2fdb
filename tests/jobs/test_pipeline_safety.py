"""The pipeline's promises at their edges, step by step in this process against a real
ippeveprinter: one sender per job, every attempt counted, money back exactly when nothing
printed, and a printer that stops answering neither followed for ever nor refunded for free.
"""

from __future__ import annotations

import errno
import http.server
import resource
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.db import connection
from django.utils import timezone, translation

from apps.accounts.errors import AccountPermissionDenied
from apps.accounts.models import User
from apps.accounts.movements import account_charge, account_refund
from apps.accounts.roles import PRINTER_ADMIN
from apps.accounts.selectors import job_charge, job_refunded
from apps.accounts.services import personal_account_ensure, shared_account_create, user_create
from apps.ippserver.models import IppJob
from apps.ippserver.operations import answer as ipp_answer
from apps.ippserver.protocol import Endpoint
from apps.jobs import cancel, endings, following, outcomes, pipeline, printer_jobs, recovery
from apps.jobs.choices import JobState
from apps.jobs.documents import spool_path
from apps.jobs.models import Job, JobTransition
from apps.jobs.parts import Part, WorkDir, build_parts
from apps.jobs.release import ReleaseRefused, job_quote, job_release
from apps.jobs.send_failures import trouble_in_words
from apps.jobs.services import job_transition
from apps.jobs.tasks import reconcile_jobs, resume_lapsed_sends
from apps.printers.choices import PrinterKind
from apps.printers.models import Printer, SidePrice
from apps.printers.peers import free_port
from apps.rules.services import rule_file_activate, rule_file_save
from printmgmt import process_identity
from printmgmt.celery import app as celery_app
from printmgmt.ipp import (
    Attribute,
    AttributeGroup,
    GroupTag,
    IppTransportError,
    Message,
    Operation,
    Status,
    decode,
    encode,
)
from printmgmt.ipp.client import IppClient, SubmittedJob
from printmgmt.translatable import Text
from tests.children import ended_process_name
from tests.jobs.conftest import FINISHER_RULES, RELEASED_PRICE
from tests.jobs.test_recovery import PrinterThatHoldsBackOnePrintJob, jobs_named
from tests.pdfs import make_pdf
from tests.peers import IppEvePrinter, http_request_body, send_ipp_answer

pytestmark = [pytest.mark.peers]

PRICE = RELEASED_PRICE


def _sending(job: Job, *, claimed_by: str, claimed_ago: timedelta, attempts: int = 1) -> None:
    """The state a send task leaves while it sends (or when it died sending)."""
    job_transition(
        job.pk,
        JobState.SENDING,
        reason="test",
        send_attempts=attempts,
        claimed_by=claimed_by,
        claimed_at=timezone.now() - claimed_ago,
    )


def _at_printer(job: Job, printer_job_id: int = 1) -> None:
    _sending(job, claimed_by="test", claimed_ago=timedelta(0))
    job_transition(job.pk, JobState.PROCESSING, reason="test", printer_job_id=printer_job_id)


def _unreachable(printer: Printer) -> None:
    Printer.objects.filter(pk=printer.pk).update(uri=f"ipp://127.0.0.1:{free_port()}/ipp/print")


def _wait_printed(peer: IppEvePrinter, printer_job_id: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with IppClient(peer.uri) as client:
        while True:
            state = client.get_job_attributes(printer_job_id, ("job-state",)).get("job-state")
            if state is not None and state.value == 9:
                return
            assert time.monotonic() < deadline, "the printer never finished the job"
            time.sleep(0.2)


# ------------------------------------------------------------------------- one sender


def test_a_job_being_sent_is_taken_over_only_once_its_claim_is_stale(
    released: Callable[[], Job], finisher_peer: IppEvePrinter
) -> None:
    job = released()
    _sending(job, claimed_by="first", claimed_ago=timedelta(seconds=30))
    # A second message for the job while the first task may still be sending: a reconcile
    # sweep's, or the same task's put back in the queue when its worker lost the broker.
    for task_id in ("second", "first"):
        outcome = pipeline.send(job.pk, task_id=task_id)
        assert not outcome.at_printer
        assert str(outcome) == "another worker is sending the job"
    assert jobs_named(finisher_peer, job.marker.hex) == []
    assert Job.objects.get(pk=job.pk).send_attempts == 1
    # Older than a send task may run: its worker is gone.
    stale = timezone.now() - timedelta(seconds=recovery.SEND_CLAIM_SECONDS + 1)
    Job.objects.filter(pk=job.pk).update(claimed_at=stale)
    outcome = pipeline.send(job.pk, task_id="sweep")
    assert outcome.at_printer, outcome
    done = Job.objects.get(pk=job.pk)
    assert (done.state, done.send_attempts, done.claimed_by) == (
        JobState.PROCESSING,
        2,
        "sweep",
    )
    assert len(jobs_named(finisher_peer, job.marker.hex)) == 1
    # A job already at the printer: nothing sent, and no second follow-up to start.
    again = pipeline.send(job.pk, task_id="third")
    assert not again.at_printer


def test_a_job_whose_sending_process_died_on_this_machine_is_taken_over_at_once(
    released: Callable[[], Job], finisher_peer: IppEvePrinter
) -> None:
    # A worker process killed after the printer took the job: Celery hands the task straight
    # back. Waiting for the claim to go stale would let the printer forget the job (many keep
    # finished jobs for a minute), and it would be sent twice.
    job = released()
    _sending(job, claimed_by="killed", claimed_ago=timedelta(seconds=5))
    Job.objects.filter(pk=job.pk).update(claimed_in=ended_process_name())
    name = Part("", spool_path(job.document_name), []).job_name(job)
    with IppClient(finisher_peer.uri) as client:
        accepted = client.print_job(
            spool_path(job.document_name), job_name=name, document_format="application/pdf"
        )
    outcome = pipeline.send(job.pk, task_id="killed")  # the same task, delivered again
    assert outcome.at_printer, outcome
    taken = Job.objects.get(pk=job.pk)
    assert (taken.state, taken.printer_job_id, taken.send_attempts) == (
        JobState.PROCESSING,
        accepted.job_id,
        2,
    )
    assert taken.claimed_in == process_identity.current()
    assert len(jobs_named(finisher_peer, job.marker.hex)) == 1


@pytest.mark.parametrize("holder", ["this process", "another machine", "unnamed"])
def test_a_job_whose_sending_process_may_be_alive_waits_for_its_claim_to_go_stale(
    released: Callable[[], Job], finisher_peer: IppEvePrinter, holder: str
) -> None:
    job = released()
    _sending(job, claimed_by="first", claimed_ago=timedelta(seconds=100))
    here = process_identity.current()
    claimed_in = {
        "this process": here,
        # The same process id and start on another host says nothing about that process.
        "another machine": "elsewhere" + here[here.index("/") :],
        "unnamed": "",
    }[holder]
    Job.objects.filter(pk=job.pk).update(claimed_in=claimed_in)
    outcome = pipeline.send(job.pk, task_id="second")
    assert str(outcome) == "another worker is sending the job"
    # Looked at again when no task may still hold it.
    assert outcome.check_again_in is not None
    assert (
        recovery.SEND_CLAIM_SECONDS - 110
        < outcome.check_again_in
        <= (recovery.SEND_CLAIM_SECONDS - 100)
    )
    assert Job.objects.get(pk=job.pk).send_attempts == 1
    assert jobs_named(finisher_peer, job.marker.hex) == []


def _claimed_on_another_machine(job: Job, *, renewed_ago: timedelta) -> Job:
    """Claimed 100 s ago by a process on another host, last renewed `renewed_ago`."""
    _sending(job, claimed_by="elsewhere", claimed_ago=timedelta(seconds=100))
    here = process_identity.current()
    Job.objects.filter(pk=job.pk).update(
        claimed_in="elsewhere" + here[here.index("/") :],
        claim_renewed_at=timezone.now() - renewed_ago,
    )
    return Job.objects.get(pk=job.pk)


def test_a_claim_renewed_on_another_machine_is_kept_until_its_renewals_stop(
    released: Callable[[], Job], finisher_peer: IppEvePrinter, settings: Any
) -> None:
    stale = settings.SEND_CLAIM_STALE_SECONDS
    job = _claimed_on_another_machine(released(), renewed_ago=timedelta(seconds=5))
    # Its process renewed the claim a moment ago: it is sending.
    outcome = pipeline.send(job.pk, task_id="second")
    assert str(outcome) == "another worker is sending the job"
    # Looked at again when the claim goes stale unless renewed meanwhile, not in 10 minutes.
    assert outcome.check_again_in is not None
    assert stale - 15 < outcome.check_again_in <= stale - 5
    # Renewed again by then: refused again.
    Job.objects.filter(pk=job.pk).update(claim_renewed_at=timezone.now())
    assert str(pipeline.send(job.pk, task_id="second")) == "another worker is sending the job"
    assert Job.objects.get(pk=job.pk).send_attempts == 1
    assert jobs_named(finisher_peer, job.marker.hex) == []
    # A few renewals missed (its worker died): taken over, 100 s into a claim of up to 600 s.
    Job.objects.filter(pk=job.pk).update(
        claim_renewed_at=timezone.now() - timedelta(seconds=stale + 1)
    )
    outcome = pipeline.send(job.pk, task_id="second")
    assert outcome.at_printer, outcome
    taken = Job.objects.get(pk=job.pk)
    assert (taken.state, taken.send_attempts, taken.claimed_by, taken.claimed_in) == (
        JobState.PROCESSING,
        2,
        "second",
        process_identity.current(),
    )
    assert len(jobs_named(finisher_peer, job.marker.hex)) == 1


def test_a_renewal_older_than_the_claim_is_an_earlier_claims(
    released: Callable[[], Job], finisher_peer: IppEvePrinter
) -> None:
    # Claimed by a task that does not renew (older code, during an upgrade) after an attempt
    # that did: its claim is its own until it is as old as a send task may run.
    job = _claimed_on_another_machine(released(), renewed_ago=timedelta(seconds=101))
    outcome = pipeline.send(job.pk, task_id="second")
    assert str(outcome) == "another worker is sending the job"
    assert outcome.check_again_in is not None
    assert outcome.check_again_in > recovery.SEND_CLAIM_SECONDS - 110
    assert Job.objects.get(pk=job.pk).send_attempts == 1
    assert jobs_named(finisher_peer, job.marker.hex) == []


def _renewal_thread_of(job: Job) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"claim-renewal-job{job.pk}"]


def test_a_claim_is_renewed_until_its_send_ends_however_it_ends(
    released: Callable[[], Job], settings: Any
) -> None:
    settings.SEND_CLAIM_RENEW_SECONDS = 1
    job = released()
    _sending(job, claimed_by="me", claimed_ago=timedelta(0))
    claim = Job.objects.get(pk=job.pk)
    renewals = []

    def send_that_fails() -> None:
        with recovery.claim_renewed(claim):
            time.sleep(1.5)
            renewals.append(Job.objects.get(pk=job.pk).claim_renewed_at)
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        send_that_fails()
    assert _renewal_thread_of(job) == []
    [renewed] = renewals
    assert renewed is not None
    assert claim.claimed_at is not None
    assert renewed > claim.claimed_at
    time.sleep(1.5)
    assert Job.objects.get(pk=job.pk).claim_renewed_at == renewed


def test_a_hung_send_stops_renewing_its_claim_at_the_send_tasks_time_limit(
    released: Callable[[], Job], settings: Any
) -> None:
    # In a pool that does not enforce the hard time limit (threads, solo) a send that hangs
    # must not hold the job for ever.
    settings.SEND_CLAIM_RENEW_SECONDS = 1
    job = released()
    _sending(
        job,
        claimed_by="hung",
        claimed_ago=timedelta(seconds=recovery.SEND_CLAIM_SECONDS - 2.5),
    )
    claim = Job.objects.get(pk=job.pk)
    assert claim.claimed_at is not None
    limit = claim.claimed_at + timedelta(seconds=recovery.SEND_CLAIM_SECONDS)
    with recovery.claim_renewed(claim):
        time.sleep(1.5)
        before_the_limit = Job.objects.get(pk=job.pk).claim_renewed_at
        assert before_the_limit is not None
        while timezone.now() < limit + timedelta(seconds=1.5):
            time.sleep(0.1)
        assert _renewal_thread_of(job) == []
        last = Job.objects.get(pk=job.pk)
        assert last.claim_renewed_at is not None
        assert before_the_limit <= last.claim_renewed_at < limit
        # Still in the hung send: another task takes the job over.
        assert recovery.take_over(last, "sweep")


@pytest.mark.parametrize("answered", [True, False])
def test_a_send_whose_claim_was_taken_over_meanwhile_leaves_the_job_to_the_taker(
    released: Callable[[], Job], finisher: Printer, finisher_peer: IppEvePrinter, answered: bool
) -> None:
    # Its process could not renew the claim (the database out of reach) while the printer
    # took its job, and another task took the job over, having searched the printer before
    # that. The first records nothing over the new claim and takes its printer job back;
    # cut off instead of answered, it does not put the job back to be sent again either.
    proxy = PrinterThatHoldsBackOnePrintJob(finisher_peer.uri)
    Printer.objects.filter(pk=finisher.pk).update(uri=proxy.uri)
    job = released()

    def taken_over_while_the_printer_has_it() -> None:
        try:
            assert proxy.printer_took_the_job.wait(30)
            lapsed = timezone.now() - timedelta(seconds=recovery.SEND_CLAIM_SECONDS / 2)
            Job.objects.filter(pk=job.pk).update(claimed_at=lapsed, claim_renewed_at=lapsed)
            assert recovery.take_over(Job.objects.get(pk=job.pk), "taker")
        finally:
            connection.close()
            if answered:
                proxy.answer()
            else:
                proxy.held.set()  # the connection is closed unanswered

    taker = threading.Thread(target=taken_over_while_the_printer_has_it)
    taker.start()
    try:
        if answered:
            outcome = pipeline.send(job.pk, task_id="first")
            assert not outcome.at_printer
            assert str(outcome).startswith("sending meanwhile; printer job "), outcome
        else:
            with pytest.raises(outcomes.RetryLater):
                pipeline.send(job.pk, task_id="first")
    finally:
        taker.join()
        proxy.close()
    kept = Job.objects.get(pk=job.pk)
    assert (kept.state, kept.send_attempts, kept.claimed_by, kept.printer_job_id) == (
        JobState.SENDING,
        2,
        "taker",
        None,
    )


def test_a_copy_another_attempt_recorded_meanwhile_is_not_canceled(
    released: Callable[[], Job], finisher_peer: IppEvePrinter
) -> None:
    # Two attempts searched the printer and found the same copy of an earlier send: the one
    # that records it second leaves it printing.
    job = released()
    _sending(job, claimed_by="first", claimed_ago=timedelta(seconds=30), attempts=2)
    claimed = Job.objects.get(pk=job.pk)
    name = Part("", spool_path(job.document_name), []).job_name(job)
    with IppClient(finisher_peer.uri) as client:
        copy = client.print_job(
            spool_path(job.document_name), job_name=name, document_format="application/pdf"
        )
    Job.objects.filter(pk=job.pk).update(send_attempts=3, claimed_by="second")
    assert recovery.adopt_earlier_send(Job.objects.get(pk=job.pk)) is not None
    outcome = recovery.adopt_earlier_send(claimed)
    assert str(outcome) == f"printer job {copy.job_id} was recorded by another attempt"
    done = Job.objects.get(pk=job.pk)
    assert (done.state, done.printer_job_id) == (JobState.PROCESSING, copy.job_id)


def test_a_job_whose_attempts_keep_dying_is_given_up_unless_the_printer_has_it(
    released: Callable[[], Job],
    finisher_peer: IppEvePrinter,
    settings: Any,
) -> None:
    settings.PRINT_MAX_ATTEMPTS = 2
    stale = timedelta(seconds=recovery.SEND_CLAIM_SECONDS + 1)
    lost = released()
    _sending(lost, claimed_by="dead", claimed_ago=stale, attempts=2)
    assert str(pipeline.send(lost.pk, task_id="sweep")) == "failed: gave up"
    failed = Job.objects.get(pk=lost.pk)
    assert failed.state == JobState.FAILED
    assert "given up" in failed.message
    assert job_refunded(lost.pk) == PRICE
    assert jobs_named(finisher_peer, lost.marker.hex) == []

    # The last attempt reached the printer before its worker died: that job is adopted. It is
    # found by its marker, whatever the title before it (names were cut differently once).
    reached = released()
    _sending(reached, claimed_by="dead", claimed_ago=stale, attempts=2)
    name = "an older title " + Part("", spool_path(reached.document_name), []).marker(reached)
    with IppClient(finisher_peer.uri) as client:
        accepted = client.print_job(
            spool_path(reached.document_name), job_name=name, document_format="application/pdf"
        )
    assert pipeline.send(reached.pk, task_id="sweep").at_printer
    adopted = Job.objects.get(pk=reached.pk)
    assert (adopted.state, adopted.printer_job_id) == (JobState.PROCESSING, accepted.job_id)
    assert job_refunded(reached.pk) == 0


# ------------------------------------------------------------------------- disabled printers


def _disable(printer: Printer) -> None:
    Printer.objects.filter(pk=printer.pk).update(enabled=False)


def test_a_job_released_to_a_printer_disabled_since_fails_with_its_refund_unsent(
    released: Callable[[], Job], finisher: Printer, finisher_peer: IppEvePrinter
) -> None:
    fresh = released()
    # Released while the printer could not be reached: the first attempt waits for it.
    retried = released()
    _unreachable(finisher)
    with pytest.raises(outcomes.RetryLater):
        pipeline.send(retried.pk, task_id="first")
    # An administrator disables the printer; then it answers again.
    Printer.objects.filter(pk=finisher.pk).update(uri=finisher_peer.uri)
    _disable(finisher)
    for job in (fresh, retried):
        assert str(pipeline.send(job.pk, task_id="next")) == "failed: printer disabled"
        failed = Job.objects.get(pk=job.pk)
        assert failed.state == JobState.FAILED
        assert failed.message == "printer finisher was disabled by an administrator"
        assert job_refunded(job.pk) == PRICE
        assert jobs_named(finisher_peer, job.marker.hex) == []
        assert JobTransition.objects.filter(job=job, to_state=JobState.FAILED).count() == 1


def test_a_job_at_a_printer_disabled_since_is_followed_to_its_end(
    released: Callable[[], Job], finisher: Printer, finisher_peer: IppEvePrinter
) -> None:
    at_printer = released()
    assert pipeline.send(at_printer.pk, task_id="t").at_printer
    # An earlier attempt reached the printer, but its answer was lost: the job is found there.
    reached = released()
    job_transition(reached.pk, JobState.SENDING, reason="test", send_attempts=1)
    job_transition(reached.pk, JobState.RELEASED, reason="test: will retry")
    name = Part("", spool_path(reached.document_name), []).marker(reached)
    with IppClient(finisher_peer.uri) as client:
        accepted = client.print_job(
            spool_path(reached.document_name), job_name=name, document_format="application/pdf"
        )
    _disable(finisher)
    assert (
        str(pipeline.send(at_printer.pk, task_id="again")) == "nothing to send: job is processing"
    )
    assert pipeline.send(reached.pk, task_id="t").at_printer
    assert Job.objects.get(pk=reached.pk).printer_job_id == accepted.job_id
    for job in (at_printer, reached):
        deadline = time.monotonic() + 60
        while not following.follow(job.pk):
            assert time.monotonic() < deadline, "the job never ended"
            time.sleep(0.2)
        assert Job.objects.get(pk=job.pk).state == JobState.COMPLETED
        assert job_refunded(job.pk) == 0
        assert len(jobs_named(finisher_peer, job.marker.hex)) == 1


# ------------------------------------------------------------------------- every attempt counts


@contextmanager
def _file_size_limit(most_bytes: int) -> Iterator[None]:
    """A real OS refusal to write (EFBIG, as a full disk's ENOSPC): this process may write no
    file past `most_bytes` (Python ignores SIGXFSZ, so the write fails rather than kills)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (most_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_a_file_the_server_cannot_write_is_told_in_words_and_the_job_tried_again(
    held_job: Callable[..., Job],
    staff_user: User,
    finisher: Printer,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.PRINT_MAX_ATTEMPTS = 2
    # 399 of 400 pages: the selection is written to a working file of about 180 kB.
    job = held_job(pages=400)
    account = personal_account_ensure(staff_user)
    account_charge(account.pk, PRICE, job_id=job.pk, user=staff_user)
    job_transition(
        job.pk,
        JobState.RELEASED,
        reason="test",
        printer=finisher,
        price=PRICE,
        account=account,
        page_ranges="1-399",
        expected_impressions=399,
    )
    with _file_size_limit(64 * 1024), pytest.raises(outcomes.RetryLater):
        pipeline.send(job.pk, task_id="t")
    waiting = Job.objects.get(pk=job.pk)
    assert waiting.state == JobState.RELEASED
    assert waiting.message == (
        "the print server may not write a file as large as this job needs (a file size "
        "limit); it will be tried again"
    )
    # The administrator finds the exception itself in the log.
    assert any(
        record.exc_info and "File too large" in str(record.exc_info[1]) for record in caplog.records
    )
    # Tried again once the server can write: it prints, and its money stays charged.
    assert pipeline.send(job.pk, task_id="t").at_printer
    assert Job.objects.get(pk=job.pk).state == JobState.PROCESSING
    assert job_refunded(job.pk) == 0


def test_an_unusable_trusted_certificate_is_told_in_words_until_the_job_is_given_up(
    released: Callable[[], Job], finisher: Printer, settings: Any
) -> None:
    settings.PRINT_MAX_ATTEMPTS = 2
    # Stored past the checks of the printer's edit page (a shell, an old version): OpenSSL
    # cannot load it, and every attempt's connection fails before it is made.
    Printer.objects.filter(pk=finisher.pk).update(
        trusted_certificate="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    )
    job = released()
    with pytest.raises(outcomes.RetryLater):
        pipeline.send(job.pk, task_id="t")
    why = "the print server could not set up a secure connection to the printer ("
    waiting = Job.objects.get(pk=job.pk)
    assert waiting.message.startswith(why), waiting.message
    assert waiting.message.endswith("); it will be tried again")
    assert str(pipeline.send(job.pk, task_id="t")) == "failed: gave up"
    failed = Job.objects.get(pk=job.pk)
    assert failed.state == JobState.FAILED
    assert failed.message.startswith(why), failed.message
    assert failed.message.endswith("; the job was given up after 2 attempts")
    for message in (waiting.message, failed.message):
        assert not any(text in message for text in ("SSLError", "_ssl.c", "["))
    assert job_refunded(job.pk) == PRICE


def test_trouble_on_the_print_server_is_told_without_exception_names() -> None:
    assert str(trouble_in_words(OSError(errno.ENOSPC, "No space left on device"))) == (
        "the print server ran out of disk space while preparing the job"
    )
    assert str(trouble_in_words(PermissionError(errno.EACCES, "Permission denied"))) == (
        "the print server could not read or write the job's files (permission denied)"
    )
    assert str(trouble_in_words(KeyError("media"))) == (
        "an unexpected error on the print server (the administrator can find it in its log)"
    )


def test_a_job_is_built_with_the_rule_file_version_it_was_priced_with(
    held_job: Callable[..., Job], staff_user: User, finisher: Printer
) -> None:
    # A CUPS queue: the rule file's mapping is what names the staple to its PPD.
    Printer.objects.filter(pk=finisher.pk).update(kind=PrinterKind.CUPS_QUEUE)
    job = held_job(pages=1)
    job_release(job.pk, staff_user, finisher.pk, {"org.savapage-finishings-staple": "20"})
    # An admin rolls the rule file back to a version without the staple while the job waits
    # for its printer: it was charged for the staple, and is stapled.
    without_staple = "\n".join(
        line for line in FINISHER_RULES.splitlines() if "staple" not in line.lower()
    )
    rule_file_activate(rule_file_save("test-finisher", without_staple + "\n").pk)
    released = Job.objects.select_related("printer").get(pk=job.pk)
    workdir = WorkDir("test-")
    try:
        (part,) = build_parts(released, workdir)
    finally:
        workdir.remove()
    assert [(a.name, a.value) for a in part.attributes if a.name == "Staple"] == [
        ("Staple", "TopLeft")
    ]


# ------------------------------------------------------------------------- money


def test_pages_printed_on_covers_count_among_the_impressions_a_job_expects(
    held_job: Callable[..., Job], staff_user: User, finisher: Printer
) -> None:
    job = held_job(pages=3)
    cover = {"org.savapage-cover-front-type": "print-front"}
    job_release(job.pk, staff_user, finisher.pk, cover, copies=2)
    # Two sides of the body and the first page on the cover, twice: what the printer counts.
    assert Job.objects.get(pk=job.pk).expected_impressions == 6


def test_a_job_ends_together_with_its_refund_or_not_at_all(
    released: Callable[[], Job], monkeypatch: pytest.MonkeyPatch
) -> None:
    job = released()

    def refund_fails(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    # Injected: the refund failing after the job's end was written is what is tested.
    monkeypatch.setattr(endings, "account_refund", refund_fails)
    with pytest.raises(RuntimeError):
        endings.fail(job.pk, Text("the printer refused the job"))
    assert Job.objects.get(pk=job.pk).state == JobState.RELEASED
    assert not JobTransition.objects.filter(job=job, to_state=JobState.FAILED).exists()
    monkeypatch.undo()
    endings.fail(job.pk, Text("the printer refused the job"))
    assert Job.objects.get(pk=job.pk).state == JobState.FAILED
    assert job_refunded(job.pk) == PRICE


def test_a_refund_made_by_hand_counts_towards_what_a_failed_job_gets_back(
    released: Callable[[], Job],
) -> None:
    job = released()
    # With the default key, as the refund task leaves it: the pipeline's own refund must be
    # neither taken for this one nor refused for exceeding what is left.
    account_refund(job.pk, Decimal("0.05"), reason="a jam, refunded at the desk")
    endings.fail(job.pk, Text("the printer refused the job"))
    assert Job.objects.get(pk=job.pk).state == JobState.FAILED
    assert job_refunded(job.pk) == PRICE


def test_canceling_a_job_the_printer_has_printed_keeps_the_charge(
    released: Callable[[], Job], finisher_peer: IppEvePrinter
) -> None:
    job = released()
    assert pipeline.send(job.pk, task_id="t").at_printer
    sent = Job.objects.get(pk=job.pk)
    assert sent.printer_job_id is not None
    _wait_printed(finisher_peer, sent.printer_job_id)
    # The user cancels before the next follow-up saw the end: too late, it printed.
    assert cancel.cancel(job.pk, reason=cancel.canceled_by("sam")) is None
    done = Job.objects.get(pk=job.pk)
    assert done.state == JobState.COMPLETED, done.message
    assert job_refunded(job.pk) == 0


def test_a_job_being_sent_is_not_canceled_behind_its_tasks_back(
    released: Callable[[], Job], finisher_peer: IppEvePrinter
) -> None:
    job = released()
    # Its task is sending it to a printer slow to answer, which then prints it at once.
    _sending(job, claimed_by="t", claimed_ago=timedelta(seconds=5))
    with pytest.raises(cancel.CancelRefused, match="being sent to the printer"):
        cancel.cancel(job.pk, reason=cancel.canceled_by("sam"))
    assert Job.objects.get(pk=job.pk).state == JobState.SENDING
    assert job_refunded(job.pk) == 0
    # At the printer, the cancel goes through it: printed, the job keeps its charge.
    Job.objects.filter(pk=job.pk).update(claimed_at=None)
    assert pipeline.send(job.pk, task_id="t").at_printer
    sent = Job.objects.get(pk=job.pk)
    assert sent.printer_job_id is not None
    _wait_printed(finisher_peer, sent.printer_job_id)
    assert cancel.cancel(job.pk, reason=cancel.canceled_by("sam")) is None
    assert Job.objects.get(pk=job.pk).state == JobState.COMPLETED
    assert job_refunded(job.pk) == 0


def _printed_by_an_earlier_attempt(job: Job, peer: IppEvePrinter) -> SubmittedJob:
    """The job itself at the printer, printed, as an attempt whose answer was lost left it."""
    document = spool_path(job.document_name)
    with IppClient(peer.uri, user_name=job.owner.get_username()) as client:
        accepted = client.print_job(
            document,
            job_name=Part("", document, []).job_name(job),
            document_format="application/pdf",
        )
    _wait_printed(peer, accepted.job_id)
    return accepted


def _waiting_after_an_attempt(job: Job) -> None:
    """An attempt that got no answer in time: the job waits for its next one."""
    job_transition(job.pk, JobState.SENDING, reason="test", send_attempts=1)
    job_transition(job.pk, JobState.RELEASED, reason="test: will retry")


def test_a_job_an_earlier_attempt_may_have_delivered_is_canceled_at_the_printer_first(
    released: Callable[[], Job], finisher: Printer, finisher_peer: IppEvePrinter
) -> None:
    # The printer hung while the attempt waited; running again, it took the request and
    # printed the job.
    printed = released()
    _waiting_after_an_attempt(printed)
    accepted = _printed_by_an_earlier_attempt(printed, finisher_peer)
    with pytest.raises(cancel.CancelRefused, match="would not cancel"):
        cancel.cancel(printed.pk, reason=cancel.canceled_by("sam"))
    assert Job.objects.get(pk=printed.pk).state == JobState.RELEASED
    assert job_refunded(printed.pk) == 0
    # Its next attempt records it at the printer, where it printed: it keeps its charge.
    assert pipeline.send(printed.pk, task_id="t").at_printer
    assert Job.objects.get(pk=printed.pk).printer_job_id == accepted.job_id

    # The printer cannot be asked: the job may still print.
    waiting = released()
    _waiting_after_an_attempt(waiting)
    _unreachable(finisher)
    with pytest.raises(cancel.CancelRefused, match="cannot be reached"):
        cancel.cancel(waiting.pk, reason=cancel.canceled_by("sam"))
    assert job_refunded(waiting.pk) == 0
    # It answers, without the job: canceled here, all of it refunded.
    Printer.objects.filter(pk=finisher.pk).update(uri=finisher_peer.uri)
    canceled = cancel.cancel(waiting.pk, reason=cancel.canceled_by("sam"))
    assert canceled is not None
    assert canceled.state == JobState.CANCELED
    assert job_refunded(waiting.pk) == PRICE


def test_a_job_an_earlier_attempt_left_waiting_at_the_printer_is_canceled_there_with_its_count(
    released: Callable[[], Job], finisher_peer: IppEvePrinter
) -> None:
    # The earlier attempt reached the printer, which has not printed it: canceled there, the
    # printer's job and what it printed of it (nothing) are the job's; all of it is refunded.
    waiting = released()
    _waiting_after_an_attempt(waiting)
    document = spool_path(waiting.document_name)
    with IppClient(finisher_peer.uri, user_name=waiting.owner.get_username()) as client:
        # Created, its document still to come: the printer keeps it waiting.
        accepted = client.create_job(job_name=Part("", document, []).job_name(waiting))
    canceled = cancel.cancel(waiting.pk, reason=cancel.canceled_by("sam"))
    assert canceled is not None
    assert (canceled.state, canceled.printer_job_id) == (JobState.CANCELED, accepted.job_id)
    assert canceled.impressions_completed == 0
    assert job_refunded(waiting.pk) == PRICE


def test_a_job_whose_attempts_never_reached_its_printer_is_canceled_while_it_is_down(
    released: Callable[[], Job], finisher: Printer
) -> None:
    # The printer is off: the attempt could not even connect, so nothing of the job can be
    # there, and the user need not wait for the printer to cancel it.
    job = released()
    _unreachable(finisher)
    with pytest.raises(outcomes.RetryLater):
        pipeline.send(job.pk, task_id="t")
    waiting = Job.objects.get(pk=job.pk)
    assert (waiting.state, waiting.send_attempts) == (JobState.RELEASED, 1)
    canceled = cancel.cancel(job.pk, reason=cancel.canceled_by("sam"))
    assert canceled is not None
    assert canceled.state == JobState.CANCELED
    assert job_refunded(job.pk) == PRICE


def test_a_retry_between_the_cancels_look_and_its_end_keeps_the_job(
    released: Callable[[], Job], finisher: Printer
) -> None:
    job = released()
    _unreachable(finisher)
    with pytest.raises(outcomes.RetryLater):
        pipeline.send(job.pk, task_id="t")
    seen = Job.objects.get(pk=job.pk)  # what the cancel read: nothing can be at the printer
    # Meanwhile a retry's attempt reached the printer, got no answer, and waits again.
    job_transition(job.pk, JobState.SENDING, reason="test: retry", send_attempts=2)
    job_transition(job.pk, JobState.RELEASED, reason="test: will retry")
    assert cancel._end_waiting_job_as_seen(seen, cancel.canceled_by("sam"), {}) is None
    assert Job.objects.get(pk=job.pk).state == JobState.RELEASED
    assert job_refunded(job.pk) == 0


def test_an_attempt_that_sent_its_start_sheet_before_the_printer_went_down_is_searched_for(
    released: Callable[[], Job], finisher: Printer, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = released()
    Job.objects.filter(pk=job.pk).update(options={"org.savapage-job-sheets": "job-start-sheet"})
    print_job = pipeline._print_job

    def down_after_the_start_sheet(
        client: IppClient, part: Part, job_name: str, marker: str, document_format: str
    ) -> object:
        if part.suffix != "start":
            # Injected: the printer going off between two requests of one attempt.
            raise IppTransportError("cannot connect: refused", may_have_made_job=False)
        return print_job(client, part, job_name, marker, document_format)

    monkeypatch.setattr(pipeline, "_print_job", down_after_the_start_sheet)
    with pytest.raises(outcomes.RetryLater):
        pipeline.send(job.pk, task_id="t")
    monkeypatch.undo()
    _unreachable(finisher)
    with pytest.raises(cancel.CancelRefused, match="cannot be reached"):
        cancel.cancel(job.pk, reason=cancel.canceled_by("sam"))
    assert job_refunded(job.pk) == 0


class _PrinterCaughtReadingItsBacklog(http.server.BaseHTTPRequestHandler):
    """The test printer behind a front whose Get-Jobs answer shows every job as still
    receiving its document (pending-held, job-incoming): what a search sees while a printer
    that was stopped reads an earlier attempt's upload from its backlog."""

    target = ""

    def do_POST(self) -> None:
        request = http_request_body(self)
        answer = httpx.post(
            self.target, content=request, headers={"Content-Type": "application/ipp"}
        ).content
        if int.from_bytes(request[2:4], "big") == Operation.GET_JOBS:
            message = decode(answer)
            incoming = (
                Attribute.enum("job-state", 4),
                Attribute.keyword("job-state-reasons", "job-incoming"),
            )
            groups = [
                AttributeGroup(
                    group.tag,
                    (
                        *(a for a in group if a.name not in {"job-state", "job-state-reasons"}),
                        *incoming,
                    ),
                )
                if group.tag == GroupTag.JOB
                else group
                for group in message.groups
            ]
            answer = encode(
                Message.response(message.status_code, message.request_id, groups=groups)
            )
        send_ipp_answer(self, answer)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def test_a_job_seen_still_incoming_that_printed_before_its_cancel_is_found_not_failed(
    finisher_peer: IppEvePrinter, tmp_path: Path
) -> None:
    # The job had its document by the time the cancel came: the printer refuses to cancel a
    # completed job, and the search failed the job with "Cancel-Job: ... already completed"
    # (refunded, though it printed).
    marker = "[pm-backlog]"
    with IppClient(finisher_peer.uri) as client:
        printed = client.print_job(make_pdf(tmp_path / "a.pdf", 1), job_name=f"memo {marker}")
    deadline = time.monotonic() + 30
    while not any(j[0] == printed.job_id and j[2] == 9 for j in jobs_named(finisher_peer, marker)):
        assert time.monotonic() < deadline, "the printer never completed the job"
        time.sleep(0.2)
    handler = type(
        "Handler",
        (_PrinterCaughtReadingItsBacklog,),
        {"target": finisher_peer.uri.replace("ipp://", "http://", 1)},
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with IppClient(f"ipp://127.0.0.1:{server.server_address[1]}/ipp/print") as front:
            found = printer_jobs.find_earlier_send(front, marker)
    finally:
        server.shutdown()
        server.server_close()
    assert found is not None
    assert found.job_id == printed.job_id


def test_a_retry_that_sends_the_job_during_the_cancels_search_is_canceled_at_the_printer(
    released: Callable[[], Job], finisher_peer: IppEvePrinter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The search takes seconds; a retry that claims the job meanwhile and puts it at the
    # printer is where this cancel must reach it: through the printer, not here only (which
    # refunded a job the printer went on to print).
    job = released()
    _waiting_after_an_attempt(job)
    searched = printer_jobs.find_earlier_send
    at_printer: list[int] = []

    def search_while_a_retry_sends(client: IppClient, marker: str) -> object:
        found = searched(client, marker)
        job_transition(job.pk, JobState.SENDING, reason="test: retry", send_attempts=2)
        with IppClient(finisher_peer.uri, user_name=job.owner.get_username()) as printer:
            sent = printer.create_job(job_name=f"retry {marker}")
        at_printer.append(sent.job_id)
        job_transition(job.pk, JobState.PROCESSING, reason="test", printer_job_id=sent.job_id)
        return found

    monkeypatch.setattr(printer_jobs, "find_earlier_send", search_while_a_retry_sends)
    canceled = cancel.cancel(job.pk, reason=cancel.canceled_by("sam"))
    assert canceled is not None
    assert canceled.state == JobState.CANCELED
    with IppClient(finisher_peer.uri) as printer:
        group = printer.get_job_attributes(at_printer[0], ("job-state",))
    state = group.get("job-state")
    assert state is not None
    assert state.value == 7  # canceled there too


def test_a_retry_that_claims_the_job_during_the_cancels_search_keeps_it(
    released: Callable[[], Job], monkeypatch: pytest.MonkeyPatch
) -> None:
    job = released()
    _waiting_after_an_attempt(job)
    searched = printer_jobs.find_earlier_send

    def search_while_a_retry_claims(client: IppClient, marker: str) -> object:
        found = searched(client, marker)
        job_transition(job.pk, JobState.SENDING, reason="test: retry", send_attempts=2)
        return found

    monkeypatch.setattr(printer_jobs, "find_earlier_send", search_while_a_retry_claims)
    with pytest.raises(cancel.CancelRefused, match="being sent to the printer right now"):
        cancel.cancel(job.pk, reason=cancel.canceled_by("sam"))
    assert Job.objects.get(pk=job.pk).state == JobState.SENDING
    assert job_refunded(job.pk) == 0


def test_a_job_at_a_printer_that_cannot_be_reached_is_not_canceled_nor_refunded(
    released: Callable[[], Job], finisher: Printer
) -> None:
    job = released()
    _at_printer(job)
    _unreachable(finisher)
    with pytest.raises(cancel.CancelRefused, match="cannot be reached"):
        cancel.cancel(job.pk, reason=cancel.canceled_by("sam"))
    assert Job.objects.get(pk=job.pk).state == JobState.PROCESSING
    assert job_refunded(job.pk) == 0
    # From a device: Cancel-My-Jobs says so, and does not claim the job was canceled.
    IppJob.objects.create(owner=job.owner, name=job.title, job=job)
    request = Message.request(Operation.CANCEL_MY_JOBS, 1, target_uri="ipp://localhost/ipp/print")
    answer = ipp_answer(request, job.owner, Endpoint("localhost", secure=False), None)
    assert answer.status_code == Status.CLIENT_ERROR_NOT_POSSIBLE
    message = answer.get("status-message")
    assert message is not None
    assert "may still print" in str(message.value)
    assert Job.objects.get(pk=job.pk).state == JobState.PROCESSING


# ------------------------------------------------------------------------- following


class _StatusHandler(http.server.BaseHTTPRequestHandler):
    """A printer that answers every request with one IPP status."""

    status = Status.SERVER_ERROR_INTERNAL_ERROR

    def do_POST(self) -> None:
        request = http_request_body(self)
        body = encode(Message.response(self.status, int.from_bytes(request[4:8], "big")))
        send_ipp_answer(self, body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class _PrinterWithAnotherJob(http.server.BaseHTTPRequestHandler):
    """A printer restarted since our job reached it: the id is someone else's job, printing.
    It takes Cancel-Job, and counts the ones it is sent."""

    cancels: list[int] = []
    name = "someone else's memo"

    def do_POST(self) -> None:
        request = http_request_body(self)
        operation = int.from_bytes(request[2:4], "big")
        groups = []
        if operation == Operation.GET_JOB_ATTRIBUTES:
            printing = Attribute.enum("job-state", 5)
            name = Attribute.name_("job-name", self.name)
            groups = [AttributeGroup(GroupTag.JOB, (printing, name))]
        elif operation == Operation.CANCEL_JOB:
            self.cancels.append(operation)
        body = encode(
            Message.response(
                Status.SUCCESSFUL_OK, int.from_bytes(request[4:8], "big"), groups=groups
            )
        )
        send_ipp_answer(self, body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def test_canceling_a_job_whose_id_is_another_job_now_cancels_nothing_at_the_printer(
    released: Callable[[], Job], finisher: Printer
) -> None:
    job = released()
    _at_printer(job)
    with _printer_answering(finisher, handler=_PrinterWithAnotherJob):
        assert cancel.cancel(job.pk, reason=cancel.canceled_by("sam")) is None
    assert _PrinterWithAnotherJob.cancels == []
    done = Job.objects.get(pk=job.pk)
    assert done.state == JobState.COMPLETED
    assert done.message == "the printer no longer knows the job (its job 1 is another one)"


class _CancelingPrinter(http.server.BaseHTTPRequestHandler):
    """A printer that takes Cancel-Job, and says the job is still processing with three of
    its four sides printed (ippeveprinter counts no sides as it prints)."""

    def do_POST(self) -> None:
        request = http_request_body(self)
        operation = int.from_bytes(request[2:4], "big")
        groups = []
        if operation == Operation.GET_JOB_ATTRIBUTES:
            printing = Attribute.enum("job-state", 5)
            sides = Attribute.integer("job-impressions-completed", 3)
            groups = [AttributeGroup(GroupTag.JOB, (printing, sides))]
        answer = Message.response(
            Status.SUCCESSFUL_OK, int.from_bytes(request[4:8], "big"), groups=groups
        )
        body = encode(answer)
        send_ipp_answer(self, body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextmanager
def _printer_answering(
    printer: Printer,
    status: Status = Status.SUCCESSFUL_OK,
    handler: type[http.server.BaseHTTPRequestHandler] | None = None,
) -> Iterator[None]:
    handler = handler or type("Handler", (_StatusHandler,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    Printer.objects.filter(pk=printer.pk).update(uri=f"ipp://127.0.0.1:{port}/ipp/print")
    try:
        yield
    finally:
        server.shutdown()


class _EndSheetRefusingPrinter(http.server.BaseHTTPRequestHandler):
    """The test printer behind a front that answers every end sheet's Print-Job with one
    error status (a sheet's media not loaded, or still busy with the job before it) and
    passes everything else on."""

    target = ""
    status = Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED

    def do_POST(self) -> None:
        request = http_request_body(self)
        if int.from_bytes(request[2:4], "big") == Operation.PRINT_JOB and b"-end]" in request:
            send_ipp_answer(
                self, encode(Message.response(self.status, int.from_bytes(request[4:8], "big")))
            )
        else:
            self._pass_on(request)

    def _pass_on(self, request: bytes) -> None:
        send_ipp_answer(
            self,
            httpx.post(
                self.target, content=request, headers={"Content-Type": "application/ipp"}
            ).content,
        )

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.mark.parametrize(
    "status", [Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED, Status.SERVER_ERROR_BUSY]
)
def test_an_end_sheet_that_cannot_be_printed_does_not_fail_the_job_that_printed(
    released: Callable[[], Job],
    finisher: Printer,
    finisher_peer: IppEvePrinter,
    settings: Any,
    status: Status,
) -> None:
    settings.PRINT_MAX_ATTEMPTS = 1  # a busy printer: this is the last attempt
    job = released()
    Job.objects.filter(pk=job.pk).update(options={"org.savapage-job-sheets": "job-end-sheet"})
    target = finisher_peer.uri.replace("ipp://", "http://", 1)
    handler = type("Handler", (_EndSheetRefusingPrinter,), {"target": target, "status": status})
    with _printer_answering(finisher, handler=handler):
        assert pipeline.send(job.pk, task_id="t").at_printer
        sent = Job.objects.get(pk=job.pk)
        assert sent.state == JobState.PROCESSING
        assert "the end sheet was not printed" in sent.message
        # Followed to its end, the job still says so, before what the printer says.
        deadline = time.monotonic() + 60
        while not following.follow(job.pk):
            assert time.monotonic() < deadline, "the printer never ended the job"
            time.sleep(0.2)
    done = Job.objects.get(pk=job.pk)
    assert done.state == JobState.COMPLETED
    assert done.message.startswith(f"{sent.message}; printer says completed: "), done.message
    # The test finisher's rule file prices no job sheets: nothing to give back for it
    # (tests/jobs/test_not_done_refunds.py gives back one that has a price).
    assert job_refunded(job.pk) == 0
    printed = jobs_named(finisher_peer, job.marker.hex)
    assert [(job_id, name) for job_id, name, _ in printed] == [
        (sent.printer_job_id, Part("", spool_path(job.document_name), []).job_name(job))
    ]


class _SearchFailingPrinter(_EndSheetRefusingPrinter):
    """The test printer behind a front that answers Get-Jobs only twice (the search for the
    job itself), then server-error-busy (the search for its end sheet)."""

    searches = 0

    def do_POST(self) -> None:
        request = http_request_body(self)
        if int.from_bytes(request[2:4], "big") == Operation.GET_JOBS:
            type(self).searches += 1
            if type(self).searches > 2:
                send_ipp_answer(self, encode(Message.response(Status.SERVER_ERROR_BUSY, 1)))
                return
        self._pass_on(request)


def test_an_end_sheet_the_last_attempt_cannot_look_for_does_not_fail_the_job_that_printed(
    released: Callable[[], Job], finisher: Printer, finisher_peer: IppEvePrinter, settings: Any
) -> None:
    settings.PRINT_MAX_ATTEMPTS = 2
    job = released()
    Job.objects.filter(pk=job.pk).update(options={"org.savapage-job-sheets": "job-end-sheet"})
    # The first attempt put the job itself at the printer, which printed it; its answer was
    # lost, and the job waits for its second and last attempt.
    accepted = _printed_by_an_earlier_attempt(job, finisher_peer)
    _waiting_after_an_attempt(job)
    target = finisher_peer.uri.replace("ipp://", "http://", 1)
    handler = type("Handler", (_SearchFailingPrinter,), {"target": target, "searches": 0})
    with _printer_answering(finisher, handler=handler):
        assert pipeline.send(job.pk, task_id="t").at_printer
    found = Job.objects.get(pk=job.pk)
    assert (found.state, found.printer_job_id) == (JobState.PROCESSING, accepted.job_id)
    assert "the end sheet was not printed" in found.message
    assert job_refunded(job.pk) == 0


def test_a_job_canceled_while_printing_is_refunded_for_the_sides_not_printed(
    released: Callable[[], Job], finisher: Printer
) -> None:
    job = released()  # one copy of a 4-side job: expected_impressions below
    Job.objects.filter(pk=job.pk).update(expected_impressions=4)
    _at_printer(job)
    with _printer_answering(finisher, handler=_CancelingPrinter):
        canceled = cancel.cancel(job.pk, reason=cancel.canceled_by("sam"))
    assert canceled is not None
    assert canceled.state == JobState.CANCELED
    assert canceled.impressions_completed == 3
    assert job_refunded(job.pk) == PRICE / 4


def test_a_refund_by_hand_while_printing_is_part_of_what_the_unprinted_sides_get_back(
    released: Callable[[], Job], finisher: Printer
) -> None:
    job = released()
    Job.objects.filter(pk=job.pk).update(expected_impressions=4)
    _at_printer(job)
    # The desk gives back the side a jam spoiled; the printer then stops after three sides.
    account_refund(job.pk, PRICE / 4, reason="a jam, refunded at the desk", key="desk")
    with _printer_answering(finisher, handler=_CancelingPrinter):
        canceled = cancel.cancel(job.pk, reason=cancel.canceled_by("sam"))
    assert canceled is not None
    assert canceled.impressions_completed == 3
    assert job_refunded(job.pk) == PRICE / 4


def test_a_printer_failing_with_an_internal_error_fails_the_job_as_failing_not_refusing(
    released: Callable[[], Job], finisher: Printer
) -> None:
    """server-error-internal-error is final (ipp-notes: only busy, unavailable and temporary
    server errors are tried again), and the printer's failure, not a refusal of the job."""
    job = released()
    with _printer_answering(finisher, Status.SERVER_ERROR_INTERNAL_ERROR):
        assert str(pipeline.send(job.pk, task_id="t")) == "failed: refused"
    failed = Job.objects.get(pk=job.pk)
    assert (failed.state, failed.send_attempts) == (JobState.FAILED, 1)
    reason = "Print-Job: The printer failed with an internal error. [server-error-internal-error]"
    assert failed.message == f"the printer failed and did not take the job: {reason}"
    with translation.override("de"):
        assert failed.message_shown == (
            "beim Drucker ist ein Fehler aufgetreten, er hat den Auftrag nicht angenommen: "
            f"{reason}"
        )
    assert job_refunded(job.pk) == PRICE


class _WebPagePrinter(http.server.BaseHTTPRequestHandler):
    """A "printer" whose address is a web server: every request gets an HTML page."""

    status = 200

    def do_POST(self) -> None:
        http_request_body(self)
        page = b"<html><head><title>Printer admin</title></head><body>Log in</body></html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.mark.parametrize(
    ("status", "ending"),
    [(200, "gave up"), (500, "gave up"), (400, "refused")],
)
def test_a_printer_answering_a_web_page_was_reached_and_said_what_it_answered(
    released: Callable[[], Job], finisher: Printer, settings: Any, status: int, ending: str
) -> None:
    settings.PRINT_MAX_ATTEMPTS = 1
    job = released()
    handler = type("Handler", (_WebPagePrinter,), {"status": status})
    with _printer_answering(finisher, handler=handler):
        uri = Printer.objects.get(pk=finisher.pk).uri
        assert str(pipeline.send(job.pk, task_id="t")) == f"failed: {ending}"
    failed = Job.objects.get(pk=job.pk)
    phrase = http.HTTPStatus(status).phrase
    answer = (
        f"{uri}: the printer's answer is not IPP: HTTP {status} {phrase}, text/html: "
        "'<html><head><title>Printer admin</title>…'"
    )
    assert failed.message == (
        f"{answer}; the job was given up after 1 attempt"
        if ending == "gave up"
        else f"the job could not be sent: {answer}"
    )
    assert "reached" not in failed.message
    assert job_refunded(job.pk) == PRICE


def test_only_a_printer_that_no_longer_knows_the_job_ends_it_unasked(
    released: Callable[[], Job], finisher: Printer
) -> None:
    job = released()
    _at_printer(job)
    with (
        _printer_answering(finisher, Status.SERVER_ERROR_INTERNAL_ERROR),
        pytest.raises(outcomes.RetryLater),
    ):
        following.follow(job.pk)
    assert Job.objects.get(pk=job.pk).state == JobState.PROCESSING
    with _printer_answering(finisher, Status.CLIENT_ERROR_NOT_FOUND):
        assert following.follow(job.pk) is True
    done = Job.objects.get(pk=job.pk)
    assert done.state == JobState.COMPLETED
    assert "no longer knows" in done.message


def test_a_printer_that_gave_the_jobs_id_to_another_job_no_longer_knows_the_job(
    released: Callable[[], Job], finisher: Printer, finisher_peer: IppEvePrinter
) -> None:
    """A printer restarted while our job was at it numbers its jobs from 1 again: the id we
    follow becomes someone else's job, whose end and sides are not ours."""
    job = released()
    with IppClient(finisher_peer.uri) as client:
        others = client.print_job(
            spool_path(job.document_name), job_name="someone else's memo",
            document_format="application/pdf", job_attributes=[],
        )  # fmt: skip
    _wait_printed(finisher_peer, others.job_id)
    _at_printer(job, printer_job_id=others.job_id)
    assert following.follow(job.pk) is True
    done = Job.objects.get(pk=job.pk)
    assert done.state == JobState.COMPLETED
    assert done.message == (
        f"the printer no longer knows the job (its job {others.job_id} is another one)"
    )


def test_a_printer_that_keeps_only_the_start_of_the_jobs_name_follows_it_still(
    released: Callable[[], Job], finisher: Printer
) -> None:
    job = released()
    _at_printer(job)
    kept = Part("", spool_path(job.document_name), []).job_name(job)[:8]

    class CuttingNames(_PrinterWithAnotherJob):
        name = kept

    with _printer_answering(finisher, handler=CuttingNames):
        assert following.follow(job.pk) is False
    assert Job.objects.get(pk=job.pk).state == JobState.PROCESSING


def test_a_printer_silent_about_a_job_for_a_day_ends_the_job_as_printed(
    released: Callable[[], Job], finisher: Printer
) -> None:
    job = released()
    _at_printer(job)
    _unreachable(finisher)
    Job.objects.filter(pk=job.pk).update(printer_answered_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(outcomes.RetryLater):
        following.follow(job.pk)
    asked = Job.objects.get(pk=job.pk)
    assert asked.state == JobState.PROCESSING
    assert asked.checked_at is not None
    assert timezone.now() - asked.checked_at < timedelta(minutes=1)

    silent_since = timezone.now() - following.FOLLOW_GIVE_UP - timedelta(minutes=1)
    Job.objects.filter(pk=job.pk).update(printer_answered_at=silent_since)
    assert following.follow(job.pk) is True
    done = Job.objects.get(pk=job.pk)
    assert done.state == JobState.COMPLETED
    assert "has not answered about it for 24 hours" in done.message
    assert job_refunded(job.pk) == 0


def test_the_reconcile_sweep_leaves_waiting_and_followed_jobs_alone(
    released: Callable[[], Job], settings: Any
) -> None:
    settings.PRINT_RETRY_MAX_SECONDS = 300
    now = timezone.now()
    # Waiting for its next attempt (a retry may wait up to PRINT_RETRY_MAX_SECONDS).
    waiting = released()
    Job.objects.filter(pk=waiting.pk).update(state_changed_at=now - timedelta(minutes=6))
    # Sending for long, but claimed again a moment ago by the task that took it over.
    taken_over = released()
    _sending(taken_over, claimed_by="sweep", claimed_ago=timedelta(minutes=1))
    Job.objects.filter(pk=taken_over.pk).update(state_changed_at=now - timedelta(hours=1))
    # At a silent printer, but asked about a moment ago by its follow-up task.
    followed = released()
    _at_printer(followed)
    Job.objects.filter(pk=followed.pk).update(
        state_changed_at=now - timedelta(hours=2),
        checked_at=now - timedelta(minutes=1),
        printer_answered_at=now - timedelta(hours=2),
    )
    assert reconcile_jobs() == 0
    # The same jobs once their tasks are lost: all three are queued again.
    Job.objects.filter(pk=waiting.pk).update(state_changed_at=now - timedelta(minutes=8))
    Job.objects.filter(pk=taken_over.pk).update(claimed_at=now - timedelta(minutes=16))
    Job.objects.filter(pk=followed.pk).update(checked_at=now - timedelta(minutes=6))
    try:
        assert reconcile_jobs() == 3
    finally:
        celery_app.control.purge()  # no worker here: the messages must not reach a later test


def test_a_job_whose_claim_just_went_unrenewed_is_queued_within_seconds(
    released: Callable[[], Job], settings: Any
) -> None:
    # Its worker died on another machine: no message for the job comes back (Redis hands it
    # out again after an hour), and the reconcile sweep runs every two minutes.
    stale = timedelta(seconds=settings.SEND_CLAIM_STALE_SECONDS)
    job = released()
    _sending(job, claimed_by="elsewhere", claimed_ago=timedelta(minutes=5))
    Job.objects.filter(pk=job.pk).update(claim_renewed_at=timezone.now())
    assert (resume_lapsed_sends(), reconcile_jobs()) == (0, 0)  # its process is sending it
    Job.objects.filter(pk=job.pk).update(
        claim_renewed_at=timezone.now() - stale - timedelta(seconds=1)
    )
    try:
        assert resume_lapsed_sends() == 1
        # Queued a few times at most: one not taken over since is the reconcile sweep's.
        Job.objects.filter(pk=job.pk).update(claim_renewed_at=timezone.now() - 2 * stale)
        assert resume_lapsed_sends() == 0
        assert reconcile_jobs() == 1
    finally:
        celery_app.control.purge()  # no worker here: the messages must not reach a later test


def test_a_job_name_keeps_its_marker_within_255_octets() -> None:
    job = Job(title="漢" * 100)  # 300 octets
    for suffix in ("", "start", "end"):
        name = Part(suffix, Path("unused.pdf"), []).job_name(job)
        assert len(name.encode()) <= 255
        assert name.endswith(f"pm-{job.marker.hex}{'-' + suffix if suffix else ''}]")
        assert name.startswith("漢漢漢")
    short = Job(title="memo")
    assert Part("", Path("unused.pdf"), []).job_name(short) == f"memo [pm-{short.marker.hex}]"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("copies", "5"),
        ("COPIES", "5"),
        ("page-ranges", "1"),
        ("job-sheets", "standard"),  # banner pages nobody pays for
        ("job-hold-until", "indefinite"),  # charged here, left held at the printer
        ("job-name", "other"),  # the name carries the marker that finds the job again
    ],
)
def test_what_the_product_sets_itself_is_refused_as_an_option_not_sent_unpriced(
    held_job: Callable[..., Job], finisher: Printer, option: str, value: str
) -> None:
    quote = job_quote(held_job(pages=2), finisher, {option: value})
    assert f"{option.lower()} is not an option" in "; ".join(quote.problems)


def test_an_option_the_printer_does_not_offer_is_refused_not_sent_unpriced(
    held_job: Callable[..., Job], finisher: Printer
) -> None:
    # lp -o media-type=cardstock on a printer that offers no paper types: it went out as
    # asked and was priced as plain paper.
    quote = job_quote(held_job(pages=2), finisher, {"org.example-paper": "cardstock"})
    assert "org.example-paper=cardstock is not offered by this printer" in quote.problems
    # A finishing the printer offers, chosen as "none", and job sheets made here, are fine.
    fine = job_quote(held_job(pages=2), finisher, {"org.savapage-finishings-fold": "3"})
    assert fine.problems == []


@pytest.mark.parametrize(
    "formats",
    [
        ["image/pwg-raster", "image/urf"],
        # A driverless printer lists octet-stream for the formats it detects: PDF is not one.
        ["application/octet-stream", "image/jpeg"],
    ],
)
def test_a_printer_that_takes_no_pdf_is_refused_before_anything_is_charged(
    held_job: Callable[..., Job], finisher: Printer, staff_user: User, formats: list[str]
) -> None:
    capabilities = {**finisher.capabilities, "document-format-supported": formats}
    Printer.objects.filter(pk=finisher.pk).update(capabilities=capabilities)
    finisher.refresh_from_db()
    job = held_job(pages=2)
    why = (
        f"printer finisher does not take PDF documents (only {', '.join(formats)}): "
        "choose another printer"
    )
    assert why in job_quote(job, finisher, {}).problems
    with pytest.raises(ReleaseRefused, match="does not take PDF documents"):
        job_release(job.pk, staff_user, finisher.pk, {})
    assert Job.objects.get(pk=job.pk).state == JobState.HELD
    assert job_charge(job.pk) is None


def test_a_choice_not_offered_is_one_problem_not_three(
    held_job: Callable[..., Job], finisher: Printer
) -> None:
    # It was also said that the printer cannot staple so and that no price covers it: both
    # follow from the choice, which the first message already names with what to choose.
    quote = job_quote(held_job(pages=2), finisher, {"org.savapage-finishings-staple": "99"})
    assert quote.problems == ["org.savapage-finishings-staple=99 is not offered by this printer"]


def test_a_rule_file_option_given_several_values_is_refused_not_charged_undone(
    held_job: Callable[..., Job], finisher: Printer
) -> None:
    # lp -o org.savapage-finishings-staple=3,20: the staple was charged (any value priced
    # it) and nothing sent (the first value, none, was); 20,28 charged both, sent one.
    job = held_job(pages=2)
    printer = Printer.objects.select_related("rule_file").get(pk=finisher.pk)
    for options in (
        {"org.savapage-finishings-staple": ["3", "20"]},
        {"org.savapage-cover-front-type": ["no-cover", "print-front"]},
        {"sides": ["one-sided", "two-sided-long-edge"]},
    ):
        ((name, values),) = options.items()
        quote = job_quote(job, printer, options)
        assert quote.problems == [f"{name} takes one value, not {','.join(values)}"]
        with pytest.raises(ReleaseRefused, match="takes one value"):
            job_release(job.pk, job.owner, printer.pk, options)
    assert job_quote(job, printer, {"org.savapage-finishings-staple": ["20"]}).problems == []


def test_an_option_named_as_the_rule_file_sends_it_is_refused_not_sent_unpriced(
    held_job: Callable[..., Job], finisher: Printer
) -> None:
    # The rule file sends a staple as *Staple: chosen under that name, it would go unpriced.
    printer = Printer.objects.select_related("rule_file").get(pk=finisher.pk)
    for name in ("Staple", "staple"):
        quote = job_quote(held_job(), printer, {name: "TopLeft"})
        assert (
            "Staple is the printer's own name for org.savapage-finishings-staple: choose "
            "org.savapage-finishings-staple instead"
        ) in quote.problems


def test_a_free_job_cannot_name_a_shared_account_its_owner_may_not_use(
    held_job: Callable[..., Job], staff_user: User, finisher: Printer
) -> None:
    SidePrice.objects.filter(printer=finisher).update(one_sided=0, two_sided=0)
    physics = shared_account_create("Physics", actor=None)
    job = held_job(pages=1)
    assert job_quote(job, finisher, {}).total == 0
    with pytest.raises(AccountPermissionDenied, match="may not charge shared account Physics"):
        job_release(job.pk, staff_user, finisher.pk, {}, account_id=physics.pk)
    assert Job.objects.get(pk=job.pk).state == JobState.HELD


def test_an_operator_releasing_a_deactivated_users_job_is_told_so(
    held_job: Callable[..., Job], staff_user: User, finisher: Printer
) -> None:
    operator = user_create("olga", "a long enough password", role=PRINTER_ADMIN)
    job = held_job(pages=1)
    User.objects.filter(pk=staff_user.pk).update(is_active=False)
    for side_price in ("0.10", "0"):  # charged, then free: both name the account
        SidePrice.objects.filter(printer=finisher).update(
            one_sided=Decimal(side_price), two_sided=Decimal(side_price)
        )
        with pytest.raises(AccountPermissionDenied, match=f"{staff_user.username} is deactivated"):
            job_release(job.pk, operator, finisher.pk, {})
    assert Job.objects.get(pk=job.pk).state == JobState.HELD
