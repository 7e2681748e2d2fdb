"""What Get-Job-Attributes tells about a job: the pages it prints, when it was processed, who
canceled it; and who may release a job from a device."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from apps.accounts.roles import STAFF
from apps.jobs.choices import JobState
from apps.jobs.models import Job
from printmgmt.ipp import Attribute, GroupTag, Operation, RangeOfInteger, Status, ValueTag
from tests.ippserver.conftest import IppTester, Printing, job_id_of
from tests.pdfs import make_pdf


@pytest.fixture
def five_pages(tmp_path: Path) -> bytes:
    return make_pdf(tmp_path / "five.pdf", 5).read_bytes()


def _auth(printing: Printing) -> tuple[str, str]:
    return printing.username, printing.password


def _described(ipp: IppTester, auth: tuple[str, str], job_id: int) -> dict[str, Attribute]:
    request = ipp.request(
        Operation.GET_JOB_ATTRIBUTES,
        job_id=job_id,
        operation_attributes=[Attribute.keyword("requested-attributes", "all")],
    )
    answer = ipp.send(request, auth=auth)
    assert answer.status_code == Status.SUCCESSFUL_OK, answer
    group = answer.group(GroupTag.JOB)
    assert group is not None
    return {attribute.name: attribute for attribute in group}


@pytest.mark.parametrize(
    ("job_attributes", "ranges", "impressions"),
    [
        ([], None, 5),
        ([Attribute.range_of_integer("page-ranges", RangeOfInteger(2, 3))], ((2, 3),), 2),
        (
            [
                Attribute.range_of_integer(
                    "page-ranges", RangeOfInteger(1, 1), RangeOfInteger(3, 5)
                ),
                Attribute.integer("number-up", 2),
            ],
            ((1, 1), (3, 5)),
            2,  # 4 pages, 2 to a side
        ),
        ([Attribute.integer("number-up", 4)], None, 2),
    ],
    ids=["every-page", "two-pages", "four-pages-2-up", "4-up"],
)
def test_the_pages_a_job_prints_and_its_impressions_are_told(
    ipp: IppTester,
    printing: Printing,
    five_pages: bytes,
    job_attributes: list[Attribute],
    ranges: tuple[tuple[int, int], ...] | None,
    impressions: int,
) -> None:
    job_id = job_id_of(ipp.print_job(_auth(printing), five_pages, job_attributes=job_attributes))
    described = _described(ipp, _auth(printing), job_id)
    if ranges is None:
        assert "page-ranges" not in described
    else:
        told = described["page-ranges"].python_values
        assert [(r.lower, r.upper) for r in told if isinstance(r, RangeOfInteger)] == list(ranges)
    # RFC 8011 5.3.17.2: the sides of the selected pages, without the factor of copies.
    assert described["job-impressions"].value == impressions


def test_a_job_canceled_while_held_was_never_processing(
    ipp: IppTester, printing: Printing, five_pages: bytes
) -> None:
    auth = _auth(printing)
    job_id = job_id_of(ipp.print_job(auth, five_pages))
    canceled = ipp.send(ipp.request(Operation.CANCEL_JOB, job_id=job_id), auth=auth)
    assert canceled.status_code == Status.SUCCESSFUL_OK
    described = _described(ipp, auth, job_id)
    for name in ("time-at-processing", "date-time-at-processing"):
        assert described[name].tag == ValueTag.NO_VALUE, name
    assert isinstance(described["time-at-completed"].value, int)


def test_a_job_an_operator_canceled_says_so_and_one_its_user_canceled_says_that(
    ipp: IppTester, printing: Printing, operator_printing: Printing, five_pages: bytes
) -> None:
    auth = _auth(printing)
    by_operator = job_id_of(ipp.print_job(auth, five_pages))
    by_user = job_id_of(ipp.print_job(auth, five_pages))
    for job_id, who in ((by_operator, _auth(operator_printing)), (by_user, auth)):
        canceled = ipp.send(ipp.request(Operation.CANCEL_JOB, job_id=job_id), auth=who)
        assert canceled.status_code == Status.SUCCESSFUL_OK
    reasons = {
        job_id: _described(ipp, auth, job_id)["job-state-reasons"].value
        for job_id in (by_operator, by_user)
    }
    assert reasons == {by_operator: "job-canceled-by-operator", by_user: "job-canceled-by-user"}


def test_release_job_by_a_user_who_may_no_longer_print_is_not_authorized(
    ipp: IppTester, printing_with_desk: Printing, five_pages: bytes
) -> None:
    auth = _auth(printing_with_desk)
    job_id = job_id_of(ipp.print_job(auth, five_pages))
    printing_with_desk.user.groups.remove(Group.objects.get(name=STAFF.group_name))
    answer = ipp.send(ipp.request(Operation.RELEASE_JOB, job_id=job_id), auth=auth)
    assert answer.status_code == Status.CLIENT_ERROR_NOT_AUTHORIZED
    status = answer.get("status-message")
    assert status is not None
    assert "may not print" in str(status.value)
    assert Job.objects.get(ipp_job__pk=job_id).state == JobState.HELD
    # Seeing and canceling their jobs stays theirs.
    canceled = ipp.send(ipp.request(Operation.CANCEL_JOB, job_id=job_id), auth=auth)
    assert canceled.status_code == Status.SUCCESSFUL_OK
