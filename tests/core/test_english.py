"""Counts said in English only take the form their number asks for."""

from __future__ import annotations

import pytest

from printmgmt.english import counted


@pytest.mark.parametrize(
    ("count", "said"),
    [(1, "1 page"), (2, "2 pages"), (0, "0 pages"), (-1, "-1 pages")],
)
def test_a_count_takes_the_singular_for_one_alone(count: int, said: str) -> None:
    assert counted(count, "page") == said


def test_a_noun_with_another_plural_is_given_it() -> None:
    assert counted(1, "entry", "entries") == "1 entry"
    assert counted(3, "entry", "entries") == "3 entries"
