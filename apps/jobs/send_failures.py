"""Send attempts that do not get the job to its printer: a transient failure is tried again
later (RetryLater, the job back in RELEASED); a final one ends the job as FAILED with a refund,
unless the printer has a copy an earlier attempt sent. A job that may be at a printer which
cannot be asked is looked for there (never sent again) for PRINT_SEARCH_MAX_SECONDS before it
is given up. The user is told why in words they can act on."""

from __future__ import annotations

import errno
import ssl
from datetime import timedelta
from typing import Any, NoReturn

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop

from apps.jobs.choices import JobState
from apps.jobs.counted_messages import PRINTER_UNREACHABLE, SENDING_GIVEN_UP, TROUBLE_GIVEN_UP
from apps.jobs.endings import fail
from apps.jobs.models import Job, message_fields
from apps.jobs.outcomes import RetryLater, Sent
from apps.jobs.recovery import adopt_earlier_send
from apps.jobs.services import job_transition
from printmgmt.ipp import IppError, IppStatusError
from printmgmt.translatable import Text


def give_up(job: Job) -> Sent:
    """A job past its last attempt: one whose attempts keep ending without an answer (each
    killed its worker or ran out of time), or that is looked for at the printer since
    (look_for_later). The printer's copy is adopted when it has one; a printer that says it has
    none fails the job; one that cannot be asked is asked again later."""
    try:
        adopted = adopt_earlier_send(job)
    except IppError as error:
        return look_for_later(job, error)
    if adopted is not None:
        return adopted
    failures = min(job.send_attempts - 1, settings.PRINT_MAX_ATTEMPTS)
    fail(job.pk, Text.counted(*SENDING_GIVEN_UP, {"failures": failures}))
    return Sent("failed: gave up")


def look_for_later(job: Job, error: IppError) -> Sent:
    """A job that may be at its printer, which cannot be asked whether it is (`error`): it
    must not be ended as not printed, nor sent again. It waits, and is looked for there again
    (give_up), until PRINT_SEARCH_MAX_SECONDS after the first time; then it fails and is
    refunded, saying an administrator can look at the printer. Refunded rather than charged:
    unlike a job the printer accepted and then went silent about (following.py), the printer
    never said it took this one."""
    now = timezone.now()
    since = job.looked_for_since or now
    if now - since < timedelta(seconds=settings.PRINT_SEARCH_MAX_SECONDS):
        _retry_later(
            job,
            Text(
                gettext_noop(
                    "the printer did not say whether it took the job (%(error)s): it is not "
                    "sent again but looked for at the printer"
                ),
                {"error": str(error)},
            ),
            may_have_made_job=True,
            looked_for_since=since,
        )
    fail(
        job.pk,
        Text(
            gettext_noop(
                "the printer could not be asked whether it printed the job (%(error)s): it "
                "counts as not printed and is refunded; an administrator can look for it at "
                "the printer"
            ),
            {"error": str(error)},
        ),
    )
    return Sent("failed: printer could not be asked")


def not_sent_to_disabled_printer(job: Job, *, recover: bool) -> Sent:
    """A job claimed for a printer disabled after its release (by an administrator, or by a
    CUPS sync that found its queue gone) is not sent: it fails, saying which, and is refunded.
    One an earlier attempt may have delivered is looked for at the printer first: found there,
    it is at the printer and followed like any other."""
    if recover:
        try:
            adopted = adopt_earlier_send(job)
        except IppError as error:
            # The search's error says nothing of whether this job is there: earlier
            # attempts do.
            if _an_earlier_attempt_may_have_left_it(job):
                return look_for_later(job, error)
            adopted = None
        if adopted is not None:
            return adopted
    assert job.printer is not None
    why = (
        gettext_noop(
            "printer %(printer)s no longer exists on its CUPS server (its queue was removed or "
            "renamed there)"
        )
        if job.printer.gone_from_cups_server
        else gettext_noop("printer %(printer)s was disabled by an administrator")
    )
    fail(job.pk, Text(why, {"printer": str(job.printer)}))
    return Sent("failed: printer disabled")


def send_failed(job: Job, error: IppError) -> Sent:
    if not error.retryable:
        fail(job.pk, _final_failure(error))
        return Sent("failed: refused")
    # Cut off or unanswered in time, the request may have made the job; one the printer
    # answered, if not in IPP, did not.
    unanswered = error.may_have_made_job and not error.answered
    if job.send_attempts >= settings.PRINT_MAX_ATTEMPTS:
        if unanswered or _an_earlier_attempt_may_have_left_it(job):
            return look_for_later(job, error)
        # A printer that answered, if not usefully (busy, not in IPP), was reached.
        given_up = (
            Text.counted(*TROUBLE_GIVEN_UP, {"trouble": str(error), "attempts": job.send_attempts})
            if error.answered
            else Text.counted(
                *PRINTER_UNREACHABLE, {"attempts": job.send_attempts, "error": str(error)}
            )
        )
        fail(job.pk, given_up)
        return Sent("failed: gave up")
    _retry_later(
        job,
        Text(gettext_noop("waiting for the printer: %(error)s"), {"error": str(error)}),
        may_have_made_job=unanswered,
    )


def _an_earlier_attempt_may_have_left_it(job: Job) -> bool:
    """Each earlier attempt may have left the job at the printer unless it could not even
    connect to it, or the printer answered it (if not in IPP)."""
    return job.attempts_that_reached_no_printer < job.send_attempts - 1


def _final_failure(error: IppError) -> Text:
    """Why a send that is not tried again failed: the printer refused the job, failed itself
    (internal-error: final, as ipp-notes' status classes have it, but not the job's fault), or
    gave no IPP answer to take the job by."""
    if not isinstance(error, IppStatusError):
        return Text(gettext_noop("the job could not be sent: %(reason)s"), {"reason": str(error)})
    if error.printer_failed:
        return Text(
            gettext_noop("the printer failed and did not take the job: %(reason)s"),
            {"reason": error.sentence},
        )
    return Text(gettext_noop("the printer refused the job: %(reason)s"), {"reason": error.sentence})


def failed_here(job: Job, error: Exception) -> Sent:
    """An attempt that failed on this server, not at the printer: tried again like one the
    printer did not answer, and the user told why in words rather than as an exception."""
    why = trouble_in_words(error)
    if job.send_attempts >= settings.PRINT_MAX_ATTEMPTS:
        fail(
            job.pk,
            Text.counted(*TROUBLE_GIVEN_UP, {"trouble": why, "attempts": job.send_attempts}),
        )
        return Sent("failed: gave up")
    # The error may have come while a part was being uploaded: the printer may have it.
    _retry_later(
        job,
        Text(gettext_noop("%(trouble)s; it will be tried again"), {"trouble": why}),
        may_have_made_job=True,
    )


def _retry_later(job: Job, message: Text, *, may_have_made_job: bool, **fields: Any) -> NoReturn:
    job_transition(
        job.pk,
        JobState.RELEASED,
        reason=f"will retry: {message}",
        only_from=frozenset({JobState.SENDING}),
        # Not from under an attempt that took the job over meanwhile and sends it.
        only_attempt=job.send_attempts,
        **message_fields(message),
        # Counted so that a cancel while the job waits need not ask the printer first.
        attempts_that_reached_no_printer=job.attempts_that_reached_no_printer
        + (0 if may_have_made_job else 1),
        **fields,
    )
    raise RetryLater(str(message))


def trouble_in_words(error: BaseException) -> Text:
    """What went wrong on this server while a job was built or sent, as its user (and the
    administrator they ask) can act on it: no exception names, reprs or source lines. The
    operating system's and TLS library's words for it stay as they are."""
    if isinstance(error, SoftTimeLimitExceeded):
        return Text(
            gettext_noop("preparing and sending the job took longer than the print server allows")
        )
    if isinstance(error, MemoryError):
        return Text(gettext_noop("the print server ran out of memory while preparing the job"))
    if isinstance(error, ssl.SSLError):  # before OSError, of which it is one
        reason: str | Text = (
            error.reason.replace("_", " ").lower()
            if error.reason
            else Text(gettext_noop("unknown reason"))
        )
        return Text(
            gettext_noop(
                "the print server could not set up a secure connection to the printer (%(reason)s)"
            ),
            {"reason": reason},
        )
    if isinstance(error, OSError):
        if error.errno in {errno.ENOSPC, errno.EDQUOT}:
            return Text(
                gettext_noop("the print server ran out of disk space while preparing the job")
            )
        if error.errno == errno.EFBIG:
            return Text(
                gettext_noop(
                    "the print server may not write a file as large as this job needs "
                    "(a file size limit)"
                )
            )
        what: str | Text = (
            error.strerror.lower()
            if error.strerror
            else Text(gettext_noop("an error of the operating system"))
        )
        return Text(
            gettext_noop("the print server could not read or write the job's files (%(what)s)"),
            {"what": what},
        )
    return Text(
        gettext_noop(
            "an unexpected error on the print server (the administrator can find it in its log)"
        )
    )
