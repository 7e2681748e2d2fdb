"""Our IPP jobs as clients see them: which jobs a user may see, the job a request names, and a
job's attributes (its held job's state told in IPP terms).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import MANAGE_PRINTERS, permission_name
from apps.ippserver.attributes import BOOKLET_MAKER, DOCUMENT_TIME_OUT_SECONDS
from apps.ippserver.models import IppJob
from apps.ippserver.protocol import (
    Endpoint,
    IppRefusal,
    operation_value,
    select_attributes,
    target_path,
    within_255_octets,
)
from apps.jobs.build import parse_page_ranges
from apps.jobs.cancel import who_canceled
from apps.jobs.choices import TERMINAL_STATES, JobState
from apps.jobs.documents import DocumentError
from printmgmt.digits import whole_number
from printmgmt.ipp import (
    Attribute,
    AttributeGroup,
    DateTime,
    GroupTag,
    Message,
    RangeOfInteger,
    Status,
    ValueTag,
)
from printmgmt.ppde.model import FINISHING_ENUM_RANGES, FINISHINGS_BOOKLET


def _is_operator(user: User) -> bool:
    return user.has_perm(permission_name(MANAGE_PRINTERS))


def visible_jobs(user: User) -> QuerySet[IppJob]:
    """The jobs a user sees: their own, or every job for a printer admin."""
    jobs = IppJob.objects.select_related("job", "owner")
    return jobs if _is_operator(user) else jobs.filter(owner=user)


#: A document still arriving after this long is refused, and its job aborted (the time-out
#: waits while a document arrives, but not for ever: a server restart mid-upload ends none).
DOCUMENT_ARRIVAL_LIMIT = timedelta(hours=1)
#: The most job numbers one request may name.
MAX_JOB_IDS = 1000


def aborted_at(ipp_job: IppJob) -> datetime:
    """When a job made by Create-Job times out unless its next document has come by then: the
    time-out after Create-Job or after the latest document received, or the arrival limit once
    a document began to arrive. A job without documents is then aborted; one with documents is
    held with them (close_timed_out_jobs)."""
    if ipp_job.document_arriving_since is not None:
        return ipp_job.document_arriving_since + DOCUMENT_ARRIVAL_LIMIT
    waiting_since = ipp_job.document_received_at or ipp_job.created_at
    return waiting_since + timedelta(seconds=DOCUMENT_TIME_OUT_SECONDS)


def timed_out(ipp_job: IppJob, at: datetime) -> bool:
    """Whether a job made by Create-Job waited in vain, at `at`, for its next document."""
    return (
        ipp_job.job is None
        and ipp_job.canceled_at is None
        and ipp_job.refused_at is None
        and aborted_at(ipp_job) < at
    )


def waited_in_vain(ipp_job: IppJob, at: datetime) -> bool:
    """Whether a job made by Create-Job was aborted, at `at`, for want of its first document."""
    return not ipp_job.documents and timed_out(ipp_job, at)


def timed_out_at(at: datetime) -> Q:
    """The query form of timed_out."""
    time_out = at - timedelta(seconds=DOCUMENT_TIME_OUT_SECONDS)
    return Q(job__isnull=True, canceled_at__isnull=True, refused_at__isnull=True) & (
        Q(
            document_arriving_since__isnull=True,
            document_received_at__isnull=True,
            created_at__lt=time_out,
        )
        | Q(document_arriving_since__isnull=True, document_received_at__lt=time_out)
        | Q(document_arriving_since__lt=at - DOCUMENT_ARRIVAL_LIMIT)
    )


def not_completed(at: datetime) -> Q:
    """Jobs that have not ended at `at`: waiting for a document (or, having timed out with
    documents, to be held with them), or a held job not ended (the query form of
    waited_in_vain and the held job's state)."""
    waiting = Q(job__isnull=True, canceled_at__isnull=True, refused_at__isnull=True) & ~(
        timed_out_at(at) & Q(documents=[])
    )
    return waiting | Q(job__state__in=[s for s in JobState if s not in TERMINAL_STATES])


def requested_job_ids(request: Message) -> list[int] | None:
    """The operation's `job-ids` (PWG 5100.11), in the order given, or None when not sent."""
    attribute = operation_value(request, "job-ids")
    if attribute is None:
        return None
    ids = [
        v.value
        for v in attribute.values
        if v.tag == ValueTag.INTEGER and isinstance(v.value, int) and v.value > 0
    ]
    if len(ids) != len(attribute.values):
        raise IppRefusal(
            Status.CLIENT_ERROR_BAD_REQUEST,
            "job-ids must be job numbers (integers from 1)",
            [attribute],
        )
    unique = list(dict.fromkeys(ids))
    if len(unique) > MAX_JOB_IDS:
        raise IppRefusal(
            Status.CLIENT_ERROR_BAD_REQUEST, f"job-ids may name at most {MAX_JOB_IDS} jobs"
        )
    return unique


def target_job(request: Message, user: User, *, lock: bool = False, own: bool = False) -> IppJob:
    """The job a job operation names (job-uri, or printer-uri with job-id). Other users' jobs
    are not found, so that nobody learns which jobs exist; a printer admin finds every job, but
    with `own` (operations that give a job its document or send it to a printer) is told that
    one of another user is not theirs: they see it, so "no such job" would be untrue."""
    target = request.operation_attributes.attributes[2]
    if target.name == "job-uri":
        tail = target_path(target).rsplit("/", 1)[-1]
        job_id = whole_number(tail)
        if job_id is None:
            raise IppRefusal(Status.CLIENT_ERROR_NOT_FOUND, f"there is no job {tail}")
    else:
        attribute = operation_value(request, "job-id")
        # An integer: neither a boolean true nor an enum 1 is job 1.
        if (
            attribute is None
            or attribute.tag != ValueTag.INTEGER
            or not isinstance(attribute.value, int)
        ):
            raise IppRefusal(Status.CLIENT_ERROR_BAD_REQUEST, "job-id must be a job number")
        job_id = attribute.value
    jobs = visible_jobs(user)
    if lock:
        jobs = jobs.select_for_update(of=("self",))
    ipp_job = jobs.filter(pk=job_id).first()
    if ipp_job is None:
        raise IppRefusal(Status.CLIENT_ERROR_NOT_FOUND, f"there is no job {job_id}")
    if own and ipp_job.owner_id != user.pk:
        raise IppRefusal(
            Status.CLIENT_ERROR_NOT_AUTHORIZED,
            f"job {job_id} is {ipp_job.owner.username}'s: only its owner can give it its "
            "document, close it or release it",
        )
    return ipp_job


_IPP_STATES: dict[str, tuple[int, str]] = {
    JobState.HELD: (4, "job-hold-until-specified"),
    JobState.RELEASED: (3, "job-queued"),
    JobState.SENDING: (5, "job-transforming"),
    JobState.PROCESSING: (5, "job-printing"),
    JobState.COMPLETED: (9, "job-completed-successfully"),
    JobState.FAILED: (8, "aborted-by-system"),
    JobState.CANCELED: (7, "job-canceled-by-user"),
    JobState.EXPIRED: (7, "job-canceled-by-operator"),
}


def ipp_job_state(ipp_job: IppJob, at: datetime) -> tuple[int, str, str]:
    """(job-state, job-state-reasons, job-state-message) of a job at `at`."""
    if ipp_job.job is not None:
        state, reason = _IPP_STATES[ipp_job.job.state]
        if ipp_job.job.state == JobState.CANCELED and who_canceled(ipp_job.job) not in (
            None,
            ipp_job.owner.get_username(),
        ):
            reason = "job-canceled-by-operator"
        message = ipp_job.job.message or ipp_job.job.get_state_display()
        if ipp_job.job.state == JobState.HELD:
            message = "held: release it at a printer or in the portal"
        return state, reason, message
    if ipp_job.canceled_at is not None:
        return 7, "job-canceled-by-user", "canceled before its documents came"
    if ipp_job.refused_at is not None:
        return 8, "aborted-by-system", f"aborted: {ipp_job.refusal}"
    if waited_in_vain(ipp_job, at):
        return 8, "aborted-by-system", aborted_message(ipp_job)
    # Held while its documents come, as CUPS holds a job made by Create-Job.
    received = len(ipp_job.documents)
    if timed_out(ipp_job, at):
        return (
            4,
            "job-incoming",
            f"no more documents came: to be held with those received ({received})",
        )
    if received:
        return 4, "job-incoming", f"waiting for its next document ({received} received)"
    return 4, "job-incoming", "waiting for its document"


def aborted_message(ipp_job: IppJob) -> str:
    if ipp_job.document_arriving_since is not None:
        return "aborted: its document took more than an hour to arrive"
    return f"aborted: its document did not start to arrive within {DOCUMENT_TIME_OUT_SECONDS} s"


def number_of_documents(ipp_job: IppJob) -> int:
    """The documents a job has: received so far, or those of its held job."""
    if ipp_job.job is None:
        return len(ipp_job.documents)
    return len(ipp_job.job.documents) or 1


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _finishings(options: dict[str, object]) -> list[int]:
    enums = [
        enum
        for name in FINISHING_ENUM_RANGES
        if (enum := whole_number(str(options.get(name, "3")))) is not None and enum != 3
    ]
    if options.get(FINISHINGS_BOOKLET, "none") != "none":
        enums.append(BOOKLET_MAKER)
    return enums or [3]


def job_status_attributes(ipp_job: IppJob, endpoint: Endpoint) -> list[Attribute]:
    """What a job creation answers (RFC 8011 section 4.2.1.2): the job's id, URI and state."""
    return _status_attributes(ipp_job, endpoint, *ipp_job_state(ipp_job, timezone.now()))


def _status_attributes(
    ipp_job: IppJob, endpoint: Endpoint, state: int, reason: str, message: str
) -> list[Attribute]:
    return [
        Attribute.integer("job-id", ipp_job.pk),
        Attribute.uri("job-uri", endpoint.job_uri(ipp_job.pk)),
        Attribute.enum("job-state", state),
        Attribute.keyword("job-state-reasons", reason),
        Attribute.text("job-state-message", message[:255]),
    ]


def job_attributes(ipp_job: IppJob, endpoint: Endpoint, at: datetime) -> list[Attribute]:
    state, reason, message = ipp_job_state(ipp_job, at)
    job = ipp_job.job
    no_value = Attribute.out_of_band
    # Processing starts with the release: a job canceled or expired while held never had any
    # (a released job names the printer it went to).
    released = job is not None and job.state != JobState.HELD and job.printer_id is not None
    started = job.state_changed_at if job and released else None
    ended = job.state_changed_at if job and job.state in TERMINAL_STATES else None
    if ipp_job.canceled_at is not None:
        ended = ipp_job.canceled_at
    elif ipp_job.refused_at is not None:
        ended = ipp_job.refused_at
    elif state == 8 and job is None:
        ended = aborted_at(ipp_job)
    options: dict[str, object] = dict(job.options if job else ipp_job.options)
    attributes = [
        *_status_attributes(ipp_job, endpoint, state, reason, message),
        Attribute.uri("job-printer-uri", endpoint.printer_uri),
        Attribute.name_("job-name", within_255_octets(ipp_job.name)),
        Attribute.name_("job-originating-user-name", within_255_octets(ipp_job.owner.username)),
        Attribute.uri("job-more-info", endpoint.portal_url),
        Attribute.integer("time-at-creation", _epoch(ipp_job.created_at)),
        Attribute.integer("time-at-processing", _epoch(started))
        if started
        else no_value("time-at-processing", ValueTag.NO_VALUE),
        Attribute.integer("time-at-completed", _epoch(ended))
        if ended
        else no_value("time-at-completed", ValueTag.NO_VALUE),
        Attribute.integer("job-printer-up-time", int(time.time())),
        Attribute.date_time("date-time-at-creation", DateTime.from_datetime(ipp_job.created_at)),
        Attribute.date_time("date-time-at-processing", DateTime.from_datetime(started))
        if started
        else no_value("date-time-at-processing", ValueTag.NO_VALUE),
        Attribute.date_time("date-time-at-completed", DateTime.from_datetime(ended))
        if ended
        else no_value("date-time-at-completed", ValueTag.NO_VALUE),
        Attribute.integer("number-of-documents", number_of_documents(ipp_job)),
        Attribute.integer("copies", job.copies if job else ipp_job.copies),
        Attribute.enum("finishings", *_finishings(options)),
        Attribute.keyword("job-hold-until", "indefinite" if state == 4 else "no-hold"),
    ]
    for name in ("sides", "media", "print-color-mode"):
        if isinstance(options.get(name), str):
            attributes.append(Attribute.keyword(name, str(options[name])))
    number_up = whole_number(str(options.get("number-up", "")))
    if isinstance(options.get("number-up"), str) and number_up is not None:
        attributes.append(Attribute.integer("number-up", number_up))
    if ipp_job.page_ranges:
        attributes.append(Attribute.range_of_integer("page-ranges", *_ranges(ipp_job.page_ranges)))
    if job is not None:
        impressions = _impressions(job.page_count, job.page_ranges, number_up or 1)
        attributes.append(Attribute.integer("job-impressions", impressions))
    return attributes


def _ranges(written: str) -> list[RangeOfInteger]:
    """The page-ranges a client sent, as the job keeps them ("2-3,5")."""
    ranges = []
    for part in written.split(","):
        first, _, last = part.partition("-")
        ranges.append(RangeOfInteger(int(first), int(last or first)))
    return ranges


def _impressions(page_count: int, page_ranges: str, number_up: int) -> int:
    """The job's impressions (RFC 8011 5.3.17.2): the sides its selected pages take, number-up
    to a side, without the factor of copies."""
    try:
        pages = len(parse_page_ranges(page_ranges, page_count))
    except DocumentError:  # never for a selection the job was made with
        pages = page_count
    return -(-pages // number_up)


_JOB_GROUPS = {
    "job-template": {
        "copies", "finishings", "job-hold-until", "media", "number-up", "page-ranges",
        "print-color-mode", "sides",
    },
}  # fmt: skip


def job_attribute_group(
    ipp_job: IppJob, endpoint: Endpoint, requested: set[str] | None, at: datetime
) -> AttributeGroup:
    attributes = job_attributes(ipp_job, endpoint, at)
    groups = dict(_JOB_GROUPS)
    groups["job-description"] = {a.name for a in attributes} - groups["job-template"]
    return AttributeGroup(GroupTag.JOB, select_attributes(attributes, requested, groups))
