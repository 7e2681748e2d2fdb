"""Whole numbers from requests: ASCII digits only, and bounded."""

from __future__ import annotations

import pytest

from printmgmt.digits import MAX_WHOLE_NUMBER, whole_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("7", 7), ("0042", 42), (str(MAX_WHOLE_NUMBER), MAX_WHOLE_NUMBER)],
)
def test_ascii_digits_are_read(text: str, expected: int) -> None:
    assert whole_number(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        " 7",
        "7 ",
        "-1",
        "+1",
        "1.0",
        "1_000",
        "²",
        "٣",
        "x",
        str(MAX_WHOLE_NUMBER + 1),
        "9" * 40,
    ],
)
def test_anything_else_is_none(text: str) -> None:
    assert whole_number(text) is None


def test_a_larger_maximum_reads_larger_numbers() -> None:
    assert whole_number("5000000000", maximum=10**12) == 5_000_000_000
    assert whole_number("5000000000") is None
