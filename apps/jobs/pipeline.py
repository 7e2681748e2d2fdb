"""Printing a released job: build its documents and send them over IPP. Beside it: our jobs
at the printer (printer_jobs.py), taking over from a worker that died (recovery.py), attempts
that do not get the job there (send_failures.py), and following a sent job to its end
(following.py).

The send task in tasks.py calls `send` with a job id. It re-reads the job, claims it by its
expected state, and does its network I/O outside database transactions.

Exactly once: every part we send (the job, and its start and end sheets) carries a marker in
its job-name. Before a part is sent again after an attempt that may have reached the printer,
the printer's job list is searched for the marker, and a job found there is adopted instead
of sent twice.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop

from apps.jobs import printer_jobs
from apps.jobs.choices import TERMINAL_STATES, JobState
from apps.jobs.documents import DocumentError
from apps.jobs.endings import fail, finish
from apps.jobs.models import Job, message_fields, messages_joined
from apps.jobs.not_done import END_SHEET_NOT_PRINTED, NotDone, ignored_options, stored
from apps.jobs.options import sent_options
from apps.jobs.outcomes import Sent
from apps.jobs.parts import Part, WorkDir, build_parts, priced_with
from apps.jobs.printer_jobs import client_as_owner
from apps.jobs.recovery import claim_goes_stale_in, claim_renewed, not_recorded, take_over
from apps.jobs.send_failures import failed_here, give_up, not_sent_to_disabled_printer, send_failed
from apps.jobs.services import job_transition
from apps.printers.choices import PrinterKind
from apps.printers.ipp_values import PDF, pdf_sent_as
from printmgmt import process_identity
from printmgmt.ipp import IppAcceptedWithoutJobId, IppError, IppStatusError, Status
from printmgmt.ipp.client import IppClient, SubmittedJob
from printmgmt.translatable import Text

logger = logging.getLogger(__name__)

#: Pauses before asking a busy printer again within one attempt (about 2 s in all).
BUSY_PAUSES_SECONDS = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def send(job_id: int, task_id: str = "") -> Sent:
    """Send a released job to its printer; returns what happened, for the log.

    `task_id` names the task sending it (Celery's id), recorded with its claim on the job.
    Raises RetryLater for transient failures (the job is back in RELEASED and counts the
    attempt); a final failure ends the job as FAILED with a refund.
    """
    job = Job.objects.select_related("printer", "printer__rule_file", "owner").get(pk=job_id)
    if job.state == JobState.PROCESSING or job.state in TERMINAL_STATES:
        return Sent(f"nothing to send: job is {job.state}")
    if job.state == JobState.HELD:
        return Sent("nothing to send: job is held")
    recovering = job.state == JobState.SENDING or job.send_attempts > 0
    if job.state == JobState.RELEASED:
        now = timezone.now()
        claimed = job_transition(
            job_id,
            JobState.SENDING,
            reason=f"attempt {job.send_attempts + 1}",
            only_from=frozenset({JobState.RELEASED}),
            send_attempts=job.send_attempts + 1,
            claimed_by=task_id,
            claimed_at=now,
            claim_renewed_at=now,
            claimed_in=process_identity.current(),
        )
        if claimed is None:
            return Sent("another worker claimed the job")
        # The claim read the row under its lock: fresh. Printer and owner, read a moment ago,
        # are the ones a released job keeps, so they are not read a third time.
        claimed.printer, claimed.owner = job.printer, job.owner
        job = claimed
    elif take_over(job, task_id):
        job.refresh_from_db()
    else:
        # Asked again when the claim goes stale, should its holder die on another machine
        # (and stop renewing it); refused again meanwhile if it renewed the claim.
        return Sent("another worker is sending the job", check_again_in=claim_goes_stale_in(job))
    # Renewed also while the printer is searched for an earlier send (up to a minute).
    with claim_renewed(job):
        return _send_claimed(job, recover=recovering)


def _send_claimed(job: Job, *, recover: bool) -> Sent:
    if job.send_attempts > settings.PRINT_MAX_ATTEMPTS:  # taken over from the last attempt
        return give_up(job)
    assert job.printer is not None
    if not job.printer.enabled:
        return not_sent_to_disabled_printer(job, recover=recover)
    workdir = WorkDir(f"job{job.pk}-")
    try:
        # The files are removed after the job is recorded as accepted, not on the way there.
        return _build_and_send(job, workdir, recover=recover)
    finally:
        workdir.remove()


def _build_and_send(job: Job, workdir: WorkDir, *, recover: bool) -> Sent:
    job_id = job.pk
    try:
        parts = build_parts(job, workdir)
        main, unsent_sheets = _send_parts(job, parts, recover=recover)
    except DocumentError as error:
        fail(
            job_id,
            Text(gettext_noop("the document cannot be printed: %(error)s"), {"error": str(error)}),
        )
        return Sent("failed: document")
    except IppError as error:
        return send_failed(job, error)
    except Exception as error:
        # Anything else (a full disk, a TLS setup the printer refuses, the task's soft time
        # limit) is an attempt that failed: tried again within PRINT_MAX_ATTEMPTS, not a job
        # left in SENDING. The user is told what happened in words; the log keeps the trace.
        logger.exception("job %s: sending failed", job_id)
        return failed_here(job, error)
    noted = [*(_ignored_message(main) if main else []), *unsent_sheets]
    # Kept with the job as it is recorded at the printer: its end, in whichever process,
    # refunds the price of what was not done (endings.py) without reading messages.
    not_done = [
        *(_ignored_options(job, main) if main else []),
        *([END_SHEET_NOT_PRINTED] if unsent_sheets else []),
    ]
    printer_job = f"job {main.job_id}" if main else "a job whose id it did not say"
    sent = job_transition(
        job_id,
        JobState.PROCESSING,
        reason=f"accepted by {job.printer} as {printer_job}",
        only_from=frozenset({JobState.SENDING}),
        only_attempt=job.send_attempts,
        printer_job_id=main.job_id if main else None,
        printer_job_uri=(main.job_uri if main else None) or "",
        not_done=stored(not_done),
        **message_fields(messages_joined(*noted) if noted else None),
    )
    if sent is None:
        if main is None:
            return Sent(f"{printer_job} at the printer; the job moved on meanwhile")
        return not_recorded(job, main.job_id)
    if main is None:
        # Nothing to follow it by: it ends as a job the printer took and never spoke of again
        # does (following.py's 24 hours of silence), printed, keeping its charge.
        unfollowed = Text(
            gettext_noop(
                "the printer accepted the job without saying its job id, so its end could not "
                "be followed: it counts as printed"
            )
        )
        finish(
            job_id,
            JobState.COMPLETED,
            messages_joined(*noted, unfollowed),
            only_from=frozenset({JobState.PROCESSING}),
        )
        return Sent("accepted without a job id: counted as printed")
    return Sent(f"sent as printer job {main.job_id}", at_printer=True)


def _send_parts(
    job: Job, parts: list[Part], *, recover: bool
) -> tuple[SubmittedJob | None, list[Text]]:
    """The printer's job for the job itself (None: the printer took it without saying its id,
    nor lists it), and why any end sheet after it was not sent."""
    assert job.printer is not None
    main: SubmittedJob | None = None
    main_is_at_the_printer = False
    a_part_is_at_the_printer = False
    # The release refused a printer that takes no PDF; one that stopped since says so itself.
    document_format = (
        pdf_sent_as(job.printer.capabilities, cups_queue=job.printer.kind == PrinterKind.CUPS_QUEUE)
        or PDF
    )
    unsent_sheets: list[Text] = []
    with client_as_owner(job, timeout=settings.IPP_SEND_TIMEOUT_SECONDS) as client:
        for part in parts:
            name = part.job_name(job)
            try:
                submitted = (
                    printer_jobs.find_earlier_send(client, part.marker(job)) if recover else None
                )
                found = submitted is not None
                if submitted is None:
                    submitted = _print_job(client, part, name, part.marker(job), document_format)
            except IppError as error:
                if not main_is_at_the_printer or (
                    error.retryable and job.send_attempts < settings.PRINT_MAX_ATTEMPTS
                ):
                    # A start sheet of this attempt is at the printer already.
                    error.may_have_made_job = error.may_have_made_job or a_part_is_at_the_printer
                    raise
                # The job itself is at the printer and prints: a sheet after it that the
                # printer refuses (or that this last attempt cannot look for or send) must not
                # fail the job and give its money back.
                logger.warning("job %s: %s not sent: %s", job.pk, name, error)
                # Only the end sheet comes after the job itself.
                unsent_sheets.append(
                    Text(
                        gettext_noop("the end sheet was not printed: %(error)s"),
                        {"error": str(error)},
                    )
                )
                continue
            a_part_is_at_the_printer = True
            if submitted is None:
                logger.warning("job %s: %s accepted without a job id, not listed", job.pk, name)
            elif found:
                logger.info("job %s: %s found at the printer: not sent again", job.pk, name)
            else:
                logger.info("job %s: %s sent as printer job %s", job.pk, name, submitted.job_id)
            if not part.suffix:
                main, main_is_at_the_printer = submitted, True
    assert main_is_at_the_printer
    return main, unsent_sheets


def _print_job(
    client: IppClient, part: Part, job_name: str, marker: str, document_format: str
) -> SubmittedJob | None:
    """Print-Job, or for separate documents Create-Job and a Send-Document each; a request
    the printer answers it is busy is asked again after a short pause (_while_busy).

    None: the printer accepted the Print-Job without saying its job id, and does not list a
    job of the part's marker either."""
    if not part.separate_documents:
        try:
            return _while_busy(
                lambda: client.print_job(
                    part.document,
                    job_name=job_name,
                    document_format=document_format,
                    job_attributes=part.attributes,
                )
            )
        except IppAcceptedWithoutJobId:
            # It has the document and prints it: never sent again. Its id, to follow it by,
            # is asked for once; a printer that cannot be asked has the job all the same.
            try:
                return printer_jobs.find_earlier_send(client, marker)
            except IppError as error:
                logger.warning("the printer's job %s could not be looked for: %s", marker, error)
                return None
    created = _while_busy(
        lambda: client.create_job(job_name=job_name, job_attributes=part.attributes)
    )
    last = len(part.separate_documents) - 1
    try:
        for index, (name, path) in enumerate(part.separate_documents):
            accepted = _while_busy(
                functools.partial(
                    client.send_document,
                    created.job_id,
                    path,
                    last_document=index == last,
                    document_format=document_format,
                    document_name=name,
                )
            )
    except IppError as error:
        error.may_have_made_job = True  # the created job, waiting for the rest
        if not error.retryable:
            # A refused document: the job would wait at the printer for the rest until its
            # time-out and then print what it has.
            cancel_refused = _cancel_quietly(client, created.job_id)
            logger.warning(
                "printer job %s: a document was refused (%s)%s",
                created.job_id,
                error,
                f"; cancelling it failed: {cancel_refused}" if cancel_refused else "",
            )
        else:
            # Sent again whole by the next attempt, if there is one: this one must not print
            # part of it meanwhile, nor after the last attempt.
            try:
                printer_jobs.cancel_if_still_incoming(client, created.job_id)
            except IppError as cancel_error:
                logger.warning(
                    "printer job %s: could not be canceled (%s): it waits at the printer for "
                    "its documents until a next attempt cancels it, or the printer's time-out",
                    created.job_id,
                    cancel_error,
                )
        raise
    return dataclasses.replace(created, job_state=accepted.job_state)


def _while_busy(request: Callable[[], SubmittedJob]) -> SubmittedJob:
    """A job-creating request, asked again after a short pause while the printer answers it
    is busy.

    A printer that takes one job at a time answers server-error-busy until it has finished
    the one before, usually within moments, while the task's retry would wait seconds and then
    search the printer for an earlier send. The answer refused the request, so nothing was
    made and asking again cannot print twice."""
    pauses = iter(BUSY_PAUSES_SECONDS)
    while True:
        try:
            return request()
        except IppStatusError as error:
            pause = next(pauses, None)
            if error.status_code != Status.SERVER_ERROR_BUSY or pause is None:
                raise
        time.sleep(pause)


def _cancel_quietly(client: IppClient, printer_job_id: int) -> IppError | None:
    try:
        client.cancel_job(printer_job_id)
    except IppError as error:
        return error
    return None


def _ignored_message(submitted: SubmittedJob) -> list[Text]:
    if not submitted.ignored_attributes:
        return []
    attributes = ", ".join(submitted.ignored_attributes)
    return [Text(gettext_noop("the printer ignored: %(attributes)s"), {"attributes": attributes})]


def _ignored_options(job: Job, submitted: SubmittedJob) -> list[NotDone]:
    """What the attributes the printer ignored were of the job's options, as build_parts
    translated them (with the rule file version that priced the job)."""
    if not submitted.ignored_attributes:
        return []
    assert job.printer is not None
    values = dict(submitted.ignored_values)
    try:
        engine = priced_with(job)
        return ignored_options(
            ((name, values.get(name, ())) for name in submitted.ignored_attributes),
            sent_options(job.printer, engine, dict(job.options)),
            target="ppd" if job.printer.kind == PrinterKind.CUPS_QUEUE else "ipp",
            mappings=engine.rules.mappings,
        )
    except Exception:
        # The job is at the printer: it is recorded so, its message naming what was ignored,
        # and nothing is refunded for it (an administrator can, by hand).
        logger.exception("job %s: what the printer ignored could not be mapped", job.pk)
        return [NotDone(attribute=name) for name in submitted.ignored_attributes]
