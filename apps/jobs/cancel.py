"""Canceling a job wherever it is: held or waiting here, or at its printer.

A job at the printer, or one an earlier attempt may have left there, is canceled there first,
and ends here with what the printer printed of it (on which its refund depends). A job a task
is moving at that moment is not canceled behind the task's back.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.jobs import following, outcomes, printer_jobs
from apps.jobs.choices import TERMINAL_STATES, JobState, states_leading_to
from apps.jobs.endings import finish
from apps.jobs.models import Job
from printmgmt.ipp import IppError
from printmgmt.translatable import Text

logger = logging.getLogger(__name__)


class CancelRefused(Exception):
    """A job at a printer could not be canceled there; the message says why, for the user."""


#: The states a cancel ends here without asking a printer: not SENDING, which its task ends.
CANCELED_HERE = states_leading_to(JobState.CANCELED) - {JobState.SENDING}


CANCELED_BY = gettext_noop("canceled by %(user)s")
CANCELED_FROM_A_DEVICE_BY = gettext_noop("canceled from a device by %(user)s")


def canceled_by(username: str) -> Text:
    """Why a job ended that its user (or an operator) canceled in the portal."""
    return Text(CANCELED_BY, {"user": username})


def canceled_from_a_device_by(username: str) -> Text:
    """Why a job ended that its user (or an operator) canceled from a desktop or phone (our
    IPP printer)."""
    return Text(CANCELED_FROM_A_DEVICE_BY, {"user": username})


def who_canceled(job: Job) -> str | None:
    """The username a canceled job's message names as the one who canceled it; None when it
    names nobody (the system canceled it, or its message is from before it was kept)."""
    text = Text.from_json(job.message_text)
    if text is None or text.msgid not in (CANCELED_BY, CANCELED_FROM_A_DEVICE_BY):
        return None
    user = text.params.get("user")
    return user if isinstance(user, str) else None


def _impressions_at_printer(job: Job, printer_job_id: int) -> int | None:
    """What the printer counts as printed of one of its jobs; None when it does not say."""
    try:
        with printer_jobs.client_as_owner(job) as client:
            group = client.get_job_attributes(printer_job_id, ("job-impressions-completed",))
    except IppError as error:
        logger.warning("job %s: the printer did not say what it printed: %s", job.pk, error)
        return None
    impressions = group.get("job-impressions-completed")
    return impressions.value if impressions and isinstance(impressions.value, int) else None


def _another_job_at_printer(job: Job, printer_job_id: int) -> bool:
    """Whether the printer's job of that id is another job (the printer restarted since and
    numbers its jobs anew); False when it cannot be asked (the cancel then says so)."""
    try:
        with printer_jobs.client_as_owner(job) as client:
            group = client.get_job_attributes(printer_job_id, ("job-name",))
    except IppError:
        return False
    return printer_jobs.printer_job_is_another(job, group)


def _cancel_earlier_send(job: Job) -> dict[str, int | None]:
    """Cancel at the printer what an earlier attempt of a job waiting for its next one may
    have left there: an attempt that got no answer in time may have reached it (a printer that
    hung takes the request when it runs again), and the job, canceled here only, would print
    for free. The fields to end the job with: the printer's job and what it printed of it, on
    which the refund depends. Raises CancelRefused when the printer cannot be asked or would
    not cancel it."""
    try:
        with printer_jobs.client_as_owner(job) as client:
            found = printer_jobs.find_earlier_send(client, printer_jobs.main_marker(job))
    except IppError as error:
        raise CancelRefused(
            _(
                "the printer cannot be reached to see whether an earlier attempt reached it "
                "(%(error)s): it may still print; try again later"
            )
            % {"error": error}
        ) from None
    if found is None:
        return {}
    refused = printer_jobs.cancel_at_printer(job, found.job_id)
    if refused is not None:
        # Printed already, most likely: the next attempt finds it there and records it.
        raise CancelRefused(
            _("an earlier attempt reached the printer, which would not cancel the job: %(error)s")
            % {"error": refused}
        )
    return {
        "printer_job_id": found.job_id,
        "impressions_completed": _impressions_at_printer(job, found.job_id),
    }


def cancel(job_id: int, *, reason: Text) -> Job | None:
    """Cancel a job wherever it is; a job at the printer is canceled there too.

    None when the job had ended already. Raises CancelRefused when the printer did not take
    the cancel, or while a task is sending the job: the job may print, so it is neither
    canceled nor refunded here; when the printer says the job has ended, it ends here as the
    printer says.
    """
    job = Job.objects.select_related("printer", "owner").get(pk=job_id)
    if job.state == JobState.RELEASED and job.send_attempts > job.attempts_that_reached_no_printer:
        at_printer = _cancel_earlier_send(job)
        # A retry may have claimed it during the search (seconds).
        ended = _end_waiting_job_as_seen(job, reason, at_printer)
        if ended is not None:
            return ended
        job = Job.objects.select_related("printer", "owner").get(pk=job_id)
        if job.state in TERMINAL_STATES:
            return None
        if job.state != JobState.PROCESSING:
            raise CancelRefused(_being_sent())
    if job.state == JobState.PROCESSING and job.printer_job_id is not None:
        if _another_job_at_printer(job, job.printer_job_id):
            # Not canceled there: that is someone else's job now. Ours is forgotten, and
            # following it ends it so.
            try:
                following.follow(job_id)
            except outcomes.RetryLater as error:
                raise CancelRefused(
                    _(
                        "the printer cannot be reached to cancel the job (%(error)s): it may "
                        "still print; try again later"
                    )
                    % {"error": error}
                ) from None
            return None
        refused = printer_jobs.cancel_at_printer(job, job.printer_job_id)
        if refused is None:
            # Canceled there: how much printed first decides the refund. The printer's own end
            # (canceled, or completed after all) is the job's when it has one already;
            # otherwise the job is canceled here with the pages counted just now.
            try:
                if following.follow(job_id):
                    ended = Job.objects.get(pk=job_id)
                    return ended if ended.state == JobState.CANCELED else None
            except outcomes.RetryLater:
                pass
        else:
            try:
                if following.follow(job_id):
                    return None
            except outcomes.RetryLater:
                raise CancelRefused(
                    _(
                        "the printer cannot be reached to cancel the job (%(error)s): it may "
                        "still print; try again later"
                    )
                    % {"error": refused}
                ) from None
            raise CancelRefused(
                _("the printer would not cancel the job: %(error)s") % {"error": refused}
            )
    # Ended here only from the state acted on: a task that moved the job meanwhile (claimed
    # it, or put it at the printer) is where it is canceled next time.
    if job.state == JobState.RELEASED:
        canceled = _end_waiting_job_as_seen(job, reason, {})
    else:
        canceled = finish(
            job_id,
            JobState.CANCELED,
            reason,
            only_from=frozenset({JobState(job.state)}) & CANCELED_HERE,
        )
    if canceled is None and not Job.objects.filter(pk=job_id, state__in=TERMINAL_STATES).exists():
        raise CancelRefused(_being_sent())
    return canceled


def _end_waiting_job_as_seen(
    job: Job, reason: Text, at_printer: dict[str, int | None]
) -> Job | None:
    """Cancel a job waiting here for its (next) attempt only as `job` saw it: a retry that
    claimed it since, even one that is back waiting, may have put it at the printer, where
    this cancel did not reach it. None, changing nothing, when it moved."""
    with transaction.atomic():
        seen = Job.objects.select_for_update().get(pk=job.pk)
        if seen.state != JobState.RELEASED or seen.send_attempts != job.send_attempts:
            return None
        return finish(
            job.pk,
            JobState.CANCELED,
            reason,
            only_from=frozenset({JobState.RELEASED}),
            **at_printer,
        )


def _being_sent() -> str:
    """Why a job a task is moving cannot be canceled this moment."""
    return _("the job is being sent to the printer right now: try again shortly")
