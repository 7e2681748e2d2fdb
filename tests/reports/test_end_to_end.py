"""A real job, released through a real Celery worker to a real ippeveprinter, ends with a
usage record whose figures and money match the job and the ledger."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.selectors import job_charge
from apps.jobs.choices import JobState
from apps.jobs.models import Job
from apps.jobs.release import job_release
from apps.printers.models import Printer
from apps.reports.figures import usage_total
from apps.reports.models import UsageRecord
from apps.reports.reconciliation import reconciliation
from apps.reports.selectors import report_request
from tests.jobs.conftest import wait_for_end
from tests.workers import WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.peers]


def test_a_printed_job_leaves_a_usage_record_with_the_right_figures(
    celery_worker: WorkerProcess,
    finisher: Printer,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    job = held_job(pages=3)
    job_release(
        job.pk,
        staff_user,
        finisher.pk,
        {"sides": "two-sided-long-edge", "org.savapage-finishings-staple": "20"},
        copies=2,
    )
    done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED, done.message

    record = UsageRecord.objects.get(job_id=job.pk)
    assert (record.username, record.printer_name) == ("sam", "finisher")
    assert record.account_name == "personal account of sam"
    assert (record.document_pages, record.copies) == (3, 2)
    assert (record.pages, record.sides, record.sheets) == (6, 6, 4)  # 2 sheets a copy
    assert record.duplex is True
    assert record.finishings == "staple=20"
    charge = job_charge(job.pk)
    assert charge is not None
    assert record.charged == -charge.amount == done.price
    assert record.charged > Decimal(0)
    assert (record.refunded, record.cost) == (Decimal("0.00"), record.charged)
    assert record.primary_group == "Staff"

    today = timezone.localdate()
    request = report_request(today, today, "printer")
    assert usage_total(request).cost == record.cost
    assert reconciliation(request).matches
