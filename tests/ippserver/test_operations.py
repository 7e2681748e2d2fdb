"""The IPP operations against the real product under uvicorn, as devices use them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.utils import timezone

from apps.ippserver.attributes import DOCUMENT_TIME_OUT_SECONDS
from apps.ippserver.ipp_jobs import MAX_JOB_IDS
from apps.ippserver.models import IppJob
from apps.jobs.choices import JobSource, JobState
from apps.jobs.documents import spool_path
from apps.jobs.models import Job
from apps.printers.models import Printer
from apps.rules.models import RuleFileVersion
from printmgmt.ipp import (
    Attribute,
    AttributeGroup,
    Collection,
    GroupTag,
    Message,
    Operation,
    PyValue,
    RangeOfInteger,
    Resolution,
    Status,
    Value,
    ValueTag,
    decode,
    encode,
)
from tests.ippserver.conftest import IppTester, Printing, attribute_value, job_id_of, spool_entries
from tests.ippserver.documents import make_image, make_postscript
from tests.jobs.conftest import FINISHER_RULES
from tests.pdfs import make_pdf


@pytest.fixture
def pdf(tmp_path: Path) -> bytes:
    return make_pdf(tmp_path / "doc.pdf", 3).read_bytes()


def _values(answer: Message | AttributeGroup, name: str) -> tuple[PyValue, ...]:
    attribute = answer.get(name)
    assert attribute is not None, f"{name} missing in {answer}"
    return attribute.python_values


def _job_ids(answer: Message) -> list[int]:
    return [int(str(attribute_value(group, "job-id"))) for group in answer.groups_of(GroupTag.JOB)]


def _send_document(
    ipp: IppTester, auth: tuple[str, str], job_id: int, document: bytes, *, last: bool = True
) -> Message:
    request = ipp.request(
        Operation.SEND_DOCUMENT,
        job_id=job_id,
        operation_attributes=[Attribute.boolean("last-document", last)],
    )
    return ipp.send(request, document, auth=auth)


def _credentials(printing: Printing) -> tuple[str, str]:
    return printing.username, printing.password


def test_get_printer_attributes_needs_no_login_and_answers_in_the_request_version(
    ipp: IppTester,
) -> None:
    for version in ((1, 1), (2, 0)):
        answer = ipp.send(ipp.request(Operation.GET_PRINTER_ATTRIBUTES, version=version))
        assert answer.version == version
        assert answer.status_code == Status.SUCCESSFUL_OK
        printer = answer.group(GroupTag.PRINTER)
        assert printer is not None
        assert attribute_value(printer, "printer-uri-supported") == ipp.server.ipp_uri
        assert "application/pdf" in _values(printer, "document-format-supported")
        assert str(attribute_value(printer, "printer-uuid")).startswith("urn:uuid:")


@pytest.mark.parametrize(
    ("headers", "printer_uri", "more_info"),
    [
        (
            {"host": "print.example.edu"},
            "ipp://print.example.edu:80/ipp/print",
            "http://print.example.edu/",
        ),
        (
            {"host": "print.example.edu", "x-forwarded-proto": "https"},
            "ipps://print.example.edu:443/ipp/print",
            "https://print.example.edu/",
        ),
        (
            {"host": "print.example.edu:631", "x-forwarded-proto": "https"},
            "ipps://print.example.edu:631/ipp/print",
            "https://print.example.edu:631/",
        ),
        ({"host": "[::1]"}, "ipp://[::1]:80/ipp/print", "http://[::1]/"),
    ],
)
def test_the_printer_and_job_uris_name_the_port_the_client_used(
    ipp: IppTester,
    printing: Printing,
    pdf: bytes,
    headers: dict[str, str],
    printer_uri: str,
    more_info: str,
) -> None:
    """A Host header without a port means port 80 (443 over TLS); an ipp(s) URI without one
    means 631, where nothing of ours may listen."""
    request = ipp.request(Operation.GET_PRINTER_ATTRIBUTES)
    answer = decode(ipp.post(encode(request), headers=headers).content)
    assert attribute_value(answer, "printer-uri-supported") == printer_uri
    assert attribute_value(answer, "printer-more-info") == more_info
    created = ipp.request(Operation.PRINT_JOB)
    response = ipp.post(encode(created) + pdf, auth=_credentials(printing), headers=headers)
    job = decode(response.content)
    assert attribute_value(job, "job-uri") == f"{printer_uri}/{job_id_of(job)}"


def test_printer_uuid_is_stable(ipp: IppTester) -> None:
    first, second = (
        ipp.send(ipp.request(Operation.GET_PRINTER_ATTRIBUTES)).get("printer-uuid")
        for _ in range(2)
    )
    assert first == second


def test_the_job_operations_of_pwg_5100_11_are_advertised(ipp: IppTester) -> None:
    printer = ipp.send(ipp.request(Operation.GET_PRINTER_ATTRIBUTES)).group(GroupTag.PRINTER)
    assert printer is not None
    operations = _values(printer, "operations-supported")
    assert {Operation.CANCEL_MY_JOBS, Operation.CLOSE_JOB} <= set(operations)
    assert Operation.IDENTIFY_PRINTER not in operations
    assert attribute_value(printer, "job-ids-supported") is True
    assert attribute_value(printer, "multiple-operation-time-out") == DOCUMENT_TIME_OUT_SECONDS
    assert attribute_value(printer, "multiple-operation-time-out-action") == "process-job"


def test_requested_attributes_select_what_comes_back(ipp: IppTester) -> None:
    request = ipp.request(
        Operation.GET_PRINTER_ATTRIBUTES,
        operation_attributes=[Attribute.keyword("requested-attributes", "media-supported")],
    )
    printer = ipp.send(request).group(GroupTag.PRINTER)
    assert printer is not None
    assert [a.name for a in printer] == ["media-supported"]


def test_every_job_template_attribute_taken_is_advertised_as_one(
    transactional_db: None, ipp: IppTester
) -> None:
    """Clients offer and send what job-creation-attributes-supported names, and ask for the
    job-template group to learn its values."""
    request = ipp.request(
        Operation.GET_PRINTER_ATTRIBUTES,
        operation_attributes=[
            Attribute.keyword(
                "requested-attributes", "job-template", "job-creation-attributes-supported"
            )
        ],
    )
    printer = ipp.send(request).group(GroupTag.PRINTER)
    assert printer is not None
    taken = {"print-scaling", "print-content-optimize", "print-rendering-intent"}
    also_hints = {"job-priority", "job-sheets", "multiple-document-handling"}
    assert taken | also_hints <= set(_values(printer, "job-creation-attributes-supported"))
    for name in taken:
        assert printer.get(f"{name}-supported") is not None, name
        assert printer.get(f"{name}-default") is not None, name


def test_capabilities_are_the_union_of_the_enabled_printers(
    ipp: IppTester, release_printer: object
) -> None:
    printer = ipp.send(ipp.request(Operation.GET_PRINTER_ATTRIBUTES)).group(GroupTag.PRINTER)
    assert printer is not None
    assert "two-sided-long-edge" in _values(printer, "sides-supported")
    assert 20 in _values(printer, "finishings-supported")


def test_job_submission_without_credentials_gets_401_with_a_challenge(
    ipp: IppTester, pdf: bytes, transactional_db: None
) -> None:
    request = ipp.request(
        Operation.PRINT_JOB,
        operation_attributes=[Attribute.name_("requesting-user-name", "dana")],
    )
    response = ipp.post(encode(request) + pdf)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic realm=")
    assert not Job.objects.exists()


def test_wrong_password_gets_401(ipp: IppTester, printing: Printing, pdf: bytes) -> None:
    request = ipp.request(Operation.GET_JOBS)
    response = ipp.post(encode(request), auth=(printing.username, "not the password"))
    assert response.status_code == 401


def test_print_job_holds_the_pdf_in_the_users_inbox(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    before = spool_entries()
    answer = ipp.print_job(_credentials(printing), pdf, name="Quarterly report")
    assert answer.status_code == Status.SUCCESSFUL_OK
    assert attribute_value(answer, "job-state") == 4  # pending-held
    ipp_job = IppJob.objects.select_related("job").get(pk=job_id_of(answer))
    job = ipp_job.job
    assert job is not None
    assert (job.owner, job.state, job.source) == (printing.user, JobState.HELD, JobSource.IPP)
    assert (job.title, job.page_count) == ("Quarterly report", 3)
    assert spool_path(job.document_name).read_bytes() == pdf
    assert spool_entries() - before == {job.document_name}


def test_the_printing_token_works_as_the_password(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    answer = ipp.print_job((printing.username, printing.token), pdf)
    assert answer.status_code == Status.SUCCESSFUL_OK
    assert Job.objects.get().owner == printing.user


def test_requesting_user_name_is_not_trusted(
    ipp: IppTester, printing: Printing, other_printing: Printing, pdf: bytes
) -> None:
    request = ipp.request(
        Operation.PRINT_JOB,
        operation_attributes=[Attribute.name_("requesting-user-name", other_printing.username)],
    )
    answer = ipp.send(request, pdf, auth=_credentials(printing))
    assert answer.status_code == Status.SUCCESSFUL_OK
    assert Job.objects.get().owner == printing.user


def test_job_template_attributes_become_the_jobs_preset_options(
    ipp: IppTester, printing: Printing, release_printer: object, pdf: bytes
) -> None:
    answer = ipp.print_job(
        _credentials(printing),
        pdf,
        job_attributes=[
            Attribute.integer("copies", 2),
            Attribute.keyword("sides", "two-sided-long-edge"),
            Attribute.enum("finishings", 20, 74),
            Attribute.range_of_integer("page-ranges", RangeOfInteger(1, 2)),
            Attribute.keyword("org.savapage-finishings-jog-offset", "14"),
        ],
    )
    assert answer.status_code == Status.SUCCESSFUL_OK, answer
    job = Job.objects.get()
    assert job.options == {
        "sides": "two-sided-long-edge",
        "org.savapage-finishings-staple": "20",
        "org.savapage-finishings-punch": "74",
        "org.savapage-finishings-jog-offset": "14",
    }
    assert (job.copies, job.page_ranges) == (2, "1-2")


def test_unsupported_attributes_with_fidelity_false_are_reported_and_the_job_held(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    answer = ipp.print_job(
        _credentials(printing),
        pdf,
        fidelity=False,
        job_attributes=[
            Attribute.keyword("sides", "two-sided-long-edge"),  # no printer does duplex
            Attribute.keyword("media", "iso_a4_210x297mm"),
        ],
    )
    assert answer.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
    unsupported = answer.group(GroupTag.UNSUPPORTED)
    assert unsupported is not None
    assert [a.name for a in unsupported] == ["sides"]
    assert Job.objects.get().options == {"media": "iso_a4_210x297mm"}


def test_hints_are_accepted_only_with_the_values_the_printer_advertises(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    answer = ipp.print_job(
        _credentials(printing),
        pdf,
        job_attributes=[
            Attribute.enum("print-quality", 4),
            Attribute.enum("orientation-requested", 7),  # "none": not advertised
            Attribute.keyword("job-hold-until", "bogus"),
            Attribute.integer("job-priority", 101),
            Attribute.keyword("output-bin", "no-such-bin"),
            Attribute.resolution("printer-resolution", Resolution(1200, 1200, 3)),
            Attribute.keyword("print-scaling", "fit"),
        ],
    )
    assert answer.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
    unsupported = answer.group(GroupTag.UNSUPPORTED)
    assert unsupported is not None
    assert {a.name for a in unsupported} == {
        "orientation-requested",
        "job-hold-until",
        "job-priority",
        "output-bin",
        "printer-resolution",
    }
    # print-scaling is an option a release offers: kept, as output-bin is with a printer's bin.
    assert Job.objects.get().options == {"print-scaling": "fit"}


def test_an_option_value_with_control_characters_is_reported_unsupported(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    # On PostgreSQL a NUL in it made Print-Job fail with server-error-internal-error.
    for value in ("1\x004", "14\n"):
        offset = Attribute.keyword("org.savapage-finishings-jog-offset", value)
        answer = ipp.print_job(_credentials(printing), pdf, job_attributes=[offset])
        assert answer.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
        unsupported = answer.group(GroupTag.UNSUPPORTED)
        assert unsupported is not None
        assert attribute_value(unsupported, "org.savapage-finishings-jog-offset") == value
    assert [job.options for job in Job.objects.all()] == [{}, {}]


def test_an_extension_option_with_several_values_is_unsupported(
    ipp: IppTester, printing_with_desk: Printing, pdf: bytes
) -> None:
    staples = Attribute.keyword("org.savapage-finishings-staple", "20", "28")
    auth = _credentials(printing_with_desk)
    refused = ipp.print_job(auth, pdf, fidelity=True, job_attributes=[staples])
    assert refused.status_code == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    unsupported = refused.group(GroupTag.UNSUPPORTED)
    assert unsupported is not None
    assert _values(unsupported, "org.savapage-finishings-staple") == ("20", "28")
    assert not Job.objects.exists()
    # Without fidelity the job is held without it, and says so: the release does not staple a
    # job its client was told would be stapled.
    held = ipp.print_job(auth, pdf, job_attributes=[staples])
    assert held.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
    unsupported = held.group(GroupTag.UNSUPPORTED)
    assert unsupported is not None
    assert [a.name for a in unsupported] == ["org.savapage-finishings-staple"]
    assert Job.objects.get().options == {}


def test_an_extension_option_or_value_no_printer_offers_is_unsupported(
    ipp: IppTester, printing: Printing, release_printer: Printer, pdf: bytes
) -> None:
    auth = _credentials(printing)
    not_offered = [
        Attribute.keyword("org.savapage-finishings-staple", "xyz"),
        Attribute.integer("org.savapage-finishings-punch", 999),
        Attribute.integer("org.savapage-nonsense", 1),
    ]
    refused = ipp.print_job(auth, pdf, fidelity=True, job_attributes=not_offered)
    assert refused.status_code == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    assert "org.savapage-nonsense" in str(attribute_value(refused, "status-message"))
    unsupported = refused.group(GroupTag.UNSUPPORTED)
    assert unsupported is not None
    assert list(unsupported) == not_offered
    assert not Job.objects.exists()
    offered = Attribute.keyword("org.savapage-finishings-staple", "20")
    held = ipp.print_job(auth, pdf, job_attributes=[*not_offered[1:], offered])
    assert held.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
    unsupported = held.group(GroupTag.UNSUPPORTED)
    assert unsupported is not None
    assert list(unsupported) == not_offered[1:]
    assert Job.objects.get().options == {"org.savapage-finishings-staple": "20"}
    # Only enabled printers count: with the finisher disabled, no printer staples.
    Printer.objects.filter(pk=release_printer.pk).update(enabled=False)
    answer = ipp.print_job(auth, pdf, fidelity=True, job_attributes=[offered])
    assert answer.status_code == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED


def test_a_printer_whose_rule_file_cannot_serve_offers_no_extension_option(
    ipp: IppTester, printing: Printing, release_printer: Printer, pdf: bytes
) -> None:
    # Its active version has a price in error (it was activated before a rule that refuses it):
    # every release to it is refused, and a job asking for its staple is told so at once,
    # not answered with a server error.
    RuleFileVersion.objects.filter(rule_file__printers=release_printer).update(
        text=FINISHER_RULES.replace("0.05 staple", "10000000000000000000000000000 staple")
    )
    staple = Attribute.keyword("org.savapage-finishings-staple", "20")
    answer = ipp.print_job(_credentials(printing), pdf, job_attributes=[staple])
    assert answer.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES, answer
    unsupported = answer.group(GroupTag.UNSUPPORTED)
    assert unsupported is not None
    assert list(unsupported) == [staple]
    assert Job.objects.get().options == {}


def test_unsupported_attributes_with_fidelity_true_are_refused(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    before = spool_entries()
    answer = ipp.print_job(
        _credentials(printing),
        pdf,
        fidelity=True,
        job_attributes=[Attribute.enum("finishings", 20)],  # no printer staples
    )
    assert answer.status_code == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    assert answer.group(GroupTag.UNSUPPORTED) is not None
    assert not Job.objects.exists()
    assert spool_entries() == before


def test_media_col_from_cups_becomes_the_media_name(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    size = Collection(
        (Attribute.integer("x-dimension", 21000), Attribute.integer("y-dimension", 29700))
    )
    col = Collection((Attribute.collection("media-size", size),))
    answer = ipp.print_job(
        _credentials(printing), pdf, job_attributes=[Attribute.collection("media-col", col)]
    )
    assert answer.status_code == Status.SUCCESSFUL_OK
    assert Job.objects.get().options == {"media": "iso_a4_210x297mm"}


@pytest.mark.parametrize(
    ("document_format", "make"),
    [
        ("application/postscript", lambda p: make_postscript(p / "d.ps", 2)),
        ("image/jpeg", lambda p: make_image(p / "d.jpg")),
        ("image/png", lambda p: make_image(p / "d.png")),
        ("application/octet-stream", lambda p: make_image(p / "d.png")),
        ("text/plain", lambda p: _write(p / "d.txt", "hello\nworld\n" * 10)),
    ],
)
def test_every_accepted_format_is_held_as_pdf(
    ipp: IppTester,
    printing: Printing,
    tmp_path: Path,
    document_format: str,
    make: Callable[[Path], Path],
) -> None:
    document = make(tmp_path)
    answer = ipp.print_job(
        _credentials(printing), document.read_bytes(), document_format=document_format
    )
    assert answer.status_code == Status.SUCCESSFUL_OK, answer
    job = Job.objects.get()
    assert spool_path(job.document_name).read_bytes().startswith(b"%PDF-")
    assert job.page_count == (2 if document_format == "application/postscript" else 1)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_create_job_then_send_document(ipp: IppTester, printing: Printing, pdf: bytes) -> None:
    auth = _credentials(printing)
    created = ipp.send(
        ipp.request(
            Operation.CREATE_JOB,
            operation_attributes=[Attribute.name_("job-name", "two steps")],
            job_attributes=[Attribute.integer("copies", 3)],
        ),
        auth=auth,
    )
    job_id = job_id_of(created)
    assert attribute_value(created, "job-state-reasons") == "job-incoming"
    assert not Job.objects.exists()
    sent = _send_document(ipp, auth, job_id, pdf)
    assert sent.status_code == Status.SUCCESSFUL_OK
    job = Job.objects.get()
    assert (job.title, job.copies, job.ipp_job.pk) == ("two steps", 3, job_id)
    # The last document came: the job takes no more.
    second = _send_document(ipp, auth, job_id, pdf)
    assert second.status_code == Status.CLIENT_ERROR_NOT_POSSIBLE
    assert "has all its documents" in str(attribute_value(second, "status-message"))
    assert _send_document(ipp, auth, job_id, b"").status_code == Status.SUCCESSFUL_OK
    assert Job.objects.count() == 1


def test_users_see_and_cancel_only_their_own_jobs(
    ipp: IppTester, printing: Printing, other_printing: Printing, pdf: bytes
) -> None:
    mine = job_id_of(ipp.print_job(_credentials(printing), pdf))
    theirs = job_id_of(ipp.print_job(_credentials(other_printing), pdf))
    listed = ipp.send(ipp.request(Operation.GET_JOBS), auth=_credentials(printing))
    assert _job_ids(listed) == [mine]
    for operation in (Operation.GET_JOB_ATTRIBUTES, Operation.CANCEL_JOB):
        answer = ipp.send(ipp.request(operation, job_id=theirs), auth=_credentials(printing))
        assert answer.status_code == Status.CLIENT_ERROR_NOT_FOUND
    assert Job.objects.get(ipp_job__pk=theirs).state == JobState.HELD
    canceled = ipp.send(ipp.request(Operation.CANCEL_JOB, job_id=mine), auth=_credentials(printing))
    assert canceled.status_code == Status.SUCCESSFUL_OK
    assert Job.objects.get(ipp_job__pk=mine).state == JobState.CANCELED
    again = ipp.send(ipp.request(Operation.CANCEL_JOB, job_id=mine), auth=_credentials(printing))
    assert again.status_code == Status.CLIENT_ERROR_NOT_POSSIBLE


def test_printer_admins_see_every_job(
    ipp: IppTester, printing: Printing, operator_printing: Printing, pdf: bytes
) -> None:
    ipp.print_job(_credentials(printing), pdf)
    request = ipp.request(
        Operation.GET_JOBS,
        operation_attributes=[Attribute.keyword("requested-attributes", "all")],
    )
    listed = ipp.send(request, auth=_credentials(operator_printing))
    owners = [
        attribute_value(group, "job-originating-user-name")
        for group in listed.groups_of(GroupTag.JOB)
    ]
    assert owners == [printing.username]


def test_a_printer_admin_cannot_put_a_document_into_another_users_job_nor_release_it(
    ipp: IppTester, printing: Printing, operator_printing: Printing, pdf: bytes
) -> None:
    created = _create_job(ipp, _credentials(printing))
    operator = _credentials(operator_printing)
    for operation, document in ((Operation.SEND_DOCUMENT, pdf), (Operation.CLOSE_JOB, b"")):
        request = ipp.request(
            operation,
            job_id=created,
            operation_attributes=[Attribute.boolean("last-document", True)],
        )
        refused = ipp.send(request, document, auth=operator)
        # Not "there is no job": a printer admin sees it (Get-Jobs), so the answer says why.
        assert refused.status_code == Status.CLIENT_ERROR_NOT_AUTHORIZED
        assert attribute_value(refused, "status-message") == (
            f"job {created} is {printing.username}'s: only its owner can give it its document, "
            "close it or release it"
        )
    assert not Job.objects.exists()
    # Seeing it, and canceling it, stay a printer admin's right.
    seen = ipp.send(ipp.request(Operation.GET_JOB_ATTRIBUTES, job_id=created), auth=operator)
    assert seen.status_code == Status.SUCCESSFUL_OK
    # Releasing one would charge its owner: theirs to do.
    held = job_id_of(ipp.print_job(_credentials(printing), pdf))
    release = ipp.send(ipp.request(Operation.RELEASE_JOB, job_id=held), auth=operator)
    assert release.status_code == Status.CLIENT_ERROR_NOT_AUTHORIZED
    assert Job.objects.get().state == JobState.HELD


def test_page_ranges_longer_than_a_job_keeps_are_reported_unsupported(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    many = Attribute.range_of_integer(
        "page-ranges", *(RangeOfInteger(page, page) for page in range(1, 201, 2))
    )
    answer = ipp.print_job(_credentials(printing), pdf, job_attributes=[many])
    assert answer.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
    unsupported = answer.group(GroupTag.UNSUPPORTED)
    assert unsupported is not None
    assert unsupported.get("page-ranges") is not None
    assert Job.objects.get().page_ranges == ""


def test_page_ranges_past_the_documents_end_are_cut_there_and_the_job_releases(
    ipp: IppTester, printing_with_desk: Printing, pdf: bytes
) -> None:
    # "Pages 2-5" of the 3-page document: pages 2 and 3 (RFC 8011 prints nothing for pages
    # that do not exist). The job was held with 2-5, which no printer would then take.
    auth = _credentials(printing_with_desk)
    beyond = Attribute.range_of_integer("page-ranges", RangeOfInteger(2, 5), RangeOfInteger(7, 9))
    answer = ipp.print_job(auth, pdf, job_attributes=[beyond])
    assert answer.status_code == Status.SUCCESSFUL_OK, answer
    assert Job.objects.get().page_ranges == "2-3"
    released = ipp.send(ipp.request(Operation.RELEASE_JOB, job_id=job_id_of(answer)), auth=auth)
    assert released.status_code == Status.SUCCESSFUL_OK, released


def test_page_ranges_with_no_page_of_the_document_are_refused(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _credentials(printing)
    before = spool_entries()
    past = Attribute.range_of_integer("page-ranges", RangeOfInteger(4, 9))
    answer = ipp.print_job(auth, pdf, job_attributes=[past])
    assert answer.status_code == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    assert "no page of this 3-page document" in str(attribute_value(answer, "status-message"))
    created = ipp.send(ipp.request(Operation.CREATE_JOB, job_attributes=[past]), auth=auth)
    refused = _send_document(ipp, auth, job_id_of(created), pdf)
    assert refused.status_code == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    assert not Job.objects.exists()
    assert spool_entries() == before


@pytest.mark.parametrize("ranges", [((5, 7), (1, 2)), ((1, 5), (3, 7))])
def test_page_ranges_out_of_order_or_overlapping_are_a_bad_request(
    ipp: IppTester, printing: Printing, pdf: bytes, ranges: tuple[tuple[int, int], ...]
) -> None:
    before = spool_entries()
    asked = Attribute.range_of_integer("page-ranges", *(RangeOfInteger(*r) for r in ranges))
    answer = ipp.print_job(_credentials(printing), pdf, job_attributes=[asked])
    assert answer.status_code == Status.CLIENT_ERROR_BAD_REQUEST
    assert "ascending order" in str(attribute_value(answer, "status-message"))
    assert not Job.objects.exists()
    assert spool_entries() == before


def test_get_jobs_which_jobs_completed_lists_canceled_jobs(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _credentials(printing)
    held = job_id_of(ipp.print_job(auth, pdf))
    canceled = job_id_of(ipp.print_job(auth, pdf))
    ipp.send(ipp.request(Operation.CANCEL_JOB, job_id=canceled), auth=auth)

    def listed(which: str) -> list[int]:
        request = ipp.request(
            Operation.GET_JOBS, operation_attributes=[Attribute.keyword("which-jobs", which)]
        )
        return _job_ids(ipp.send(request, auth=auth))

    assert listed("not-completed") == [held]
    assert listed("completed") == [canceled]
    assert listed("all") == [canceled, held]


def _get_jobs(ipp: IppTester, auth: tuple[str, str], *attributes: Attribute) -> list[int]:
    return _job_ids(
        ipp.send(ipp.request(Operation.GET_JOBS, operation_attributes=list(attributes)), auth=auth)
    )


def test_get_jobs_pages_with_limit_and_first_index(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _credentials(printing)
    first, second, third = (job_id_of(ipp.print_job(auth, pdf)) for _ in range(3))
    limit = Attribute.integer("limit", 2)
    assert _get_jobs(ipp, auth, limit) == [third, second]
    assert _get_jobs(ipp, auth, limit, Attribute.integer("first-index", 3)) == [first]
    assert _get_jobs(ipp, auth, limit, Attribute.integer("first-index", 4)) == []
    for wrong in (Attribute.integer("first-index", 0), Attribute.keyword("first-index", "2")):
        request = ipp.request(Operation.GET_JOBS, operation_attributes=[wrong])
        refused = ipp.send(request, auth=auth)
        assert refused.status_code == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
        unsupported = refused.group(GroupTag.UNSUPPORTED)
        assert unsupported is not None
        assert unsupported.get("first-index") == wrong


def _create_job(ipp: IppTester, auth: tuple[str, str]) -> int:
    return job_id_of(ipp.send(ipp.request(Operation.CREATE_JOB), auth=auth))


def _job_state(ipp: IppTester, auth: tuple[str, str], job_id: int) -> tuple[PyValue, PyValue]:
    answer = ipp.send(ipp.request(Operation.GET_JOB_ATTRIBUTES, job_id=job_id), auth=auth)
    return attribute_value(answer, "job-state"), attribute_value(answer, "job-state-reasons")


def test_get_jobs_with_job_ids_lists_those_jobs_whatever_their_state(
    ipp: IppTester, printing: Printing, other_printing: Printing, pdf: bytes
) -> None:
    auth = _credentials(printing)
    held, canceled, other = (job_id_of(ipp.print_job(auth, pdf)) for _ in range(3))
    ipp.send(ipp.request(Operation.CANCEL_JOB, job_id=canceled), auth=auth)
    theirs = job_id_of(ipp.print_job(_credentials(other_printing), pdf))
    job_ids = Attribute.integer("job-ids", held, canceled, theirs)
    assert _get_jobs(ipp, auth, job_ids) == [canceled, held]
    not_completed = Attribute.keyword("which-jobs", "not-completed")
    assert _get_jobs(ipp, auth, job_ids, not_completed) == [canceled, held]
    assert _get_jobs(ipp, auth) == [other, held]

    mixed = Attribute("job-ids", (Value(ValueTag.INTEGER, held), Value(ValueTag.ENUM, canceled)))
    too_many = Attribute.integer("job-ids", *range(1, MAX_JOB_IDS + 2))
    bad_values = (
        Attribute.integer("job-ids", 0),
        Attribute.integer("job-ids", held, -3),
        Attribute.keyword("job-ids", "1"),
        mixed,
        too_many,
    )
    for bad in bad_values:
        answer = ipp.send(ipp.request(Operation.GET_JOBS, operation_attributes=[bad]), auth=auth)
        assert answer.status_code == Status.CLIENT_ERROR_BAD_REQUEST, bad.display()[:40]
        assert "job-ids" in str(attribute_value(answer, "status-message"))
    # which-jobs is still checked when job-ids names the jobs.
    bogus = Attribute.keyword("which-jobs", "bogus")
    answer = ipp.send(
        ipp.request(Operation.GET_JOBS, operation_attributes=[job_ids, bogus]), auth=auth
    )
    assert answer.status_code == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED


def test_cancel_my_jobs_cancels_every_open_job_of_the_user_only(
    ipp: IppTester, printing: Printing, operator_printing: Printing, pdf: bytes
) -> None:
    auth = _credentials(printing)
    held = job_id_of(ipp.print_job(auth, pdf))
    waiting = _create_job(ipp, auth)
    operator_auth = _credentials(operator_printing)
    operators = job_id_of(ipp.print_job(operator_auth, pdf))

    # A printer admin sees every job, but "my jobs" are their own.
    answer = ipp.send(ipp.request(Operation.CANCEL_MY_JOBS), auth=operator_auth)
    assert answer.status_code == Status.SUCCESSFUL_OK
    assert Job.objects.get(ipp_job__pk=operators).state == JobState.CANCELED
    assert Job.objects.get(ipp_job__pk=held).state == JobState.HELD

    answer = ipp.send(ipp.request(Operation.CANCEL_MY_JOBS), auth=auth)
    assert answer.status_code == Status.SUCCESSFUL_OK
    assert Job.objects.get(ipp_job__pk=held).state == JobState.CANCELED
    assert _job_state(ipp, auth, waiting) == (7, "job-canceled-by-user")
    assert _get_jobs(ipp, auth) == []
    # Nothing left to cancel is no error.
    again = ipp.send(ipp.request(Operation.CANCEL_MY_JOBS), auth=auth)
    assert again.status_code == Status.SUCCESSFUL_OK


def test_cancel_my_jobs_sent_to_a_job_uri_is_refused_and_cancels_nothing(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _credentials(printing)
    created = ipp.print_job(auth, pdf)
    ipp.print_job(auth, pdf)
    for operation in (Operation.CANCEL_MY_JOBS, Operation.GET_JOBS):
        request = Message.request(
            operation, 9, target_uri=str(attribute_value(created, "job-uri")), target_name="job-uri"
        )
        answer = ipp.send(request, auth=auth)
        assert answer.status_code == Status.CLIENT_ERROR_BAD_REQUEST
        assert "printer-uri" in str(attribute_value(answer, "status-message"))
    assert set(Job.objects.values_list("state", flat=True)) == {JobState.HELD}


def test_cancel_my_jobs_with_job_ids_cancels_all_of_them_or_none(
    ipp: IppTester, printing: Printing, other_printing: Printing, pdf: bytes
) -> None:
    auth = _credentials(printing)
    first, second, ended = (job_id_of(ipp.print_job(auth, pdf)) for _ in range(3))
    ipp.send(ipp.request(Operation.CANCEL_JOB, job_id=ended), auth=auth)
    theirs = job_id_of(ipp.print_job(_credentials(other_printing), pdf))

    def cancel(*job_ids: int) -> Message:
        request = ipp.request(
            Operation.CANCEL_MY_JOBS, operation_attributes=[Attribute.integer("job-ids", *job_ids)]
        )
        return ipp.send(request, auth=auth)

    answer = cancel(first, theirs)
    assert answer.status_code == Status.CLIENT_ERROR_NOT_FOUND
    unsupported = answer.group(GroupTag.UNSUPPORTED)
    assert unsupported is not None
    assert _values(unsupported, "job-ids") == (theirs,)
    answer = cancel(first, ended)
    assert answer.status_code == Status.CLIENT_ERROR_NOT_POSSIBLE
    unsupported = answer.group(GroupTag.UNSUPPORTED)
    assert unsupported is not None
    assert _values(unsupported, "job-ids") == (ended,)
    assert Job.objects.get(ipp_job__pk=first).state == JobState.HELD
    assert Job.objects.get(ipp_job__pk=theirs).state == JobState.HELD

    assert cancel(first).status_code == Status.SUCCESSFUL_OK
    assert Job.objects.get(ipp_job__pk=first).state == JobState.CANCELED
    assert Job.objects.get(ipp_job__pk=second).state == JobState.HELD


def test_a_status_message_naming_many_jobs_is_cut_at_255_octets(
    ipp: IppTester, printing: Printing
) -> None:
    # "you have no job 100001, 100002, ..." ran to 800 octets: libcups refused the answer.
    unknown = range(100_001, 100_101)
    request = ipp.request(
        Operation.CANCEL_MY_JOBS, operation_attributes=[Attribute.integer("job-ids", *unknown)]
    )
    answer = ipp.send(request, auth=_credentials(printing))
    assert answer.status_code == Status.CLIENT_ERROR_NOT_FOUND
    message = str(attribute_value(answer, "status-message"))
    assert message.startswith("you have no job 100001, 100002")
    assert len(message.encode()) == 255
    unsupported = answer.group(GroupTag.UNSUPPORTED)
    assert unsupported is not None
    assert _values(unsupported, "job-ids") == tuple(unknown)


def test_close_job_ends_a_job_without_its_document_and_keeps_one_with_it(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _credentials(printing)
    with_document = _create_job(ipp, auth)
    sent = _send_document(ipp, auth, with_document, pdf, last=False)
    assert sent.status_code == Status.SUCCESSFUL_OK
    closed = ipp.send(ipp.request(Operation.CLOSE_JOB, job_id=with_document), auth=auth)
    assert closed.status_code == Status.SUCCESSFUL_OK
    assert Job.objects.get(ipp_job__pk=with_document).state == JobState.HELD

    empty = _create_job(ipp, auth)
    closed = ipp.send(ipp.request(Operation.CLOSE_JOB, job_id=empty), auth=auth)
    assert closed.status_code == Status.SUCCESSFUL_OK
    assert _job_state(ipp, auth, empty) == (7, "job-canceled-by-user")
    again = ipp.send(ipp.request(Operation.CLOSE_JOB, job_id=empty), auth=auth)
    assert again.status_code == Status.CLIENT_ERROR_NOT_POSSIBLE

    ipp.send(ipp.request(Operation.CANCEL_JOB, job_id=with_document), auth=auth)
    ended = ipp.send(ipp.request(Operation.CLOSE_JOB, job_id=with_document), auth=auth)
    assert ended.status_code == Status.CLIENT_ERROR_NOT_POSSIBLE
    assert "canceled" in str(attribute_value(ended, "status-message"))


def test_a_created_job_whose_document_never_comes_is_aborted(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _credentials(printing)
    waiting = _create_job(ipp, auth)
    assert _job_state(ipp, auth, waiting) == (4, "job-incoming")
    created = timezone.now() - timedelta(seconds=DOCUMENT_TIME_OUT_SECONDS + 1)
    IppJob.objects.filter(pk=waiting).update(created_at=created)

    assert _job_state(ipp, auth, waiting) == (8, "aborted-by-system")
    assert _get_jobs(ipp, auth) == []
    assert _get_jobs(ipp, auth, Attribute.keyword("which-jobs", "completed")) == [waiting]
    late = _send_document(ipp, auth, waiting, pdf)
    assert late.status_code == Status.CLIENT_ERROR_NOT_POSSIBLE
    assert "did not start to arrive within" in str(attribute_value(late, "status-message"))
    assert not Job.objects.exists()
    for operation in (Operation.CANCEL_JOB, Operation.CLOSE_JOB, Operation.HOLD_JOB):
        answer = ipp.send(ipp.request(operation, job_id=waiting), auth=auth)
        assert answer.status_code == Status.CLIENT_ERROR_NOT_POSSIBLE
        assert "aborted" in str(attribute_value(answer, "status-message"))
    by_number = ipp.request(
        Operation.CANCEL_MY_JOBS, operation_attributes=[Attribute.integer("job-ids", waiting)]
    )
    assert ipp.send(by_number, auth=auth).status_code == Status.CLIENT_ERROR_NOT_POSSIBLE
    assert ipp.send(ipp.request(Operation.CANCEL_MY_JOBS), auth=auth).status_code == (
        Status.SUCCESSFUL_OK
    )
    assert _job_state(ipp, auth, waiting) == (8, "aborted-by-system")


def _slow_send_document(
    ipp: IppTester, auth: tuple[str, str], job_id: int, pdf: bytes, go_on: threading.Event
) -> tuple[threading.Thread, list[httpx.Response | Exception]]:
    """A Send-Document whose data stops after its first kilobyte until `go_on` is set (a
    document that fails to arrive when the event is never set: the client then gives up)."""
    request = ipp.request(
        Operation.SEND_DOCUMENT,
        job_id=job_id,
        operation_attributes=[Attribute.boolean("last-document", True)],
    )

    def body() -> Iterator[bytes]:
        yield encode(request) + pdf[:1024]
        if not go_on.wait(5):
            raise ConnectionAbortedError("the client gave up")
        yield pdf[1024:]

    outcome: list[httpx.Response | Exception] = []

    def send() -> None:
        try:
            outcome.append(ipp.post_stream(body(), auth=auth))
        except Exception as error:
            outcome.append(error)

    thread = threading.Thread(target=send)
    thread.start()
    deadline = time.monotonic() + 10
    while IppJob.objects.get(pk=job_id).document_arriving_since is None:
        assert time.monotonic() < deadline, "the document was never marked as arriving"
        time.sleep(0.02)
    return thread, outcome


def _created_almost_a_time_out_ago(job_id: int) -> None:
    almost = timezone.now() - timedelta(seconds=DOCUMENT_TIME_OUT_SECONDS - 1)
    IppJob.objects.filter(pk=job_id).update(created_at=almost)


def test_the_time_out_waits_for_a_document_that_has_begun_to_arrive(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _credentials(printing)
    waiting = _create_job(ipp, auth)
    _created_almost_a_time_out_ago(waiting)
    go_on = threading.Event()
    thread, outcome = _slow_send_document(ipp, auth, waiting, pdf, go_on)
    time.sleep(1.5)  # the time-out passes while the document arrives
    assert _job_state(ipp, auth, waiting) == (4, "job-incoming")
    assert _get_jobs(ipp, auth) == [waiting]
    go_on.set()
    thread.join(30)
    answer = outcome[0]
    assert isinstance(answer, httpx.Response)
    assert decode(answer.content).status_code == Status.SUCCESSFUL_OK
    assert Job.objects.get().ipp_job.pk == waiting
    assert _job_state(ipp, auth, waiting) == (4, "job-hold-until-specified")


def test_a_document_that_fails_to_arrive_leaves_the_time_out_running(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _credentials(printing)
    waiting = _create_job(ipp, auth)
    _created_almost_a_time_out_ago(waiting)
    thread, outcome = _slow_send_document(ipp, auth, waiting, pdf, threading.Event())
    thread.join(30)
    assert isinstance(outcome[0], Exception)
    deadline = time.monotonic() + 10
    while IppJob.objects.get(pk=waiting).document_arriving_since is not None:
        assert time.monotonic() < deadline, "the arrival mark was not cleared"
        time.sleep(0.02)
    assert _job_state(ipp, auth, waiting) == (8, "aborted-by-system")
    assert not Job.objects.exists()


def test_a_document_arriving_for_more_than_an_hour_aborts_its_job(
    ipp: IppTester, printing: Printing
) -> None:
    auth = _credentials(printing)
    waiting = _create_job(ipp, auth)
    IppJob.objects.filter(pk=waiting).update(
        document_arriving_since=timezone.now() - timedelta(hours=1, seconds=1)
    )
    assert _job_state(ipp, auth, waiting) == (8, "aborted-by-system")
    answer = ipp.send(ipp.request(Operation.GET_JOB_ATTRIBUTES, job_id=waiting), auth=auth)
    assert "more than an hour" in str(attribute_value(answer, "job-state-message"))


def test_release_job_sends_to_the_default_printer(
    ipp: IppTester, printing_with_desk: Printing, pdf: bytes
) -> None:
    auth = _credentials(printing_with_desk)
    job_id = job_id_of(ipp.print_job(auth, pdf))
    held = ipp.send(ipp.request(Operation.HOLD_JOB, job_id=job_id), auth=auth)
    assert held.status_code == Status.SUCCESSFUL_OK
    released = ipp.send(ipp.request(Operation.RELEASE_JOB, job_id=job_id), auth=auth)
    assert released.status_code == Status.SUCCESSFUL_OK, released
    job = Job.objects.get()
    assert job.state != JobState.HELD
    assert job.printer is not None
    assert job.printer.name == "desk"


def test_release_job_starts_from_the_presets_the_printer_offers(
    ipp: IppTester, printing_with_desk: Printing, pdf: bytes
) -> None:
    auth = _credentials(printing_with_desk)
    job_id = job_id_of(ipp.print_job(auth, pdf))
    # An output bin the default printer does not have is its default, not a refusal (nor
    # sent as asked, unchecked and unpriced).
    Job.objects.update(options={"output-bin": "nowhere", "sides": "two-sided-long-edge"})
    released = ipp.send(ipp.request(Operation.RELEASE_JOB, job_id=job_id), auth=auth)
    assert released.status_code == Status.SUCCESSFUL_OK, released
    job = Job.objects.get()
    assert job.options["sides"] == "two-sided-long-edge"
    assert job.options.get("output-bin") != "nowhere"


def test_release_job_without_a_default_printer_says_so(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    auth = _credentials(printing)
    job_id = job_id_of(ipp.print_job(auth, pdf))
    answer = ipp.send(ipp.request(Operation.RELEASE_JOB, job_id=job_id), auth=auth)
    assert answer.status_code == Status.CLIENT_ERROR_NOT_POSSIBLE
    assert "default printer" in str(attribute_value(answer, "status-message"))
    assert Job.objects.get().state == JobState.HELD


def test_identify_printer_is_refused_as_not_supported(ipp: IppTester, printing: Printing) -> None:
    answer = ipp.send(ipp.request(Operation.IDENTIFY_PRINTER), auth=_credentials(printing))
    assert answer.status_code == Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED


def test_unknown_job_is_not_found(ipp: IppTester, printing: Printing) -> None:
    answer = ipp.send(
        ipp.request(Operation.GET_JOB_ATTRIBUTES, job_id=999_999), auth=_credentials(printing)
    )
    assert answer.status_code == Status.CLIENT_ERROR_NOT_FOUND


def test_job_uri_addresses_a_job(ipp: IppTester, printing: Printing, pdf: bytes) -> None:
    auth = _credentials(printing)
    created = ipp.print_job(auth, pdf)
    job_uri = str(attribute_value(created, "job-uri"))
    request = Message.request(
        Operation.GET_JOB_ATTRIBUTES, 7, target_uri=job_uri, target_name="job-uri"
    )
    answer = ipp.send(request, auth=auth)
    assert answer.status_code == Status.SUCCESSFUL_OK
    assert answer.get("job-id") == created.get("job-id")
    assert answer.get("time-at-completed") == Attribute.out_of_band(
        "time-at-completed", ValueTag.NO_VALUE
    )

    # A job-uri whose last part is no job number (str.isdigit() takes "²", int() does not),
    # or one too large for any id: not found, not a server error.
    base = job_uri.rsplit("/", 1)[0]
    for tail in ("²", "9" * 30, "x"):
        request = Message.request(
            Operation.GET_JOB_ATTRIBUTES, 8, target_uri=f"{base}/{tail}", target_name="job-uri"
        )
        assert ipp.send(request, auth=auth).status_code == Status.CLIENT_ERROR_NOT_FOUND


def test_a_job_name_is_answered_in_at_most_255_octets(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    # 255 characters of "ü" are 510 octets: libcups refused the answer as a bad request.
    auth = _credentials(printing)
    job_id = job_id_of(ipp.print_job(auth, pdf, name="ü" * 300))
    answer = ipp.send(ipp.request(Operation.GET_JOB_ATTRIBUTES, job_id=job_id), auth=auth)
    assert attribute_value(answer, "job-name") == "ü" * 127


def test_control_characters_in_a_job_name_become_spaces(
    ipp: IppTester, printing: Printing, pdf: bytes
) -> None:
    # libcups refused every answer naming the job: "bad control character".
    auth = _credentials(printing)
    job_id = job_id_of(ipp.print_job(auth, pdf, name="minutes\r\nof\x00the\x7fmeeting\n"))
    answer = ipp.send(ipp.request(Operation.GET_JOB_ATTRIBUTES, job_id=job_id), auth=auth)
    assert attribute_value(answer, "job-name") == "minutes of the meeting"
    assert Job.objects.get().title == "minutes of the meeting"


def test_printer_icon_and_more_info_are_served(ipp: IppTester) -> None:
    printer = ipp.send(ipp.request(Operation.GET_PRINTER_ATTRIBUTES)).group(GroupTag.PRINTER)
    assert printer is not None
    icon = httpx.get(str(attribute_value(printer, "printer-icons")))
    assert icon.status_code == 200
    assert icon.content.startswith(b"\x89PNG")
    assert attribute_value(printer, "printer-more-info") == f"{ipp.server.base_url}/"
