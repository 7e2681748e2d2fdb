"""End to end: a held job released through a real Celery worker to a real ippeveprinter.

What arrived is read back from the printer with Get-Job-Attributes, so these tests see what a
real printer was asked to do.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import translation

from apps.accounts.models import User
from apps.accounts.selectors import job_charge, job_refunded
from apps.jobs.choices import JobState
from apps.jobs.models import Job
from apps.jobs.release import ReleaseRefused, job_release
from apps.printers.models import Printer
from printmgmt.ipp import Collection, PyValue
from printmgmt.ipp.client import IppClient
from tests.jobs.conftest import GREY_SIDE, wait_for_end
from tests.peers import IppEvePrinter
from tests.workers import WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.peers]


def printer_job(peer: IppEvePrinter, job: Job) -> dict[str, tuple[PyValue, ...]]:
    assert job.printer_job_id is not None
    with IppClient(peer.uri) as client:
        group = client.get_job_attributes(job.printer_job_id)
    return {attribute.name: attribute.python_values for attribute in group}


@pytest.mark.parametrize(
    ("option", "value", "finishing"),
    [
        ("org.savapage-finishings-staple", "20", 20),
        ("org.savapage-finishings-punch", "74", 74),
        ("org.savapage-finishings-fold", "93", 93),
        ("org.savapage-finishings-jog-offset", "14", 14),
    ],
)
def test_each_finishing_arrives_as_standard_finishings(
    celery_worker: WorkerProcess,
    finisher: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
    option: str,
    value: str,
    finishing: int,
) -> None:
    job = held_job(pages=2)
    job_release(job.pk, staff_user, finisher.pk, {option: value})
    done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED, done.message
    assert printer_job(finisher_peer, done)["finishings"] == (finishing,)
    assert f"[pm-{done.marker.hex}]" in str(printer_job(finisher_peer, done)["job-name"][0])


def test_booklet_goes_to_the_booklet_maker(
    celery_worker: WorkerProcess,
    finisher: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    job = held_job(pages=8)
    options = {
        "org.savapage-finishings-booklet": "toleft-totop",
        "sides": "two-sided-short-edge",
        "number-up": "2",  # a booklet puts two pages on each side
    }
    job_release(job.pk, staff_user, finisher.pk, options)
    done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED, done.message
    arrived = printer_job(finisher_peer, done)
    assert arrived["finishings"] == (13,)
    assert arrived["sides"] == ("two-sided-short-edge",)


def test_front_cover_arrives_as_cover_front_collection(
    celery_worker: WorkerProcess,
    finisher: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    job = held_job()
    options = {
        "org.savapage-cover-front-type": "print-front",
        "org.savapage-cover-front-media-source": "by-pass-tray",
    }
    job_release(job.pk, staff_user, finisher.pk, options)
    done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED, done.message
    (cover,) = printer_job(finisher_peer, done)["cover-front"]
    assert isinstance(cover, Collection)
    assert cover["cover-type"] == "print-front"
    media_col = cover["media-col"]
    assert isinstance(media_col, Collection)
    assert media_col["media-source"] == "by-pass-tray"


def test_rotate_180_turns_the_page(
    celery_worker: WorkerProcess,
    finisher: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    job = held_job()
    job_release(job.pk, staff_user, finisher.pk, {"org.savapage.int-page-rotate180": "1"})
    done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED, done.message
    arrived = printer_job(finisher_peer, done)
    assert arrived["orientation-requested"] == (6,)  # reverse-portrait
    assert not any(name.startswith("org.savapage") for name in arrived)


def test_release_charges_once_and_the_price_is_the_rule_files(
    celery_worker: WorkerProcess,
    finisher: Printer,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    job = held_job(pages=3)
    released = job_release(
        job.pk, staff_user, finisher.pk, {"org.savapage-finishings-staple": "20"}, copies=2
    )
    expected = 3 * 2 * GREY_SIDE + 2 * Decimal("0.05")
    assert released.price == expected
    with pytest.raises(ReleaseRefused, match=r"released already|not held"):
        job_release(job.pk, staff_user, finisher.pk, {"org.savapage-finishings-staple": "20"})
    done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED
    charge = job_charge(job.pk)
    assert charge is not None
    assert charge.amount == -expected
    assert charge.reason == f"print: {job.title}"
    with translation.override("de"):
        assert charge.reason_shown == f"Druck: {job.title}"
    assert job_refunded(job.pk) == 0
    assert done.transitions.count() == 5  # received, released, sending, sent, completed


def test_a_printer_kept_for_a_group_prints_only_for_its_members(
    celery_worker: WorkerProcess,
    finisher: Printer,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    physics = Group.objects.create(name="Physics")
    finisher.allowed_groups.add(physics)
    job = held_job()
    with pytest.raises(ReleaseRefused, match="you may not use printer finisher"):
        job_release(job.pk, staff_user, finisher.pk, {})
    job.refresh_from_db()
    assert job.state == JobState.HELD
    assert job_charge(job.pk) is None
    staff_user.groups.add(physics)
    job_release(job.pk, staff_user, finisher.pk, {})
    assert wait_for_end(job.pk).state == JobState.COMPLETED


def test_options_the_printer_lacks_are_refused_before_anything_is_charged(
    celery_worker: WorkerProcess,
    finisher: Printer,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    job = held_job()
    with pytest.raises(ReleaseRefused, match=r"org\.savapage-finishings-staple=24 is not offered"):
        job_release(job.pk, staff_user, finisher.pk, {"org.savapage-finishings-staple": "24"})
    with pytest.raises(ReleaseRefused, match="booklet"):
        job_release(
            job.pk, staff_user, finisher.pk, {"org.savapage-finishings-booklet": "toleft-totop"}
        )
    job.refresh_from_db()
    assert job.state == JobState.HELD
    assert job_charge(job.pk) is None
