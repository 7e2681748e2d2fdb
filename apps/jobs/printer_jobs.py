"""Our jobs at their printer, asked about as the job's owner: telling ours from another by the
marker in their job-name, finding what an earlier attempt sent, and canceling there. Sending,
recovery, following and cancelling all use these."""

from __future__ import annotations

import logging
import time

from apps.jobs.documents import spool_path
from apps.jobs.models import Job
from apps.jobs.parts import Part
from apps.printers.ipp_client import client_for
from printmgmt.ipp import AttributeGroup, IppError, IppStatusError, Status
from printmgmt.ipp import JobState as IppJobState
from printmgmt.ipp.client import IppClient, SubmittedJob

logger = logging.getLogger(__name__)

UNPRINTED_IPP_STATES = frozenset({IppJobState.CANCELED, IppJobState.ABORTED})
RECOVERY_SETTLE_SECONDS = 1.0


def client_as_owner(job: Job, *, timeout: float | None = None) -> IppClient:
    """A client for the job's printer that asks as the job's owner, as its parts were sent:
    a CUPS server shows a job's name (where our marker is) only to its owner, and by default
    lets nobody else cancel it."""
    assert job.printer is not None
    client = client_for(job.printer, timeout=timeout)
    client.user_name = job.owner.get_username()
    return client


def cancel_at_printer(job: Job, printer_job_id: int) -> IppError | None:
    """Cancel-Job at the printer; the error when it did not take it (logged)."""
    assert job.printer is not None
    try:
        with client_as_owner(job) as client:
            client.cancel_job(printer_job_id)
    except IppError as error:
        logger.warning("job %s: cancel at printer failed: %s", job.pk, error)
        return error
    return None


def printer_job_is_another(job: Job, group: AttributeGroup) -> bool:
    """Whether the printer's job of the job's id, as its attributes describe it, is another
    job: a printer restarted numbers its jobs from 1 again. One that sends no job-name is taken
    at its word, and so is a name that is the start of ours (a printer that keeps fewer
    characters of a name than IPP's 255 octets)."""
    name = attribute_text(group, "job-name")
    main = Part("", spool_path(job.document_name), [])
    return bool(name) and main.marker(job) not in name and not main.job_name(job).startswith(name)


def main_marker(job: Job) -> str:
    """The marker in the job-name of the printer's job for the job itself (not its sheets)."""
    return Part("", spool_path(job.document_name), []).marker(job)


def find_earlier_send(client: IppClient, marker: str) -> SubmittedJob | None:
    """Look for the part at the printer, twice.

    A printer that stopped answering may still hold an earlier attempt's request in its
    connection backlog and create the job only once it runs again, possibly while our search
    is being answered; asking again a moment later closes that window.
    """
    found = _find_sent(client, marker)
    if found is None:
        time.sleep(RECOVERY_SETTLE_SECONDS)
        found = _find_sent(client, marker)
    return found


def _find_sent(client: IppClient, marker: str) -> SubmittedJob | None:
    """The printer's job whose name carries the marker, unless it was aborted or canceled
    there (an upload cut short by a dying worker leaves such a job: it printed nothing). The
    marker, not the whole name: how the title part is cut has changed before.

    A job of separate documents whose last document never came (the attempt that created it
    died) waits at the printer, held as incoming: it is canceled, and not found, so that the
    job is sent again whole, unless the printer can no longer cancel it (its documents came
    meanwhile: it is found). Raises the IppError of a cancel the printer refuses otherwise."""
    for which in ("not-completed", "completed"):
        for group in client.get_jobs(
            which_jobs=which,
            requested=("job-id", "job-name", "job-uri", "job-state", "job-state-reasons"),
        ):
            job_id, state = group.get("job-id"), group.get("job-state")
            if (
                marker not in attribute_text(group, "job-name")
                or job_id is None
                or not isinstance(job_id.value, int)
                or (state is not None and state.value in UNPRINTED_IPP_STATES)
            ):
                continue
            if _still_incoming(group) and _canceled(client, job_id.value):
                logger.info("printer job %s lacks documents: canceled, sent anew", job_id.value)
                continue
            return SubmittedJob(job_id.value, attribute_text(group, "job-uri") or None, None, 0)
    return None


def _canceled(client: IppClient, printer_job_id: int) -> bool:
    """Cancel a job seen still receiving its documents; False when the printer says it cannot
    be canceled any more: its document came meanwhile (a printer that stopped reads an earlier
    attempt's upload from its backlog once it runs again) and it printed, or prints."""
    try:
        client.cancel_job(printer_job_id)
    except IppStatusError as error:
        if error.status_code != Status.CLIENT_ERROR_NOT_POSSIBLE:
            raise
        return False
    return True


def cancel_if_still_incoming(client: IppClient, printer_job_id: int) -> None:
    """Cancel a job of separate documents whose attempt failed before its last document was
    taken: it would otherwise wait at the printer and print what it has once it times out
    (CUPS's multiple-operation-time-out-action), also after the job was given up here. A job
    that has all its documents is left alone: the answer to the last may just have been
    lost, and the next attempt's search adopts it. Raises the printer's IppError."""
    group = client.get_job_attributes(printer_job_id, ("job-state", "job-state-reasons"))
    if _still_incoming(group):
        client.cancel_job(printer_job_id)


def _still_incoming(group: AttributeGroup) -> bool:
    """A job the printer holds until the rest of its documents arrive (RFC 8011 5.3.8)."""
    state, reasons = group.get("job-state"), group.get("job-state-reasons")
    return (
        state is not None
        and state.value == IppJobState.PENDING_HELD
        and reasons is not None
        and "job-incoming" in {str(value.value) for value in reasons.values}
    )


def attribute_text(group: AttributeGroup, name: str) -> str:
    attribute = group.get(name)
    return str(attribute.value) if attribute is not None else ""
