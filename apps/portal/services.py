"""Writes the portal makes on behalf of the person at the browser.

Each function checks what the caller may do and then calls the domain services (jobs, printers,
accounts); the views only translate forms into calls and outcomes into pages.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from apps.accounts.errors import AccountError, InsufficientFunds
from apps.accounts.models import User
from apps.jobs import cancel
from apps.jobs.choices import JobSource, JobState
from apps.jobs.convert import OCTET_STREAM, PDF, detect_format, to_pdf
from apps.jobs.documents import DocumentError, max_document_bytes
from apps.jobs.models import Job
from apps.jobs.release import (
    PriceChanged,
    ReleaseRefused,
    job_quote,
    job_release,
    offered_options,
    options_as_it_came,
)
from apps.jobs.services import DocumentToHold, job_create_held, job_create_held_together
from apps.portal import selectors
from apps.portal.option_labels import problems_in_words
from apps.portal.templatetags.portal import money
from apps.printers.models import Printer

logger = logging.getLogger(__name__)

MAX_FILES_PER_UPLOAD = 20
#: The time converting the documents of one upload may take in all (PostScript and images; a
#: PDF needs none): a request with twenty slow ones held a web thread for forty minutes.
UPLOAD_CONVERSION_SECONDS = 60


def max_upload_request_bytes() -> int:
    """An upload request carries several documents; a body declared larger is refused unread."""
    return 20 * max_document_bytes()


@dataclass(frozen=True)
class UploadOutcome:
    """What became of one uploaded file (or of the files held as one job): a held job, or the
    reason it was refused."""

    name: str
    job: Job | None = None
    problem: str = ""


def documents_upload(
    owner: User, uploads: Sequence[UploadedFile], *, together: bool = False
) -> list[UploadOutcome]:
    """Hold each uploaded document as a job in its owner's inbox; refuse bad ones by name.

    With `together` (and two or more files) they are held as one job of several documents
    (job_create_held_together), titled by the first: its one outcome has the job, or each
    refused file has one and nothing is held."""
    if len(uploads) > MAX_FILES_PER_UPLOAD:
        raise DocumentError(
            _("at most %(most)d documents at a time: choose fewer and upload the rest after")
            % {"most": MAX_FILES_PER_UPLOAD}
        )
    deadline = time.monotonic() + UPLOAD_CONVERSION_SECONDS
    if together and len(uploads) > 1:
        return _upload_together(owner, uploads, deadline)
    return [_upload_one(owner, upload, deadline) for upload in uploads]


def _file_name(upload: UploadedFile) -> str:
    return Path(upload.name or "document").name


def _title_of(name: str) -> str:
    return Path(name).stem or name


def _as_pdf(
    upload: UploadedFile, workdir: Path, deadline: float, *, together: bool = False
) -> Path:
    """The uploaded file as a PDF in `workdir`, converted in what is left of the upload's
    time (`deadline`). A DocumentError names the file; one too late to convert says what to
    do, which differs for files held `together` (nothing of them is held)."""
    name = _file_name(upload)
    size = upload.size or 0
    if size == 0:
        raise DocumentError(_("%(name)s is empty") % {"name": name})
    if size > max_document_bytes():
        raise DocumentError(
            _("%(name)s is larger than the %(most)s MB allowed")
            % {"name": name, "most": settings.MAX_DOCUMENT_MB}
        )
    workdir.mkdir(exist_ok=True)
    received = workdir / "received"
    with received.open("wb") as file:
        for chunk in upload.chunks():
            file.write(chunk)
    try:
        seconds = deadline - time.monotonic()
        if seconds < 1 and detect_format(received) != PDF:
            too_late = (
                _(
                    "not converted: converting the documents before it took the "
                    "%(seconds)d seconds an upload may take; hold fewer documents as one "
                    "job, or send PDFs, which need no conversion"
                )
                if together
                else _(
                    "not converted: converting the documents before it took the "
                    "%(seconds)d seconds an upload may take; upload it again on its own"
                )
            )
            raise DocumentError(too_late % {"seconds": UPLOAD_CONVERSION_SECONDS})
        return to_pdf(received, OCTET_STREAM, workdir, seconds=seconds)
    except DocumentError as error:
        raise DocumentError(f"{name}: {error}") from None


def _upload_one(owner: User, upload: UploadedFile, deadline: float) -> UploadOutcome:
    name = _file_name(upload)
    with tempfile.TemporaryDirectory(prefix="upload-") as workdir:
        try:
            pdf = _as_pdf(upload, Path(workdir), deadline)
        except DocumentError as error:
            return UploadOutcome(name, problem=str(error))
        try:
            job = job_create_held(
                owner, pdf, title=_title_of(name), source=JobSource.WEB, move=True
            )
        except DocumentError as error:
            return UploadOutcome(name, problem=f"{name}: {error}")
    return UploadOutcome(name, job=job)


def _upload_together(
    owner: User, uploads: Sequence[UploadedFile], deadline: float
) -> list[UploadOutcome]:
    """The uploads held as one job of several documents, or each refused one named (every
    file is converted, so that all those the conversion refuses are named at once)."""
    with tempfile.TemporaryDirectory(prefix="upload-") as workdir:
        documents: list[DocumentToHold] = []
        refused: list[UploadOutcome] = []
        for number, upload in enumerate(uploads):
            name = _file_name(upload)
            try:
                pdf = _as_pdf(upload, Path(workdir) / str(number), deadline, together=True)
            except DocumentError as error:
                refused.append(UploadOutcome(name, problem=str(error)))
                continue
            documents.append(DocumentToHold(pdf, _title_of(name), name, move=True))
        if refused:
            return refused
        first = documents[0].name
        try:
            job = job_create_held_together(
                owner, documents, title=_title_of(first), source=JobSource.WEB
            )
        except DocumentError as error:
            return [UploadOutcome(first, problem=str(error))]
    return [UploadOutcome(first, job=job)]


def job_cancel_own(user: User, job_id: int) -> Job:
    """Cancel one of the user's own jobs that has not ended. Raises ReleaseRefused otherwise."""
    job = Job.objects.filter(pk=job_id, owner=user).first()
    if job is None:
        raise ReleaseRefused(_("this is not your job"))
    try:
        canceled = cancel.cancel(job_id, reason=cancel.canceled_by(user.username))
    except cancel.CancelRefused as refused:
        raise ReleaseRefused(str(refused)) from None
    if canceled is None:
        job.refresh_from_db(fields=["state"])
        raise ReleaseRefused(
            _("the job is %(state)s and cannot be canceled")
            % {"state": job.get_state_display().lower()}
        )
    return canceled


@dataclass(frozen=True)
class ReleaseOutcome:
    job: Job
    problem: str = ""


def _held_as_they_came(
    user: User, printer: Printer | None, job_ids: Sequence[int] | None
) -> list[tuple[Job, dict[str, str]]]:
    """The user's held jobs (of `job_ids`, when given), oldest first, each with the options it
    is released with on `printer`."""
    offered = (
        offered_options(printer, operator=selectors.is_operator(user))
        if printer is not None
        else ()
    )
    held = Job.objects.filter(owner=user, state=JobState.HELD)
    if job_ids is not None:
        held = held.filter(pk__in=job_ids)
    return [(job, options_as_it_came(job, offered)) for job in held.order_by("created_at", "pk")]


def release_all_prices(
    user: User, printer_id: int, job_ids: Sequence[int] | None = None
) -> dict[int, Decimal]:
    """What each held job (of `job_ids`, when given) costs released as it came to the printer,
    by job id; a job the printer cannot print so has none (its release says why)."""
    printer = Printer.objects.select_related("rule_file").filter(pk=printer_id).first()
    if printer is None:
        return {}
    operator = selectors.is_operator(user)
    prices = {}
    for job, options in _held_as_they_came(user, printer, job_ids):
        quote = job_quote(
            job, printer, options, copies=job.copies, page_ranges=job.page_ranges, operator=operator
        )
        if not quote.problems and quote.total is not None:
            prices[job.pk] = quote.total
    return prices


def jobs_release_all(
    user: User,
    printer_id: int,
    *,
    account_id: int | None,
    job_ids: Sequence[int] | None = None,
    prices: Mapping[int, Decimal] | None = None,
) -> list[ReleaseOutcome]:
    """Release every held job of the user to one printer (of `job_ids`, when given: those the
    page showed), each with what it came with (copies, pages, the options the printer offers;
    its defaults for the rest), and for the price in `prices` (release_all_prices, as shown),
    when given.

    Each job is released on its own: one that is refused (not enough money, a rule, a price
    that changed) stays held and says why; the others print.
    """
    printer = Printer.objects.select_related("rule_file").filter(pk=printer_id).first()
    outcomes = []
    for job, options in _held_as_they_came(user, printer, job_ids):
        try:
            job_release(
                job.pk,
                user,
                printer_id,
                options,
                copies=job.copies,
                page_ranges=job.page_ranges,
                account_id=account_id,
                expected_price=(prices or {}).get(job.pk),
            )
        except PriceChanged as changed:
            outcomes.append(
                ReleaseOutcome(
                    job,
                    _("its price changed from %(seen)s to %(now)s: check it and release it")
                    % {"seen": money(changed.seen), "now": money(changed.now)},
                )
            )
        except InsufficientFunds as short:
            # As the single release says it: the amount missing, as the reader writes money
            # (the refusal's own sentence has plain amounts).
            outcomes.append(
                ReleaseOutcome(
                    job,
                    _("not enough money on the account: %(missing)s missing")
                    % {"missing": money(short.missing)},
                )
            )
        except ReleaseRefused as refused:
            # The options named as the release dialog names them, not by their IPP names.
            words = problems_in_words(refused.quote) if refused.quote else [str(refused)]
            outcomes.append(ReleaseOutcome(job, " ".join(words)))
        except AccountError as error:
            outcomes.append(ReleaseOutcome(job, str(error)))
        else:
            outcomes.append(ReleaseOutcome(job))
    return outcomes
