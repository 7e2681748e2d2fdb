"""Asking our printer about its jobs: Get-Job-Attributes and Get-Jobs."""

from __future__ import annotations

from pathlib import Path

from django.utils import timezone

from apps.accounts.models import User
from apps.ippserver.ipp_jobs import (
    job_attribute_group,
    not_completed,
    requested_job_ids,
    target_job,
    visible_jobs,
)
from apps.ippserver.protocol import (
    Endpoint,
    IppRefusal,
    operation_value,
    requested_attributes,
    respond,
)
from printmgmt.ipp import Message, Status, ValueTag


def get_job_attributes(
    request: Message, user: User, endpoint: Endpoint, document: Path | None
) -> Message:
    ipp_job = target_job(request, user)
    requested = requested_attributes(request)
    return respond(
        request,
        Status.SUCCESSFUL_OK,
        groups=[job_attribute_group(ipp_job, endpoint, requested, timezone.now())],
    )


def get_jobs(request: Message, user: User, endpoint: Endpoint, document: Path | None) -> Message:
    which = operation_value(request, "which-jobs")
    which_jobs = str(which.value) if which is not None else "not-completed"
    if which is not None and which_jobs not in ("not-completed", "completed", "all"):
        raise IppRefusal(
            Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
            f"which-jobs {which_jobs} is not supported",
            [which],
        )
    job_ids = requested_job_ids(request)
    now = timezone.now()
    jobs = visible_jobs(user)
    if job_ids is not None:
        # The jobs asked for by number, whatever their state (which-jobs does not apply).
        jobs = jobs.filter(pk__in=job_ids)
    elif which_jobs == "not-completed":
        jobs = jobs.filter(not_completed(now))
    elif which_jobs == "completed":
        jobs = jobs.exclude(not_completed(now))
    my_jobs = operation_value(request, "my-jobs")
    if my_jobs is not None and my_jobs.value is True:
        jobs = jobs.filter(owner=user)
    limit = operation_value(request, "limit")
    count = 1000
    if limit is not None and isinstance(limit.value, int) and limit.value > 0:
        count = min(count, limit.value)
    # Paging (PWG 5100.13): with limit, first-index says where the client's next page starts.
    first_index = operation_value(request, "first-index")
    skipped = 0
    if first_index is not None:
        if (
            first_index.tag != ValueTag.INTEGER
            or not isinstance(first_index.value, int)
            or first_index.value < 1
        ):
            raise IppRefusal(
                Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                "first-index must be a number from 1",
                [first_index],
            )
        skipped = first_index.value - 1
    requested = requested_attributes(request) or {"job-id", "job-uri"}
    groups = [
        job_attribute_group(ipp_job, endpoint, requested, now)
        for ipp_job in jobs.order_by("-id")[skipped : skipped + count]
    ]
    return respond(request, Status.SUCCESSFUL_OK, groups=groups)
