"""Golden vectors captured from ippeveprinter and cupsd by this very test run: each answer
decodes and re-encodes byte for byte."""

from __future__ import annotations

import pytest

from printmgmt.ipp import Collection, GroupTag, Status, decode, encode
from tests.ipp.helpers import first_values

pytestmark = pytest.mark.peers

ANSWERS = [
    "eve-printer",
    "eve-job",
    "eve-jobs",
    "eve-not-found",
    "cupsd-printer",
    "cupsd-printers",
]


@pytest.mark.parametrize("key", ANSWERS)
def test_real_answers_round_trip_byte_for_byte(
    captured_answers: dict[str, bytes], key: str
) -> None:
    raw = captured_answers[key]
    decoded = decode(raw)
    assert decoded.data_offset == len(raw)
    assert encode(decoded) == raw


def test_printer_answer_keeps_the_repeated_attribute_and_the_collections(
    captured_answers: dict[str, bytes],
) -> None:
    printer = decode(captured_answers["eve-printer"]).group(GroupTag.PRINTER)
    assert printer is not None
    formats = [a for a in printer if a.name == "document-format-supported"]
    assert len(formats) == 2  # ippeveprinter repeats it; we keep both
    assert printer.repeated_names() == ("document-format-supported",)
    first = printer.get("document-format-supported")
    assert first is not None
    assert "application/pdf" in first.python_values
    media_col = printer.get("media-col-default")
    assert media_col is not None
    assert isinstance(media_col.value, Collection)
    size = media_col.value["media-size"]
    assert isinstance(size, Collection)
    assert size["x-dimension"] == 21000
    finishings = printer.get("finishings-supported")
    assert finishings is not None
    assert {4, 13, 14, 20, 74, 93} <= set(finishings.python_values)


def test_job_answer_shows_what_was_sent(captured_answers: dict[str, bytes]) -> None:
    job = decode(captured_answers["eve-job"]).group(GroupTag.JOB)
    assert job is not None
    cover = job.get("cover-back")
    assert cover is not None
    assert isinstance(cover.value, Collection)
    assert cover.value["cover-type"] == "print-none"


def test_error_answer_carries_status_and_message(captured_answers: dict[str, bytes]) -> None:
    answer = decode(captured_answers["eve-not-found"])
    assert answer.status_code == Status.CLIENT_ERROR_NOT_FOUND
    assert answer.get("status-message") is not None


def test_cups_lists_the_queue(captured_answers: dict[str, bytes]) -> None:
    queues = decode(captured_answers["cupsd-printers"]).groups_of(GroupTag.PRINTER)
    assert "golden" in first_values(queues, "printer-name")
