"""Registered names: operations, status classes, states, finishings."""

from __future__ import annotations

import pytest

from printmgmt.ipp import (
    Finishing,
    JobState,
    Operation,
    PrinterState,
    Status,
    StatusClass,
    effective_status,
    enum_keyword,
    group_name,
    is_successful,
    operation_name,
    status_class,
    status_name,
    syntax_name,
)
from printmgmt.ipp.names import status_sentence


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (0x0002, "Print-Job"),
        (0x0003, "Print-URI"),
        (0x0007, "Send-URI"),
        (0x000B, "Get-Printer-Attributes"),
        (0x4002, "CUPS-Get-Printers"),
        (0x4001, "CUPS-Get-Default"),
        (0x4003, "CUPS-Add-Modify-Printer"),
        (0x0043, "Fetch-Job"),
        (0x0041, "Acknowledge-Job"),
        (0x0048, "Update-Job-Status"),
        (0x0049, "Update-Output-Device-Attributes"),
        (0x7777, "0x7777"),
    ],
)
def test_operation_names(code: int, name: str) -> None:
    assert operation_name(code) == name


@pytest.mark.parametrize(
    ("code", "klass", "effective"),
    [
        (0x0000, StatusClass.SUCCESSFUL, Status.SUCCESSFUL_OK),
        (0x0001, StatusClass.SUCCESSFUL, Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES),
        (0x00AB, StatusClass.SUCCESSFUL, Status.SUCCESSFUL_OK),
        (0x01AB, StatusClass.INFORMATIONAL, Status.INFORMATIONAL),
        (0x02AB, StatusClass.REDIRECTION, Status.REDIRECTION_OTHER_SITE),
        (0x0406, StatusClass.CLIENT_ERROR, Status.CLIENT_ERROR_NOT_FOUND),
        (0x04AB, StatusClass.CLIENT_ERROR, Status.CLIENT_ERROR_BAD_REQUEST),
        (0x0507, StatusClass.SERVER_ERROR, Status.SERVER_ERROR_BUSY),
        (0x05AB, StatusClass.SERVER_ERROR, Status.SERVER_ERROR_INTERNAL_ERROR),
        (0x03AB, StatusClass.SERVER_ERROR, Status.SERVER_ERROR_INTERNAL_ERROR),
        (0x7000, StatusClass.SERVER_ERROR, Status.SERVER_ERROR_INTERNAL_ERROR),
    ],
)
def test_unknown_status_behaves_as_the_x00_code_of_its_class(
    code: int, klass: StatusClass, effective: Status
) -> None:
    assert status_class(code) is klass
    assert effective_status(code) is effective
    assert is_successful(code) is (klass is StatusClass.SUCCESSFUL)


def test_status_names_and_sentences() -> None:
    assert status_name(0x0406) == "client-error-not-found"
    assert status_name(0x04AB) == "0x04AB (client-error)"
    assert status_sentence(0x0507) == "The printer is busy."
    assert status_sentence(0x04AB) == "The printer answered 0x04AB (client-error)."


def test_states() -> None:
    assert JobState(9).keyword == "completed"
    assert JobState.PENDING_HELD.keyword == "pending-held"
    assert JobState.CANCELED.is_terminal
    assert not JobState.PROCESSING_STOPPED.is_terminal
    assert PrinterState(5).keyword == "stopped"


def test_finishings_keywords() -> None:
    assert Finishing(20).keyword == "staple-top-left"
    assert Finishing.from_keyword("punch-dual-left") == 74
    assert Finishing.from_keyword("booklet-maker") == 13
    assert Finishing(14).keyword == "jog-offset"
    assert Finishing(93).keyword == "fold-half"
    with pytest.raises(KeyError):
        Finishing.from_keyword("staple-everywhere")


def test_enum_keywords_for_display() -> None:
    assert enum_keyword("finishings-supported", 28) == "staple-dual-left"
    assert enum_keyword("job-state", 5) == "processing"
    assert enum_keyword("printer-state", 3) == "idle"
    assert enum_keyword("operations-supported", 0x4002) == "CUPS-Get-Printers"
    assert enum_keyword("finishings", 999) is None
    assert enum_keyword("orientation-requested", 3) is None
    assert Operation(0x43) is Operation.FETCH_JOB


def test_tag_names() -> None:
    assert syntax_name(0x44) == "keyword"
    assert syntax_name(0x99) == "tag-0x99"
    assert group_name(0x04) == "printer-attributes-tag"
    assert group_name(0x0C) == "group-0x0C"
