"""Changing our IPP printer's jobs: Cancel-Job, Cancel-My-Jobs, Hold-Job and Release-Job."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from apps.accounts.errors import AccountError, AccountPermissionDenied
from apps.accounts.models import User
from apps.accounts.roles import MANAGE_PRINTERS, permission_name
from apps.accounts.selectors import printing_refusal
from apps.ippserver.ipp_jobs import (
    not_completed,
    requested_job_ids,
    target_job,
)
from apps.ippserver.job_creation import check_open, locked_ipp_job
from apps.ippserver.job_documents import delete_received
from apps.ippserver.models import IppJob, PrintingProfile
from apps.ippserver.protocol import (
    Endpoint,
    IppRefusal,
    respond,
)
from apps.jobs import cancel
from apps.jobs.choices import TERMINAL_STATES, JobState
from apps.jobs.release import ReleaseRefused, job_release, offered_options, options_as_it_came
from printmgmt.ipp import Attribute, Message, Status


class StillAtPrinter(IppRefusal):
    """The job's printer did not take the cancel (unreachable, or refusing): it may print."""


def _cancel(ipp_job_id: int, user: User, now: datetime) -> None:
    """Cancel one job, or raise IppRefusal saying why it cannot be."""
    received: list[dict[str, object]] = []
    with transaction.atomic():
        ipp_job = locked_ipp_job(ipp_job_id)
        job = ipp_job.job
        if job is None:
            if ipp_job.canceled_at is not None:
                raise IppRefusal(Status.CLIENT_ERROR_NOT_POSSIBLE, "the job is canceled already")
            check_open(ipp_job, now)
            received = list(ipp_job.documents)
            ipp_job.canceled_at = timezone.now()
            ipp_job.documents = []
            ipp_job.save(update_fields=["canceled_at", "documents"])
    if job is None:
        delete_received(received)
        return
    # Outside the transaction: a job at a printer is canceled there too, over the network.
    reason = cancel.canceled_from_a_device_by(user.username)
    try:
        canceled = job.state not in TERMINAL_STATES and cancel.cancel(job.pk, reason=reason)
    except cancel.CancelRefused as refused:
        raise StillAtPrinter(Status.CLIENT_ERROR_NOT_POSSIBLE, str(refused)) from None
    if not canceled:
        job.refresh_from_db(fields=["state"])
        raise IppRefusal(
            Status.CLIENT_ERROR_NOT_POSSIBLE,
            f"the job is {job.get_state_display().lower()} and cannot be canceled",
        )


def cancel_job(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    _cancel(target_job(request, user).pk, user, timezone.now())
    return respond(request, Status.SUCCESSFUL_OK)


def cancel_my_jobs(
    request: Message, user: User, endpoint: Endpoint, document: Path | None
) -> Message:
    """Cancel the user's own jobs that have not ended, or the ones `job-ids` names (PWG
    5100.11). Named jobs are all checked first: when one is not the user's or has ended,
    nothing is canceled."""
    job_ids = requested_job_ids(request)
    now = timezone.now()
    mine = IppJob.objects.filter(owner=user)
    if job_ids is None:
        at_printer: list[int] = []
        for ipp_job_id in mine.filter(not_completed(now)).values_list("pk", flat=True):
            try:
                _cancel(ipp_job_id, user, now)
            except StillAtPrinter:
                at_printer.append(ipp_job_id)
            except IppRefusal:
                continue  # it ended meanwhile: it stays as it ended
        _refuse_if_still_at_printer(at_printer)
        return respond(request, Status.SUCCESSFUL_OK)
    found = set(mine.filter(pk__in=job_ids).values_list("pk", flat=True))
    unknown = [i for i in job_ids if i not in found]
    if unknown:
        raise IppRefusal(
            Status.CLIENT_ERROR_NOT_FOUND,
            "you have no job " + ", ".join(map(str, unknown)),
            [Attribute.integer("job-ids", *unknown)],
        )
    open_ids = set(mine.filter(not_completed(now), pk__in=job_ids).values_list("pk", flat=True))
    ended = [i for i in job_ids if i not in open_ids]
    if ended:
        raise IppRefusal(
            Status.CLIENT_ERROR_NOT_POSSIBLE,
            "these jobs have ended and cannot be canceled: " + ", ".join(map(str, ended)),
            [Attribute.integer("job-ids", *ended)],
        )
    ended_meanwhile = []
    at_printer = []
    for ipp_job_id in job_ids:
        try:
            _cancel(ipp_job_id, user, now)
        except StillAtPrinter:
            at_printer.append(ipp_job_id)
        except IppRefusal:
            ended_meanwhile.append(ipp_job_id)
    _refuse_if_still_at_printer(at_printer)
    if ended_meanwhile:
        return respond(
            request,
            Status.SUCCESSFUL_OK,
            "canceled; these jobs ended on their own meanwhile: "
            + ", ".join(map(str, ended_meanwhile)),
        )
    return respond(request, Status.SUCCESSFUL_OK)


def _refuse_if_still_at_printer(job_ids: list[int]) -> None:
    if job_ids:
        raise IppRefusal(
            Status.CLIENT_ERROR_NOT_POSSIBLE,
            "the printer of jobs " + ", ".join(map(str, job_ids)) + " could not cancel them: "
            "they may still print; any others were canceled",
            [Attribute.integer("job-ids", *job_ids)],
        )


def hold_job(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    ipp_job = target_job(request, user)
    check_open(ipp_job, timezone.now())
    if ipp_job.job is not None and ipp_job.job.state != JobState.HELD:
        raise IppRefusal(Status.CLIENT_ERROR_NOT_POSSIBLE, "the job is no longer held")
    return respond(request, Status.SUCCESSFUL_OK, "held jobs stay held until released")


def release_job(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    why_not = printing_refusal(user)
    if why_not is not None:
        # Their jobs are still theirs to see and cancel, but no longer to print.
        raise IppRefusal(Status.CLIENT_ERROR_NOT_AUTHORIZED, why_not)
    ipp_job = target_job(request, user, own=True)
    if ipp_job.job is None or ipp_job.job.state != JobState.HELD:
        raise IppRefusal(Status.CLIENT_ERROR_NOT_POSSIBLE, "the job is not held")
    profile = PrintingProfile.objects.filter(user=user).select_related("default_printer").first()
    if profile is None or profile.default_printer is None:
        raise IppRefusal(
            Status.CLIENT_ERROR_NOT_POSSIBLE,
            "you have no default printer: choose one in the portal, or release the job there",
        )
    job = ipp_job.job
    printer = profile.default_printer
    # As Release all does: its presets as the printer offers them (a scaling or output bin it
    # does not have is its default), a finishing it cannot do refused.
    offered = offered_options(printer, operator=user.has_perm(permission_name(MANAGE_PRINTERS)))
    try:
        job_release(
            job.pk,
            user,
            printer.pk,
            options_as_it_came(job, offered),
            copies=job.copies,
            page_ranges=job.page_ranges,
        )
    except AccountPermissionDenied as error:
        raise IppRefusal(Status.CLIENT_ERROR_NOT_AUTHORIZED, str(error)) from None
    except (ReleaseRefused, AccountError) as error:
        raise IppRefusal(Status.CLIENT_ERROR_NOT_POSSIBLE, str(error)) from None
    return respond(request, Status.SUCCESSFUL_OK)
