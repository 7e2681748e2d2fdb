"""Jobs of several documents at our IPP printer: Create-Job, a Send-Document for each, and the
job held whole (or not at all) once the last one came."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.accounts.models import User
from apps.ippserver.attributes import DOCUMENT_TIME_OUT_SECONDS
from apps.ippserver.job_documents import close_timed_out_jobs
from apps.ippserver.models import IppJob
from apps.ippserver.operations import answer
from apps.ippserver.protocol import Endpoint
from apps.ippserver.tasks import hold_timed_out_jobs
from apps.jobs import services
from apps.jobs.choices import JobState
from apps.jobs.documents import spool_leftovers_remove
from apps.jobs.models import Job
from apps.jobs.services import MAX_DOCUMENTS_PER_JOB
from printmgmt.ipp import (
    Attribute,
    AttributeGroup,
    GroupTag,
    Message,
    Operation,
    PyValue,
    RangeOfInteger,
    Status,
)
from printmgmt.ipp.client import IppClient
from tests.ippserver.conftest import IppTester, Printing, attribute_value, spool_entries
from tests.ippserver.documents import make_image
from tests.ippserver.test_operations import _slow_send_document
from tests.pdfs import make_pdf


@pytest.fixture
def pdf(tmp_path: Path) -> bytes:
    return make_pdf(tmp_path / "three.pdf", 3).read_bytes()


def _auth(printing: Printing) -> tuple[str, str]:
    return printing.username, printing.password


def _create_job(ipp: IppTester, auth: tuple[str, str], *operation: Attribute) -> int:
    created = ipp.send(
        ipp.request(Operation.CREATE_JOB, operation_attributes=[*operation]), auth=auth
    )
    job_id = attribute_value(created, "job-id")
    assert isinstance(job_id, int), created
    return job_id


def _send(
    ipp: IppTester,
    auth: tuple[str, str],
    job_id: int,
    document: bytes,
    *,
    last: bool,
    name: str | None = None,
    document_format: str = "application/octet-stream",
) -> Message:
    operation = [
        Attribute.boolean("last-document", last),
        Attribute.mime_media_type("document-format", document_format),
    ]
    if name is not None:
        operation.append(Attribute.name_("document-name", name))
    request = ipp.request(Operation.SEND_DOCUMENT, job_id=job_id, operation_attributes=operation)
    return ipp.send(request, document, auth=auth)


def _job(ipp: IppTester, auth: tuple[str, str], job_id: int) -> tuple[PyValue, PyValue, PyValue]:
    """(job-state, job-state-reasons, number-of-documents) as Get-Job-Attributes tells them."""
    answer = ipp.send(ipp.request(Operation.GET_JOB_ATTRIBUTES, job_id=job_id), auth=auth)
    return (
        attribute_value(answer, "job-state"),
        attribute_value(answer, "job-state-reasons"),
        attribute_value(answer, "number-of-documents"),
    )


def _value_of(group: AttributeGroup, name: str) -> PyValue:
    attribute = group.get(name)
    assert attribute is not None, f"{name} missing in {group}"
    return attribute.value


def _hidden_spool_files() -> set[str]:
    return {name for name in spool_entries() if name.startswith(".")}


def test_the_printer_advertises_jobs_of_several_documents(ipp: IppTester) -> None:
    answer = ipp.send(ipp.request(Operation.GET_PRINTER_ATTRIBUTES))
    printer = answer.group(GroupTag.PRINTER)
    assert printer is not None
    assert attribute_value(answer, "multiple-document-jobs-supported") is True
    assert attribute_value(answer, "multiple-document-handling-supported") == (
        "separate-documents-collated-copies"
    )
    assert attribute_value(answer, "multiple-operation-time-out") == DOCUMENT_TIME_OUT_SECONDS


def test_three_documents_of_different_formats_are_held_as_one_job_with_its_options(
    ipp: IppTester, printing: Printing, release_printer: object, tmp_path: Path
) -> None:
    client = IppClient(ipp.server.ipp_uri, auth=_auth(printing))
    created = client.create_job(
        job_name="course pack",
        job_attributes=[
            Attribute.integer("copies", 2),
            Attribute.keyword("sides", "two-sided-long-edge"),
            Attribute.range_of_integer("page-ranges", RangeOfInteger(1, 2)),
        ],
    )
    job_id = created.job_id
    notes = tmp_path / "notes.txt"
    notes.write_text("Reading list\n" * 10)
    documents = [
        (make_pdf(tmp_path / "chapter.pdf", 3), "application/pdf"),
        (notes, "text/plain"),
        (make_image(tmp_path / "map.jpg"), "image/jpeg"),
    ]
    for number, (path, document_format) in enumerate(documents[:2], start=1):
        sent = client.send_document(
            job_id, path, last_document=False, document_format=document_format
        )
        assert sent.status_code == Status.SUCCESSFUL_OK
        assert _job(ipp, _auth(printing), job_id) == (4, "job-incoming", number)
    assert not Job.objects.exists()
    listed = client.get_jobs(requested=("job-id", "job-state", "number-of-documents"))
    assert [(_value_of(g, "job-state"), _value_of(g, "number-of-documents")) for g in listed] == [
        (4, 2)
    ]

    path, document_format = documents[2]
    last = client.send_document(job_id, path, last_document=True, document_format=document_format)
    assert last.status_code == Status.SUCCESSFUL_OK
    assert last.job_state == 4
    job = Job.objects.get()
    assert job.ipp_job.pk == job_id
    assert (job.state, job.title, job.copies, job.page_count) == (
        JobState.HELD,
        "course pack",
        2,
        5,
    )
    assert job.options == {"sides": "two-sided-long-edge"}
    # The page selection applies to each document (RFC 8011 5.2.7).
    assert job.page_ranges == "1-2,4,5"
    assert job.documents == [
        {"name": "chapter.pdf", "pages": 3},
        {"name": "notes.txt", "pages": 1},
        {"name": "map.jpg", "pages": 1},
    ]
    assert _job(ipp, _auth(printing), job_id) == (4, "job-hold-until-specified", 3)
    assert _hidden_spool_files() == set()


def test_an_empty_last_send_document_closes_the_job_named_by_its_first_document(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _auth(printing)
    job_id = _create_job(ipp, auth)
    assert _send(ipp, auth, job_id, pdf, last=False, name="minutes.pdf").status_code == (
        Status.SUCCESSFUL_OK
    )
    assert _send(ipp, auth, job_id, pdf, last=False).status_code == Status.SUCCESSFUL_OK
    closed = _send(ipp, auth, job_id, b"", last=True)
    assert closed.status_code == Status.SUCCESSFUL_OK
    job = Job.objects.get()
    assert job.title == "minutes.pdf"
    assert job.documents == [
        {"name": "minutes.pdf", "pages": 3},
        {"name": "document 2", "pages": 3},
    ]
    assert _hidden_spool_files() == set()
    # An empty Send-Document that is not the last brings nothing.
    other = _create_job(ipp, auth)
    assert _send(ipp, auth, other, b"", last=False).status_code == Status.CLIENT_ERROR_BAD_REQUEST


@pytest.mark.parametrize("last", [False, True])
def test_job_attributes_sent_with_a_document_are_reported_and_not_used(
    ipp: IppTester, printing: Printing, pdf: bytes, last: bool
) -> None:
    # Send-Document takes no job attributes (RFC 8011 4.3.1): the job's came with Create-Job.
    auth = _auth(printing)
    created = ipp.send(
        ipp.request(Operation.CREATE_JOB, job_attributes=[Attribute.integer("copies", 2)]),
        auth=auth,
    )
    job_id = attribute_value(created, "job-id")
    assert isinstance(job_id, int)
    sent_along = [
        Attribute.integer("copies", 3),
        Attribute.keyword("sides", "bogus"),
        # Out of order: a bad request in a job creation, which aborted the job here.
        Attribute.range_of_integer("page-ranges", RangeOfInteger(3, 3), RangeOfInteger(1, 1)),
    ]
    request = ipp.request(
        Operation.SEND_DOCUMENT,
        job_id=job_id,
        operation_attributes=[Attribute.boolean("last-document", last)],
        job_attributes=sent_along,
    )
    answer = ipp.send(request, pdf, auth=auth)
    assert answer.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES, answer
    unsupported = answer.group(GroupTag.UNSUPPORTED)
    assert unsupported is not None
    assert list(unsupported) == sent_along
    if not last:
        # An empty last one with them closes the job, and says so too.
        request = ipp.request(
            Operation.SEND_DOCUMENT,
            job_id=job_id,
            operation_attributes=[Attribute.boolean("last-document", True)],
            job_attributes=sent_along[:1],
        )
        closed = ipp.send(request, auth=auth)
        assert closed.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
        unsupported = closed.group(GroupTag.UNSUPPORTED)
        assert unsupported is not None
        assert list(unsupported) == sent_along[:1]
    job = Job.objects.get()
    assert (job.copies, job.page_ranges, job.options, job.page_count) == (2, "", {}, 3)
    # Without a job group the answer is plain.
    other = _create_job(ipp, auth)
    assert _send(ipp, auth, other, pdf, last=True).status_code == Status.SUCCESSFUL_OK


def test_close_job_holds_the_documents_received(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _auth(printing)
    job_id = _create_job(ipp, auth, Attribute.name_("job-name", "two handouts"))
    for _ in range(2):
        assert _send(ipp, auth, job_id, pdf, last=False).status_code == Status.SUCCESSFUL_OK
    closed = ipp.send(ipp.request(Operation.CLOSE_JOB, job_id=job_id), auth=auth)
    assert closed.status_code == Status.SUCCESSFUL_OK
    job = Job.objects.get()
    assert (job.title, job.page_count, len(job.documents)) == ("two handouts", 6, 2)
    assert _job(ipp, auth, job_id) == (4, "job-hold-until-specified", 2)
    late = _send(ipp, auth, job_id, pdf, last=True)
    assert late.status_code == Status.CLIENT_ERROR_NOT_POSSIBLE
    assert Job.objects.count() == 1
    assert _hidden_spool_files() == set()


@pytest.mark.parametrize("documents", [1, 2])
def test_close_job_refuses_a_page_selection_naming_no_page_of_the_documents(
    ipp: IppTester, printing: Printing, pdf: bytes, documents: int
) -> None:
    auth = _auth(printing)
    request = ipp.request(
        Operation.CREATE_JOB,
        job_attributes=[Attribute.range_of_integer("page-ranges", RangeOfInteger(7, 8))],
    )
    job_id = attribute_value(ipp.send(request, auth=auth), "job-id")
    assert isinstance(job_id, int)
    for _ in range(documents):
        assert _send(ipp, auth, job_id, pdf, last=False).status_code == Status.SUCCESSFUL_OK
    closed = ipp.send(ipp.request(Operation.CLOSE_JOB, job_id=job_id), auth=auth)
    # The selection is refused as the job's attribute, one document or several alike.
    assert closed.status_code == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED, closed
    assert not Job.objects.exists()
    assert _hidden_spool_files() == set()


@pytest.mark.parametrize("last", [False, True])
def test_a_refused_document_aborts_the_job_and_nothing_is_kept(
    ipp: IppTester, printing: Printing, pdf: bytes, last: bool
) -> None:
    auth = _auth(printing)
    job_id = _create_job(ipp, auth)
    assert _send(ipp, auth, job_id, pdf, last=False).status_code == Status.SUCCESSFUL_OK
    broken = _send(
        ipp, auth, job_id, b"%PDF-1.7\nno objects here\n", last=last, name="scan.pdf",
        document_format="application/pdf",
    )  # fmt: skip
    assert broken.status_code == Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR
    assert str(attribute_value(broken, "status-message")).startswith("scan.pdf: ")
    assert _job(ipp, auth, job_id) == (8, "aborted-by-system", 0)
    assert not Job.objects.exists()
    assert _hidden_spool_files() == set()
    again = _send(ipp, auth, job_id, pdf, last=True)
    assert again.status_code == Status.CLIENT_ERROR_NOT_POSSIBLE
    assert "aborted: scan.pdf" in str(attribute_value(again, "status-message"))
    assert not Job.objects.exists()


def test_a_document_of_a_format_not_accepted_aborts_the_job(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _auth(printing)
    job_id = _create_job(ipp, auth)
    assert _send(ipp, auth, job_id, pdf, last=False).status_code == Status.SUCCESSFUL_OK
    refused = _send(ipp, auth, job_id, pdf, last=True, document_format="application/msword")
    assert refused.status_code == Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED
    assert _job(ipp, auth, job_id) == (8, "aborted-by-system", 0)
    assert _hidden_spool_files() == set()


def test_canceling_a_job_whose_documents_are_arriving_deletes_them(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _auth(printing)
    job_id = _create_job(ipp, auth)
    assert _send(ipp, auth, job_id, pdf, last=False).status_code == Status.SUCCESSFUL_OK
    assert len(_hidden_spool_files()) == 1
    canceled = ipp.send(ipp.request(Operation.CANCEL_JOB, job_id=job_id), auth=auth)
    assert canceled.status_code == Status.SUCCESSFUL_OK
    assert _job(ipp, auth, job_id) == (7, "job-canceled-by-user", 0)
    assert _hidden_spool_files() == set()
    assert _send(ipp, auth, job_id, pdf, last=True).status_code == Status.CLIENT_ERROR_NOT_POSSIBLE
    assert not Job.objects.exists()


class Paused:
    """A step of holding a job (a function of apps.jobs.services) that stops, once it has run,
    until the test lets it go on (`go_on`; after PAUSE_SECONDS it goes on by itself). It
    pauses in this process: the job is closed here (_close_here), while the other requests go
    to the server's process."""

    PAUSE_SECONDS = 5

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.reached = threading.Event()
        self.go_on = threading.Event()
        step = getattr(services, name)

        def paused(*args: Any, **kwargs: Any) -> Any:
            done = step(*args, **kwargs)
            self.reached.set()
            self.go_on.wait(self.PAUSE_SECONDS)
            return done

        monkeypatch.setattr(services, name, paused)


def _close_here(
    ipp: IppTester, printing: Printing, job_id: int
) -> tuple[threading.Thread, list[Message]]:
    """A Close-Job answered on a thread of this process; its answer once the thread ends."""
    request = ipp.request(Operation.CLOSE_JOB, job_id=job_id)
    user = User.objects.get(username=printing.username)
    answers: list[Message] = []

    def close() -> None:
        try:
            answers.append(answer(request, user, Endpoint("localhost", secure=False), None))
        finally:
            connection.close()

    thread = threading.Thread(target=close)
    thread.start()
    return thread, answers


@dataclass
class ClosedMeanwhile:
    """What _meanwhile_closing saw: the request sent meanwhile and how long its answer took,
    and the Close-Job's answer."""

    auth: tuple[str, str]
    job_id: int
    spool_before: set[str]
    answer: Message
    waited: float
    closed: Message


def _meanwhile_closing(
    ipp: IppTester,
    printing: Printing,
    pdf: bytes,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
    request: Callable[[tuple[str, str], int], Message],
) -> ClosedMeanwhile:
    """A job of two documents closed here; once `step` (of apps.jobs.services) has run for
    it, and while it is paused, `request(auth, job_id)` goes to the server."""
    auth = _auth(printing)
    before = spool_entries()
    job_id = _create_job(ipp, auth)
    for _ in range(2):
        assert _send(ipp, auth, job_id, pdf, last=False).status_code == Status.SUCCESSFUL_OK
    paused = Paused(monkeypatch, step)
    closing, closed = _close_here(ipp, printing, job_id)
    assert paused.reached.wait(30), f"{step} never ran for the job"
    started = time.monotonic()
    answer = request(auth, job_id)
    waited = time.monotonic() - started
    paused.go_on.set()
    closing.join(30)
    return ClosedMeanwhile(auth, job_id, before, answer, waited, closed[0])


def test_a_document_arriving_while_the_documents_are_merged_is_taken_and_held_with_them(
    ipp: IppTester, printing: Printing, pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The merge runs before the job's row is locked: a Send-Document for the same job (which
    # locks that row) is answered while it runs, and the job is merged again with it.
    seen = _meanwhile_closing(
        ipp,
        printing,
        pdf,
        monkeypatch,
        "merge_pdfs",
        lambda auth, job_id: _send(ipp, auth, job_id, pdf, last=False, name="late.pdf"),
    )
    assert seen.answer.status_code == Status.SUCCESSFUL_OK, seen.answer
    assert seen.waited < Paused.PAUSE_SECONDS
    assert seen.closed.status_code == Status.SUCCESSFUL_OK, seen.closed
    job = Job.objects.get()
    assert [document["name"] for document in job.documents] == [
        "document 1",
        "document 2",
        "late.pdf",
    ]
    assert job.page_count == 9
    # The PDF merged first, without the third document, is gone.
    assert spool_entries() == seen.spool_before | {job.document_name}


def test_a_close_job_sent_again_while_the_first_one_merges_is_answered_ok_by_both(
    ipp: IppTester, printing: Printing, pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client that sends Close-Job again (its first one is slow) gets the job held once, and
    # neither close is told the job "has all its documents".
    seen = _meanwhile_closing(
        ipp,
        printing,
        pdf,
        monkeypatch,
        "merge_pdfs",
        lambda auth, job_id: ipp.send(ipp.request(Operation.CLOSE_JOB, job_id=job_id), auth=auth),
    )
    assert seen.answer.status_code == Status.SUCCESSFUL_OK, seen.answer
    assert seen.closed.status_code == Status.SUCCESSFUL_OK, seen.closed
    job = Job.objects.get()
    assert job.page_count == 6
    # The PDF the first close merged, which did not become the job, is gone.
    assert spool_entries() == seen.spool_before | {job.document_name}


def test_a_job_canceled_after_its_documents_were_stored_is_not_held(
    ipp: IppTester, printing: Printing, pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _meanwhile_closing(
        ipp,
        printing,
        pdf,
        monkeypatch,
        "store_pdf",
        lambda auth, job_id: ipp.send(ipp.request(Operation.CANCEL_JOB, job_id=job_id), auth=auth),
    )
    assert seen.answer.status_code == Status.SUCCESSFUL_OK
    assert seen.closed.status_code == Status.CLIENT_ERROR_NOT_POSSIBLE, seen.closed
    assert "canceled" in str(attribute_value(seen.closed, "status-message"))
    assert _job(ipp, seen.auth, seen.job_id) == (7, "job-canceled-by-user", 0)
    assert not Job.objects.exists()
    # Neither the documents received nor the PDF stored for the job are left.
    assert spool_entries() == seen.spool_before


def test_a_job_whose_next_document_is_late_is_held_with_the_documents_it_received(
    ipp: IppTester, printing: Printing, pdf: bytes, celery_worker: object
) -> None:
    auth = _auth(printing)
    job_id = _create_job(ipp, auth, Attribute.name_("job-name", "interrupted"))
    assert _send(ipp, auth, job_id, pdf, last=False).status_code == Status.SUCCESSFUL_OK
    long_ago = timezone.now() - timedelta(seconds=DOCUMENT_TIME_OUT_SECONDS + 1)
    # The time-out counts from the latest document, not from Create-Job.
    IppJob.objects.filter(pk=job_id).update(created_at=long_ago)
    assert _job(ipp, auth, job_id) == (4, "job-incoming", 1)
    assert close_timed_out_jobs() == 0

    IppJob.objects.filter(pk=job_id).update(document_received_at=long_ago)
    late = _send(ipp, auth, job_id, pdf, last=True)
    assert late.status_code == Status.CLIENT_ERROR_NOT_POSSIBLE
    assert "takes no more documents" in str(attribute_value(late, "status-message"))
    # Until beat's next run holds it, the job is still to come, with what it has.
    assert _job(ipp, auth, job_id) == (4, "job-incoming", 1)
    listed = ipp.send(ipp.request(Operation.GET_JOBS), auth=auth)
    assert [_value_of(g, "job-id") for g in listed.groups_of(GroupTag.JOB)] == [job_id]

    hold_timed_out_jobs.delay()
    deadline = time.monotonic() + 30
    while not Job.objects.exists():
        assert time.monotonic() < deadline, "the worker did not hold the job"
        time.sleep(0.1)
    job = Job.objects.get()
    assert (job.title, job.page_count, job.ipp_job.pk) == ("interrupted", 3, job_id)
    assert _job(ipp, auth, job_id) == (4, "job-hold-until-specified", 1)
    assert _hidden_spool_files() == set()


def test_a_job_without_documents_still_ends_at_the_time_out(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _auth(printing)
    job_id = _create_job(ipp, auth)
    long_ago = timezone.now() - timedelta(seconds=DOCUMENT_TIME_OUT_SECONDS + 1)
    IppJob.objects.filter(pk=job_id).update(created_at=long_ago)
    assert close_timed_out_jobs() == 0
    assert _job(ipp, auth, job_id) == (8, "aborted-by-system", 0)
    assert not Job.objects.exists()


def test_a_job_takes_at_most_the_documents_a_held_job_takes(
    ipp: IppTester, printing: Printing, pdf: bytes, tmp_path: Path
) -> None:
    auth = _auth(printing)
    job_id = _create_job(ipp, auth)
    assert _send(ipp, auth, job_id, pdf, last=False).status_code == Status.SUCCESSFUL_OK
    ipp_job = IppJob.objects.get(pk=job_id)
    first = ipp_job.documents[0]
    spool = Path(settings.SPOOL_DIR)
    # The job has its most documents (copies of the first, as if each had been sent).
    received = [first]
    for number in range(2, MAX_DOCUMENTS_PER_JOB + 1):
        name = f".ipp-job-{job_id}-copy{number}.pdf"
        shutil.copyfile(spool / first["file"], spool / name)
        received.append({"name": f"document {number}", "file": name, "pages": 3})
    IppJob.objects.filter(pk=job_id).update(documents=received)

    one_more = _send(ipp, auth, job_id, pdf, last=True)
    assert one_more.status_code == Status.CLIENT_ERROR_NOT_POSSIBLE
    assert f"at most {MAX_DOCUMENTS_PER_JOB} documents" in str(
        attribute_value(one_more, "status-message")
    )
    assert _job(ipp, auth, job_id) == (8, "aborted-by-system", 0)
    assert _hidden_spool_files() == set()
    assert not Job.objects.exists()


#: What cupsd 2.4 sends, the client whose documents are searched for PDFs back to back.
CUPS_AGENT = "CUPS/2.4.2 (Linux 6.1.0; x86_64) IPP/2.0"


@pytest.fixture
def from_cups(ipp: IppTester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ipp.headers, "user-agent", CUPS_AGENT)


def _back_to_back(tmp_path: Path, *pages: int) -> bytes:
    return b"".join(
        make_pdf(tmp_path / f"part{n}.pdf", count).read_bytes() for n, count in enumerate(pages)
    )


def test_pdfs_sent_back_to_back_in_one_document_are_held_as_documents_of_their_own(
    ipp: IppTester, printing: Printing, pdf: bytes, tmp_path: Path, from_cups: None
) -> None:
    auth = _auth(printing)
    printed = ipp.print_job(auth, _back_to_back(tmp_path, 2, 1), name="two files")
    assert printed.status_code == Status.SUCCESSFUL_OK
    job = Job.objects.get()
    assert (job.title, job.page_count) == ("two files", 3)
    assert job.documents == [
        {"name": "document 1", "pages": 2},
        {"name": "document 2", "pages": 1},
    ]
    job.delete()

    job_id = _create_job(ipp, auth)
    first = _send(ipp, auth, job_id, _back_to_back(tmp_path, 1, 2), last=False)
    assert first.status_code == Status.SUCCESSFUL_OK
    assert _job(ipp, auth, job_id) == (4, "job-incoming", 2)
    last = _send(ipp, auth, job_id, _back_to_back(tmp_path, 2, 2), last=True)
    assert last.status_code == Status.SUCCESSFUL_OK
    job = Job.objects.get()
    assert [document["pages"] for document in job.documents] == [1, 2, 2, 2]
    assert [document["name"] for document in job.documents] == [
        f"document {number}" for number in range(1, 5)
    ]
    assert _hidden_spool_files() == set()


def test_a_broken_pdf_among_pdfs_sent_back_to_back_aborts_the_job(
    ipp: IppTester, printing: Printing, pdf: bytes, tmp_path: Path, from_cups: None
) -> None:
    auth = _auth(printing)
    job_id = _create_job(ipp, auth)
    assert _send(ipp, auth, job_id, pdf, last=False).status_code == Status.SUCCESSFUL_OK
    broken = _back_to_back(tmp_path, 1) + b"%PDF-1.7\nno objects here\n%%EOF\n"
    refused = _send(ipp, auth, job_id, broken, last=False)
    assert refused.status_code == Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR
    assert str(attribute_value(refused, "status-message")).startswith("document 3: ")
    assert _job(ipp, auth, job_id) == (8, "aborted-by-system", 0)
    assert _hidden_spool_files() == set()
    assert not Job.objects.exists()


def test_only_documents_from_cups_are_searched_for_pdfs_back_to_back(
    ipp: IppTester, printing: Printing, tmp_path: Path
) -> None:
    # Another client's PDF is taken as a PDF reader reads it: the search reads every byte of
    # every document, and no other client sends several files as one.
    printed = ipp.print_job(_auth(printing), _back_to_back(tmp_path, 2, 1), name="one file")
    assert printed.status_code == Status.SUCCESSFUL_OK
    job = Job.objects.get()
    assert (job.page_count, job.documents) == (1, [])


def test_a_document_that_fails_to_arrive_leaves_the_job_waiting_with_those_received(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _auth(printing)
    job_id = _create_job(ipp, auth)
    assert _send(ipp, auth, job_id, pdf, last=False).status_code == Status.SUCCESSFUL_OK
    received = _hidden_spool_files()
    thread, outcome = _slow_send_document(ipp, auth, job_id, pdf, threading.Event())
    thread.join(30)
    assert isinstance(outcome[0], Exception)
    deadline = time.monotonic() + 10
    while IppJob.objects.get(pk=job_id).document_arriving_since is not None:
        assert time.monotonic() < deadline, "the arrival mark was not cleared"
        time.sleep(0.02)
    assert _job(ipp, auth, job_id) == (4, "job-incoming", 1)
    assert _hidden_spool_files() == received
    assert _send(ipp, auth, job_id, pdf, last=True).status_code == Status.SUCCESSFUL_OK
    assert [document["pages"] for document in Job.objects.get().documents] == [3, 3]


def test_the_spool_cleanup_keeps_the_documents_of_a_job_still_receiving_them(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _auth(printing)
    job_id = _create_job(ipp, auth)
    assert _send(ipp, auth, job_id, pdf, last=False).status_code == Status.SUCCESSFUL_OK
    (first,) = _hidden_spool_files()
    hours_ago = time.time() - 3 * 3600  # a job whose documents took long to come
    os.utime(Path(settings.SPOOL_DIR) / first, (hours_ago, hours_ago))
    assert _send(ipp, auth, job_id, pdf, last=False).status_code == Status.SUCCESSFUL_OK
    assert spool_leftovers_remove() == 0
    assert _send(ipp, auth, job_id, b"", last=True).status_code == Status.SUCCESSFUL_OK
    assert len(Job.objects.get().documents) == 2
