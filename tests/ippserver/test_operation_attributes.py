"""Operation attributes our printer does not take are ignored and named in the answer's
unsupported group (RFC 8011 section 4.1.7), against the real product under uvicorn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from apps.ippserver.models import IppJob
from apps.jobs.models import Job
from printmgmt.ipp import (
    Attribute,
    AttributeGroup,
    Collection,
    GroupTag,
    Message,
    Operation,
    OutOfBand,
    Status,
    Value,
    ValueTag,
)
from tests.ippserver.conftest import (
    IppTester,
    Printing,
    attribute_value,
    job_id_of,
    spool_entries,
)
from tests.ippserver.documents import make_image

#: What a client may send with any job creation that is none of ours to act on.
UNKNOWN = Attribute.keyword("x-vendor-tray-light", "blink")
UNSUPPORTED_UNKNOWN = Attribute(
    "x-vendor-tray-light", (Value(ValueTag.UNSUPPORTED, OutOfBand(ValueTag.UNSUPPORTED)),)
)


def _auth(printing: Printing) -> tuple[str, str]:
    return printing.username, printing.password


def _unsupported(answer: Message) -> list[Attribute]:
    group = answer.group(GroupTag.UNSUPPORTED)
    assert group is not None, answer
    return list(group.attributes)


def _print_job(
    ipp: IppTester, printing: Printing, document: bytes, *operation: Attribute
) -> Message:
    request = ipp.request(
        Operation.PRINT_JOB,
        operation_attributes=[
            Attribute.name_("requesting-user-name", printing.username),
            Attribute.name_("job-name", "report"),
            Attribute.boolean("ipp-attribute-fidelity", False),
            Attribute.name_("document-name", "report.pdf"),
            Attribute.keyword("compression", "none"),
            Attribute.mime_media_type("document-format", "application/pdf"),
            *operation,
        ],
    )
    return ipp.send(request, document, auth=_auth(printing))


def test_an_unknown_operation_attribute_of_a_print_job_is_reported_and_the_job_held(
    ipp: IppTester, printing: Printing, pdf_bytes: bytes
) -> None:
    answer = _print_job(ipp, printing, pdf_bytes, UNKNOWN)
    assert answer.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
    assert _unsupported(answer) == [UNSUPPORTED_UNKNOWN]
    # The unsupported group comes right after the operation group (RFC 8010 section 3.1.1).
    assert [group.tag for group in answer.groups] == [
        GroupTag.OPERATION,
        GroupTag.UNSUPPORTED,
        GroupTag.JOB,
    ]
    assert Job.objects.get().title == "report"


def test_the_operation_attributes_a_print_job_takes_are_not_reported(
    ipp: IppTester, printing: Printing, pdf_bytes: bytes
) -> None:
    answer = _print_job(ipp, printing, pdf_bytes, Attribute.keyword("job-hold-until", "indefinite"))
    assert answer.status_code == Status.SUCCESSFUL_OK
    assert answer.group(GroupTag.UNSUPPORTED) is None


def test_what_cups_sends_but_the_printer_does_not_use_is_reported_as_unsupported(
    ipp: IppTester, printing: Printing, pdf_bytes: bytes
) -> None:
    answer = _print_job(
        ipp,
        printing,
        pdf_bytes,
        Attribute.integer("job-k-octets", 12),
        Attribute.integer("job-impressions", 1),
        Attribute.natural_language("document-natural-language", "de"),
        Attribute.octet_string("job-password", b"1234"),
    )
    assert answer.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
    unsupported = _unsupported(answer)
    assert [a.name for a in unsupported] == [
        "job-k-octets",
        "job-impressions",
        "document-natural-language",
        "job-password",
    ]
    assert {a.tag for a in unsupported} == {ValueTag.UNSUPPORTED}
    assert Job.objects.count() == 1


def test_a_known_operation_attribute_with_a_value_or_syntax_not_taken_is_reported_as_sent(
    ipp: IppTester, printing: Printing, pdf_bytes: bytes
) -> None:
    name_as_integer = Attribute.integer("job-name", 7)
    hold_until = Attribute.keyword("job-hold-until", "weekend")
    request = ipp.request(
        Operation.PRINT_JOB,
        operation_attributes=[
            name_as_integer,
            Attribute.name_("document-name", "report.pdf"),
            hold_until,
        ],
    )
    answer = ipp.send(request, pdf_bytes, auth=_auth(printing))
    assert answer.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
    assert _unsupported(answer) == [name_as_integer, hold_until]
    # Ignored means not used: the title comes from the document's name.
    assert Job.objects.get().title == "report.pdf"


@pytest.mark.parametrize(
    "document_format",
    [
        Attribute.keyword("document-format", "application/pdf"),
        Attribute.name_("document-format", "application/pdf"),
        Attribute.mime_media_type("document-format", "application/pdf", "image/png"),
    ],
    ids=["keyword", "name", "two-formats"],
)
def test_a_document_format_of_another_syntax_or_several_is_reported_and_not_used(
    ipp: IppTester, printing: Printing, tmp_path: Path, document_format: Attribute
) -> None:
    # A PNG: taken as the PDF the attribute names (its first value), it was refused as not
    # what it said it was; ignored, it is detected by its content.
    png = make_image(tmp_path / "photo.png").read_bytes()
    request = ipp.request(Operation.PRINT_JOB, operation_attributes=[document_format])
    answer = ipp.send(request, png, auth=_auth(printing))
    assert answer.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES, answer
    assert _unsupported(answer) == [document_format]
    assert Job.objects.get().page_count == 1


def test_with_fidelity_the_refusal_names_the_ignored_operation_attributes_too(
    ipp: IppTester, printing: Printing, pdf_bytes: bytes
) -> None:
    request = ipp.request(
        Operation.PRINT_JOB,
        operation_attributes=[
            Attribute.boolean("ipp-attribute-fidelity", True),
            Attribute.mime_media_type("document-format", "application/pdf"),
            UNKNOWN,
        ],
        job_attributes=[Attribute.enum("finishings", 20)],  # no printer staples
    )
    answer = ipp.send(request, pdf_bytes, auth=_auth(printing))
    assert answer.status_code == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    assert _unsupported(answer) == [UNSUPPORTED_UNKNOWN, Attribute.enum("finishings", 20)]
    assert not Job.objects.exists()


def test_create_job_and_validate_job_report_an_unknown_operation_attribute(
    ipp: IppTester, printing: Printing
) -> None:
    for operation in (Operation.CREATE_JOB, Operation.VALIDATE_JOB):
        request = ipp.request(
            operation,
            operation_attributes=[Attribute.name_("job-name", "later"), UNKNOWN],
        )
        answer = ipp.send(request, auth=_auth(printing))
        assert answer.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
        assert _unsupported(answer) == [UNSUPPORTED_UNKNOWN]


def test_get_printer_attributes_reports_an_unknown_operation_attribute(ipp: IppTester) -> None:
    taken = [
        Attribute.name_("requesting-user-name", "anyone"),
        Attribute.mime_media_type("document-format", "image/urf"),
        Attribute.keyword("requested-attributes", "printer-uri-supported"),
    ]
    plain = ipp.send(ipp.request(Operation.GET_PRINTER_ATTRIBUTES, operation_attributes=taken))
    assert plain.status_code == Status.SUCCESSFUL_OK
    assert plain.group(GroupTag.UNSUPPORTED) is None
    answer = ipp.send(
        ipp.request(Operation.GET_PRINTER_ATTRIBUTES, operation_attributes=[*taken, UNKNOWN])
    )
    assert answer.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
    assert _unsupported(answer) == [UNSUPPORTED_UNKNOWN]
    printer = answer.group(GroupTag.PRINTER)
    assert printer is not None
    assert [a.name for a in printer] == ["printer-uri-supported"]


def test_get_jobs_reports_a_limit_it_cannot_use_and_answers_without_it(
    ipp: IppTester, printing: Printing, pdf_bytes: bytes
) -> None:
    for _ in range(2):
        _print_job(ipp, printing, pdf_bytes)
    zero = Attribute.integer("limit", 0)
    request = ipp.request(
        Operation.GET_JOBS,
        operation_attributes=[Attribute.keyword("which-jobs", "all"), zero],
    )
    answer = ipp.send(request, auth=_auth(printing))
    assert answer.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
    assert _unsupported(answer) == [zero]
    assert len(answer.groups_of(GroupTag.JOB)) == 2


@pytest.mark.parametrize(
    ("operation", "extra"),
    [
        (Operation.GET_JOB_ATTRIBUTES, Attribute.keyword("requested-attributes", "job-state")),
        (Operation.HOLD_JOB, Attribute.keyword("job-hold-until", "indefinite")),
    ],
)
def test_job_operations_report_only_what_they_do_not_take(
    ipp: IppTester, printing: Printing, pdf_bytes: bytes, operation: int, extra: Attribute
) -> None:
    job_id = _print_job(ipp, printing, pdf_bytes).get("job-id")
    assert job_id is not None
    assert isinstance(job_id.value, int)
    taken = ipp.request(operation, job_id=job_id.value, operation_attributes=[extra])
    assert ipp.send(taken, auth=_auth(printing)).status_code == Status.SUCCESSFUL_OK
    message = Attribute.text("message", "why")
    ignored = ipp.request(operation, job_id=job_id.value, operation_attributes=[extra, message])
    answer = ipp.send(ignored, auth=_auth(printing))
    assert answer.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
    assert [(a.name, a.tag) for a in _unsupported(answer)] == [("message", ValueTag.UNSUPPORTED)]


def test_a_refused_request_is_refused_as_before(ipp: IppTester, printing: Printing) -> None:
    request = ipp.request(Operation.CANCEL_JOB, job_id=4242, operation_attributes=[UNKNOWN])
    answer = ipp.send(request, auth=_auth(printing))
    assert answer.status_code == Status.CLIENT_ERROR_NOT_FOUND
    assert answer.group(GroupTag.UNSUPPORTED) is None


#: Operation attributes the printer takes with one value, sent with two: for each, the
#: operation and the attribute (of the job held before, for those naming one).
SEVERAL_VALUES: list[tuple[Operation, Callable[[int], Attribute]]] = [
    (Operation.PRINT_JOB, lambda _: Attribute.name_("job-name", "a", "b")),
    (Operation.PRINT_JOB, lambda _: Attribute.name_("document-name", "a.pdf", "b.pdf")),
    (Operation.PRINT_JOB, lambda _: Attribute.name_("requesting-user-name", "dana", "eli")),
    (Operation.PRINT_JOB, lambda _: Attribute.boolean("ipp-attribute-fidelity", True, False)),
    (Operation.PRINT_JOB, lambda _: Attribute.keyword("compression", "none", "none")),
    (Operation.PRINT_JOB, lambda _: Attribute.keyword("job-hold-until", "no-hold", "indefinite")),
    (Operation.CREATE_JOB, lambda _: Attribute.name_("job-name", "a", "b")),
    (Operation.VALIDATE_JOB, lambda _: Attribute.boolean("ipp-attribute-fidelity", False, False)),
    (Operation.GET_JOBS, lambda _: Attribute.integer("limit", 1, 2)),
    (Operation.GET_JOBS, lambda _: Attribute.keyword("which-jobs", "completed", "all")),
    (Operation.GET_JOBS, lambda _: Attribute.boolean("my-jobs", True, False)),
    (Operation.GET_JOBS, lambda _: Attribute.integer("first-index", 1, 2)),
    (Operation.CANCEL_JOB, lambda job_id: Attribute.integer("job-id", job_id, job_id)),
    (Operation.GET_JOB_ATTRIBUTES, lambda job_id: Attribute.integer("job-id", job_id, 1)),
    (Operation.SEND_DOCUMENT, lambda job_id: Attribute.integer("job-id", job_id, job_id)),
    (Operation.SEND_DOCUMENT, lambda _: Attribute.boolean("last-document", True, False)),
    (Operation.GET_PRINTER_ATTRIBUTES, lambda _: Attribute.name_("requesting-user-name", "a", "b")),
]


@pytest.mark.parametrize(
    ("operation", "several"),
    SEVERAL_VALUES,
    ids=[f"{operation.name}-{several(1).name}" for operation, several in SEVERAL_VALUES],
)
def test_several_values_of_an_operation_attribute_taking_one_are_a_bad_request(
    ipp: IppTester,
    printing: Printing,
    pdf_bytes: bytes,
    operation: Operation,
    several: Callable[[int], Attribute],
) -> None:
    # Which one was meant cannot be told (RFC 3196 section 3.1.2.1.5): the first was taken.
    job_id = job_id_of(_print_job(ipp, printing, pdf_bytes))
    before = spool_entries()
    attribute = several(job_id)
    request = ipp.request(operation, operation_attributes=[attribute])
    answer = ipp.send(request, pdf_bytes, auth=_auth(printing))
    assert answer.status_code == Status.CLIENT_ERROR_BAD_REQUEST, answer
    assert attribute_value(answer, "status-message") == f"{attribute.name} takes one value, not 2"
    assert spool_entries() == before
    assert [job.state for job in Job.objects.all()] == ["held"]
    assert IppJob.objects.count() == 1
    again = _print_job(ipp, printing, pdf_bytes)
    assert again.status_code == Status.SUCCESSFUL_OK


@pytest.mark.parametrize("position", [0, 1, 2])
def test_several_values_of_the_first_attributes_are_a_bad_request(
    ipp: IppTester, printing: Printing, pdf_bytes: bytes, position: int
) -> None:
    first = [
        Attribute.charset("attributes-charset", "utf-8", "utf-8"),
        Attribute.natural_language("attributes-natural-language", "en", "de"),
        Attribute.uri("printer-uri", ipp.server.ipp_uri, ipp.server.ipp_uri),
    ]
    one_each = [Attribute(a.name, a.values[:1]) for a in first]
    one_each[position] = first[position]
    request = Message(
        (2, 0), Operation.PRINT_JOB, 7, (AttributeGroup(GroupTag.OPERATION, tuple(one_each)),)
    )
    answer = ipp.send(request, pdf_bytes, auth=_auth(printing))
    assert answer.status_code == Status.CLIENT_ERROR_BAD_REQUEST
    assert attribute_value(answer, "status-message") == (
        f"{first[position].name} takes one value, not 2"
    )
    assert not Job.objects.exists()


def test_several_values_of_what_the_printer_does_not_act_on_are_ignored_as_before(
    ipp: IppTester, printing: Printing, pdf_bytes: bytes
) -> None:
    # Not taken, whatever their values: named unsupported, as RFC 8011 section 4.1.7 says.
    answer = _print_job(
        ipp,
        printing,
        pdf_bytes,
        Attribute.integer("job-k-octets", 12, 13),
        Attribute.natural_language("document-natural-language", "de", "fr"),
    )
    assert answer.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
    assert [(a.name, a.tag) for a in _unsupported(answer)] == [
        ("job-k-octets", ValueTag.UNSUPPORTED),
        ("document-natural-language", ValueTag.UNSUPPORTED),
    ]
    assert Job.objects.count() == 1


def test_several_values_of_a_job_attribute_taking_one_are_unsupported(
    ipp: IppTester, printing: Printing, pdf_bytes: bytes
) -> None:
    a4 = Collection((Attribute.keyword("media-size-name", "iso_a4_210x297mm"),))
    two_media = Attribute.collection("media-col", a4, a4)
    two_orientations = Attribute.enum("orientation-requested", 3, 4)
    template = [two_media, two_orientations]
    auth = _auth(printing)
    refused = ipp.print_job(auth, pdf_bytes, fidelity=True, job_attributes=template)
    assert refused.status_code == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    assert _unsupported(refused) == template
    assert not Job.objects.exists()
    held = ipp.print_job(auth, pdf_bytes, job_attributes=template)
    assert held.status_code == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
    assert _unsupported(held) == template
    assert Job.objects.get().options == {}
