"""Following a sent job at its printer (Get-Job-Attributes) until it ends, and ending it here
as the printer says; the follow task in tasks.py calls this with a job id, again and again."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_noop

from apps.jobs.choices import TERMINAL_STATES, JobState
from apps.jobs.counted_messages import PRINTER_SILENT
from apps.jobs.endings import finish
from apps.jobs.models import Job, messages_joined
from apps.jobs.outcomes import RetryLater
from apps.jobs.printer_jobs import attribute_text, client_as_owner, printer_job_is_another
from printmgmt.ipp import IppError, IppStatusError, Status
from printmgmt.ipp import JobState as IppJobState
from printmgmt.translatable import Text

#: A printer that has not answered about a sent job for this long is asked no more; the job
#: counts as printed (the printer accepted it), and an admin can refund it.
FOLLOW_GIVE_UP = timedelta(hours=24)

TERMINAL_IPP_STATES = {
    IppJobState.COMPLETED: JobState.COMPLETED,
    IppJobState.CANCELED: JobState.CANCELED,
    IppJobState.ABORTED: JobState.FAILED,
}
#: What the printer said when it ended a job, by the end it says.
PRINTER_SAYS = {
    IppJobState.COMPLETED: gettext_noop("printer says completed: %(message)s"),
    IppJobState.CANCELED: gettext_noop("printer says canceled: %(message)s"),
    IppJobState.ABORTED: gettext_noop("printer says aborted: %(message)s"),
}


def follow(job_id: int) -> bool:
    """Ask the printer how a sent job is doing; True when the job has ended here."""
    job = Job.objects.select_related("printer", "owner").get(pk=job_id)
    if job.state != JobState.PROCESSING:
        return job.state in TERMINAL_STATES
    assert job.printer is not None
    assert job.printer_job_id is not None
    # Asked, answered or not: the reconcile sweep starts following again only a job nobody
    # has asked about for a while (a lost task), not one whose printer is silent.
    asked_at = timezone.now()
    Job.objects.filter(pk=job_id).update(checked_at=asked_at)
    try:
        with client_as_owner(job) as client:
            group = client.get_job_attributes(
                job.printer_job_id,
                ("job-state", "job-state-reasons", "job-impressions-completed",
                 "job-state-message", "job-name"),
            )  # fmt: skip
    except IppStatusError as error:
        if error.status_code == Status.CLIENT_ERROR_NOT_FOUND:
            # The printer forgot the job (restarted, purged its history): we cannot know more.
            _end(
                job,
                JobState.COMPLETED,
                Text(
                    gettext_noop("the printer no longer knows the job (%(error)s)"),
                    {"error": str(error)},
                ),
            )
            return True
        return _unanswered(job, str(error))
    except IppError as error:
        return _unanswered(job, str(error))
    if printer_job_is_another(job, group):
        # Its state and impressions are not ours. Ours is forgotten, as above.
        _end(
            job,
            JobState.COMPLETED,
            Text(
                gettext_noop(
                    "the printer no longer knows the job (its job %(printer_job)s is another one)"
                ),
                {"printer_job": job.printer_job_id},
            ),
        )
        return True
    state_attribute = group.get("job-state")
    reasons_attribute = group.get("job-state-reasons")
    reasons = [str(v) for v in reasons_attribute.values] if reasons_attribute else []
    impressions = group.get("job-impressions-completed")
    completed = impressions.value if impressions and isinstance(impressions.value, int) else None
    Job.objects.filter(pk=job_id).update(
        printer_job_state_reasons=reasons,
        impressions_completed=completed,
        printer_answered_at=asked_at,
    )
    state = state_attribute.value if state_attribute is not None else None
    if not isinstance(state, int) or state not in TERMINAL_IPP_STATES:
        return False
    message = attribute_text(group, "job-state-message") or ", ".join(reasons)
    end = IppJobState(state)
    _end(job, TERMINAL_IPP_STATES[end], Text(PRINTER_SAYS[end], {"message": message}))
    return True


def _unanswered(job: Job, error: str) -> bool:
    """The printer gave no usable answer about a sent job: ask again later, for a while."""
    last_heard = job.printer_answered_at or job.state_changed_at
    if timezone.now() - last_heard < FOLLOW_GIVE_UP:
        raise RetryLater(error)
    hours = int(FOLLOW_GIVE_UP.total_seconds() // 3600)
    _end(job, JobState.COMPLETED, Text.counted(*PRINTER_SILENT, {"hours": hours, "error": error}))
    return True


def _end(job: Job, state: JobState, said: Text) -> None:
    """End the job as the printer says, keeping what the user was told when the printer took
    it (what it ignored, a sheet not printed) before what it says now."""
    noted = Text.from_json(job.message_text) if job.state == JobState.PROCESSING else None
    finish(job.pk, state, messages_joined(noted, said) if noted is not None else said)
