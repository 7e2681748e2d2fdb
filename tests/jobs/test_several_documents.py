"""Jobs of several documents: held as one job, priced and sent as the printer prints them —
Create-Job and a Send-Document each to a printer that takes several documents (a CUPS queue),
one document to a printer that takes one per job (ippeveprinter); exactly once either way."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pikepdf
import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.jobs import pipeline, recovery
from apps.jobs.build import NoPageOfDocument, page_ranges_in_each, pages_by_document
from apps.jobs.choices import JobSource, JobState
from apps.jobs.documents import DocumentError, spool_path
from apps.jobs.models import Job
from apps.jobs.outcomes import RetryLater
from apps.jobs.parts import Part, WorkDir, build_parts
from apps.jobs.release import job_quote, job_release
from apps.jobs.services import (
    MAX_DOCUMENTS_PER_JOB,
    DocumentToHold,
    discard_prepared,
    job_create_held_together,
    job_transition,
    prepare_held_together,
)
from apps.printers.ipp_values import takes_several_documents
from apps.printers.models import Printer
from printmgmt.ipp import Attribute, AttributeGroup, IppStatusError, Operation, Status, decode
from printmgmt.ipp import JobState as IppJobState
from printmgmt.ipp.client import IppClient
from tests.jobs.conftest import charged_and_released, wait_for_end
from tests.pdfs import make_pdf
from tests.peers import http_request_body, send_ipp_answer
from tests.workers import WorkerProcess

DUPLEX_STAPLED = {
    "media": "iso_a4_210x297mm",
    "print-color-mode": "monochrome",
    "sides": "two-sided-long-edge",
    "org.savapage-finishings-staple": "20",
}


def _value(group: AttributeGroup, name: str) -> object:
    attribute = group.get(name)
    assert attribute is not None, name
    return attribute.value


# ---------------------------------------------------------------- pages of the documents


def test_selected_pages_fall_into_runs_of_one_document_each() -> None:
    assert pages_by_document([2, 3], [1, 2, 3, 4, 5]) == [(0, [1, 2]), (1, [3, 4, 5])]
    assert pages_by_document([2, 3], [4, 5]) == [(1, [4, 5])]
    # Out of order, a document prints twice where the selection returns to it.
    assert pages_by_document([2, 3], [5, 1, 2, 3]) == [(1, [5]), (0, [1, 2]), (1, [3])]


def test_a_page_selection_applies_to_each_document_cut_at_its_end() -> None:
    assert page_ranges_in_each("1-2", [3, 1, 4]) == "1-2,4,5-6"
    assert page_ranges_in_each("3-", [3, 1, 4]) == "3,7-8"
    assert page_ranges_in_each("", [3, 1]) == ""
    with pytest.raises(NoPageOfDocument, match="name no page of any of the 2 documents"):
        page_ranges_in_each("5", [3, 1])
    with pytest.raises(DocumentError, match="is not a page or a range"):
        page_ranges_in_each("x", [3, 1])
    with pytest.raises(DocumentError, match="longer than 200 characters"):
        page_ranges_in_each("1,3", [3] * 40)


# ---------------------------------------------------------------------------- holding


def _documents(tmp_path: Path, *pages: int) -> list[DocumentToHold]:
    return [
        DocumentToHold(
            make_pdf(tmp_path / f"part{n}.pdf", count), f"part{n}", f"part{n}.pdf", False
        )
        for n, count in enumerate(pages, start=1)
    ]


@pytest.mark.django_db
def test_documents_held_together_are_one_stored_pdf_that_names_each(
    staff_user: User, tmp_path: Path
) -> None:
    job = job_create_held_together(
        staff_user,
        _documents(tmp_path, 2, 3),
        title="",
        source=JobSource.COMMAND,
        page_ranges="2-",
    )
    assert (job.title, job.page_count, job.page_ranges) == ("part1", 5, "2,4-5")
    assert job.documents == [{"name": "part1.pdf", "pages": 2}, {"name": "part2.pdf", "pages": 3}]
    assert job.document_page_counts == [2, 3]
    with pikepdf.open(spool_path(job.document_name)) as stored:
        assert len(stored.pages) == 5
    assert not [
        path for path in spool_path(job.document_name).parent.iterdir() if path.name[0] == "."
    ]


@pytest.mark.django_db
def test_a_refused_document_is_named_and_nothing_is_held(staff_user: User, tmp_path: Path) -> None:
    documents = _documents(tmp_path, 2, 3)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(documents[1].pdf.read_bytes()[:200])
    documents.append(DocumentToHold(broken, "broken", "broken.pdf", False))
    spool = spool_path("any.pdf").parent
    before = set(spool.iterdir()) if spool.exists() else set()
    with pytest.raises(DocumentError, match=r"^broken\.pdf: the PDF cannot be read"):
        job_create_held_together(staff_user, documents, title="", source=JobSource.WEB)
    too_many = [documents[0]] * (MAX_DOCUMENTS_PER_JOB + 1)
    with pytest.raises(DocumentError, match=f"at most {MAX_DOCUMENTS_PER_JOB} documents"):
        job_create_held_together(staff_user, too_many, title="", source=JobSource.WEB)
    assert not Job.objects.exists()
    assert (set(spool.iterdir()) if spool.exists() else set()) == before


@pytest.mark.django_db
def test_documents_are_prepared_without_the_database_and_one_not_held_leaves_no_file(
    staff_user: User, tmp_path: Path, django_assert_num_queries: Callable[..., Any]
) -> None:
    # Their PDF is merged and stored before any transaction: callers take their locks after.
    documents = _documents(tmp_path, 2, 3)
    spool = spool_path("any.pdf").parent
    before = set(spool.iterdir()) if spool.exists() else set()
    with django_assert_num_queries(0):
        prepared = prepare_held_together(documents, page_ranges="2-")
    assert (prepared.stored.page_count, prepared.page_ranges, prepared.fallback_title) == (
        5,
        "2,4-5",
        "part1",
    )
    assert set(spool.iterdir()) == before | {spool_path(prepared.stored.name)}
    discard_prepared(prepared)
    assert set(spool.iterdir()) == before
    never_saved = User(username="ghost")  # its job's row cannot be written
    with pytest.raises(ValueError, match="unsaved"):
        job_create_held_together(never_saved, documents, title="", source=JobSource.WEB)
    assert not Job.objects.exists()
    assert set(spool.iterdir()) == before


# -------------------------------------------------------------- printing, by the printer


@pytest.fixture
def two_documents(staff_user: User, tmp_path: Path) -> Callable[[], Job]:
    def make() -> Job:
        return job_create_held_together(
            staff_user, _documents(tmp_path, 3, 3), title="minutes", source=JobSource.WEB
        )

    return make


@pytest.mark.worker
@pytest.mark.peers
def test_a_cups_queue_gets_each_document_on_sheets_of_its_own_priced_so(
    celery_worker: WorkerProcess,
    office_mfp: Printer,
    two_documents: Callable[[], Job],
    staff_user: User,
) -> None:
    assert takes_several_documents(office_mfp.capabilities)
    job = two_documents()
    released = job_release(job.pk, staff_user, office_mfp.pk, DUPLEX_STAPLED)
    # Per document: 2 two-sided sides and the last page alone (0.025 × 4 + 0.030 × 2), and a
    # staple each (0.05 × 2); as one 6-page document it would be 0.15 + 0.05.
    assert released.price == Decimal("0.26")
    deadline = time.monotonic() + 60
    while Job.objects.get(pk=job.pk).printer_job_id is None and time.monotonic() < deadline:
        time.sleep(0.2)
    sent = Job.objects.get(pk=job.pk)
    assert sent.printer_job_id is not None, sent.message
    # CUPS shows a job's name only to its owner.
    with IppClient(office_mfp.uri, user_name=staff_user.username) as cups:
        arrived = cups.get_job_attributes(
            sent.printer_job_id, ("number-of-documents", "multiple-document-handling", "job-name")
        )
    assert _value(arrived, "number-of-documents") == 2
    assert _value(arrived, "multiple-document-handling") == "separate-documents-collated-copies"
    assert f"[pm-{job.marker.hex}]" in str(_value(arrived, "job-name"))
    done = wait_for_end(job.pk, timeout=90)
    assert done.state == JobState.COMPLETED, done.message


@pytest.mark.django_db(transaction=True)
def test_a_printer_that_takes_one_document_a_job_gets_them_as_one(
    finisher: Printer,
    two_documents: Callable[[], Job],
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    assert not takes_several_documents(finisher.capabilities)
    job = two_documents()
    duplex = {"sides": "two-sided-long-edge"}
    released = job_release(job.pk, staff_user, finisher.pk, duplex)
    # Priced as it prints: as one document of 6 pages, 3 sheets, not 4.
    one_document = job_quote(held_job(pages=6), finisher, duplex)
    assert (one_document.price.sheets_per_copy, released.price) == (3, one_document.total)
    workdir = WorkDir("test-")
    try:
        (part,) = build_parts(
            Job.objects.select_related("printer", "owner").get(pk=job.pk), workdir
        )
    finally:
        workdir.remove()
    assert (part.document, part.separate_documents) == (spool_path(job.document_name), ())


@pytest.mark.django_db(transaction=True)
def test_a_page_selection_in_one_document_sends_that_document_alone(
    office_mfp: Printer, two_documents: Callable[[], Job], staff_user: User
) -> None:
    job = two_documents()
    job_release(job.pk, staff_user, office_mfp.pk, DUPLEX_STAPLED, page_ranges="4-5")
    workdir = WorkDir("test-")
    try:
        (part,) = build_parts(
            Job.objects.select_related("printer", "owner").get(pk=job.pk), workdir
        )
        assert part.separate_documents == ()
        with pikepdf.open(part.document) as sent:
            assert len(sent.pages) == 2
    finally:
        workdir.remove()


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_documents_did_not_all_arrive_is_canceled_and_sent_again_once(
    office_mfp: Printer, two_documents: Callable[[], Job], staff_user: User
) -> None:
    job = charged_and_released(two_documents(), office_mfp, documents_printed_separately=True)
    # An attempt created the job at CUPS and sent its first document; then its worker died.
    stale = timezone.now() - timedelta(seconds=recovery.SEND_CLAIM_SECONDS + 1)
    job_transition(
        job.pk,
        JobState.SENDING,
        reason="test",
        send_attempts=1,
        claimed_by="dead",
        claimed_at=stale,
    )
    document = spool_path(job.document_name)
    name = Part("", document, []).job_name(job)
    with IppClient(office_mfp.uri, user_name=staff_user.username) as cups:
        created = cups.create_job(
            job_name=name,
            job_attributes=[
                Attribute.keyword(
                    "multiple-document-handling", "separate-documents-collated-copies"
                )
            ],
        )
        cups.send_document(
            created.job_id, document, last_document=False, document_format="application/pdf"
        )
        outcome = pipeline.send(job.pk, task_id="sweep")
        assert outcome.at_printer, outcome
        resent = Job.objects.get(pk=job.pk)
        assert resent.state == JobState.PROCESSING
        assert resent.printer_job_id is not None
        assert resent.printer_job_id != created.job_id
        incomplete = cups.get_job_attributes(created.job_id, ("job-state",))
        assert _value(incomplete, "job-state") == IppJobState.CANCELED
        complete = cups.get_job_attributes(resent.printer_job_id, ("number-of-documents",))
        assert _value(complete, "number-of-documents") == 2
        marked = [
            group
            for which in ("not-completed", "completed")
            for group in cups.get_jobs(which_jobs=which, requested=("job-name", "job-state"))
            if f"[pm-{job.marker.hex}]" in str(_value(group, "job-name"))
            and _value(group, "job-state") != IppJobState.CANCELED
        ]
    assert len(marked) == 1


class _DocumentsCutOff(http.server.BaseHTTPRequestHandler):
    """A front before a CUPS queue that passes every request on, except Send-Document: its
    connection is closed before any answer (a network cut while the document goes)."""

    target = ""
    #: The printer's job ids Create-Job made through it.
    created: list[int]

    def do_POST(self) -> None:
        request = http_request_body(self)
        operation = int.from_bytes(request[2:4], "big")
        if operation == Operation.SEND_DOCUMENT:
            self.close_connection = True
            return
        answer = httpx.post(
            self.target + self.path, content=request, headers={"Content-Type": "application/ipp"}
        )
        if operation == Operation.CREATE_JOB:
            job_id = decode(answer.content).get("job-id")
            if job_id is not None and isinstance(job_id.value, int):
                type(self).created.append(job_id.value)
        send_ipp_answer(self, answer.content)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_last_attempt_lost_its_documents_leaves_nothing_to_print_at_the_printer(
    office_mfp: Printer, two_documents: Callable[[], Job], staff_user: User, settings: Any
) -> None:
    # CUPS prints what a job created by Create-Job has once its documents stop coming
    # (multiple-operation-time-out-action): a job given up here must not print there later.
    settings.PRINT_MAX_ATTEMPTS = 1
    job = charged_and_released(two_documents(), office_mfp, documents_printed_separately=True)
    cups_uri = office_mfp.uri
    target = urlsplit(cups_uri)._replace(scheme="http", path="").geturl()
    created: list[int] = []
    handler = type("Handler", (_DocumentsCutOff,), {"target": target, "created": created})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    front = urlsplit(cups_uri)._replace(netloc=f"127.0.0.1:{server.server_address[1]}").geturl()
    Printer.objects.filter(pk=office_mfp.pk).update(uri=front)
    try:
        # The answer to its last document may just have been lost: looked for at the printer
        # (which does not have it: canceled) rather than given up unasked.
        with pytest.raises(RetryLater):
            pipeline.send(job.pk, task_id="last")
        assert str(pipeline.send(job.pk, task_id="search")) == "failed: gave up"
    finally:
        server.shutdown()
        server.server_close()
    assert Job.objects.get(pk=job.pk).state == JobState.FAILED
    assert len(created) == 1
    with IppClient(cups_uri, user_name=staff_user.username) as cups:
        # Canceled; or gone: CUPS may drop a canceled job without documents from its history.
        assert _state_at(cups, created[0]) in (IppJobState.CANCELED, None)


def _state_at(cups: IppClient, job_id: int) -> object:
    """A job's state at CUPS; None when CUPS does not know it (any more)."""
    try:
        return _value(cups.get_job_attributes(job_id, ("job-state",)), "job-state")
    except IppStatusError as error:
        if error.status_code == Status.CLIENT_ERROR_NOT_FOUND:
            return None
        raise


@pytest.mark.django_db(transaction=True)
def test_a_job_is_built_as_it_was_priced_whatever_its_printer_says_later(
    office_mfp: Printer, finisher: Printer, two_documents: Callable[[], Job], staff_user: User
) -> None:
    separately = two_documents()
    job_release(separately.pk, staff_user, office_mfp.pk, DUPLEX_STAPLED)
    as_one = two_documents()
    job_release(as_one.pk, staff_user, finisher.pk, {"sides": "two-sided-long-edge"})
    # A refresh after the releases finds each printer's support for several documents changed.
    office_mfp.capabilities["multiple-document-jobs-supported"] = [False]
    office_mfp.save(update_fields=["capabilities"])
    finisher.capabilities.update(
        {
            "multiple-document-jobs-supported": [True],
            "operations-supported": [2, 4, 5, 6, 8, 9, 10, 11],
            "multiple-document-handling-supported": ["separate-documents-collated-copies"],
        }
    )
    finisher.save(update_fields=["capabilities"])
    assert takes_several_documents(finisher.capabilities)
    built = {}
    for job in (separately, as_one):
        workdir = WorkDir("test-")
        try:
            (part,) = build_parts(
                Job.objects.select_related("printer", "owner").get(pk=job.pk), workdir
            )
            built[job.pk] = [name for name, _path in part.separate_documents]
        finally:
            workdir.remove()
    assert built == {separately.pk: ["part1.pdf", "part2.pdf"], as_one.pk: []}
    assert Job.objects.get(pk=separately.pk).documents_printed_separately
    assert not Job.objects.get(pk=as_one.pk).documents_printed_separately
