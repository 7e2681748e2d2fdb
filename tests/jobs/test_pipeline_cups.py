"""Through a CUPS queue with a PPD: the rule file's PPD options arrive as job attributes."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.movements import account_charge
from apps.accounts.selectors import job_refunded
from apps.accounts.services import personal_account_ensure
from apps.jobs import pipeline, recovery
from apps.jobs.choices import JobState
from apps.jobs.documents import spool_path
from apps.jobs.models import Job
from apps.jobs.parts import Part
from apps.jobs.release import ReleaseRefused, job_release
from apps.jobs.services import job_transition
from apps.printers.choices import PrinterKind
from apps.printers.cups_sync import printer_import_cups
from apps.printers.editing import printer_disable
from apps.printers.models import Printer
from printmgmt.ipp.client import IppClient
from tests.jobs.conftest import OFFICE_MFP_PPD, wait_for_end
from tests.peers import Cupsd, IppEvePrinter
from tests.workers import WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.peers]

PRICE = Decimal("0.20")


def test_import_lists_the_queue_as_a_cups_printer(
    office_mfp: Printer, cups_with_mfp: Cupsd
) -> None:
    assert office_mfp.kind == PrinterKind.CUPS_QUEUE
    assert office_mfp.uri == cups_with_mfp.queue_uri("office-mfp")
    assert office_mfp.capabilities["printer-make-and-model"] == ["Example Office MFP, PDF"]
    again = printer_import_cups(cups_with_mfp.uri)
    assert again.unchanged == ["office-mfp"]
    assert not again.added


def test_ppd_options_arrive_at_cups_as_job_attributes(
    celery_worker: WorkerProcess,
    office_mfp: Printer,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    job = held_job(pages=4)
    options = {
        "org.savapage-finishings-staple": "20",
        "org.savapage-finishings-punch": "74",
        "org.savapage-cover-front-type": "print-front",
        "org.savapage-cover-front-media-source": "tray-3",
        "media": "iso_a4_210x297mm",
        "media-source": "tray-1",
    }
    released = job_release(job.pk, staff_user, office_mfp.pk, options)
    assert released.price is not None
    assert released.price > 0
    deadline = time.monotonic() + 60
    while Job.objects.get(pk=job.pk).printer_job_id is None and time.monotonic() < deadline:
        time.sleep(0.2)
    sent = Job.objects.get(pk=job.pk)
    assert sent.printer_job_id is not None, sent.message
    with IppClient(office_mfp.uri) as cups:
        arrived = {a.name: a.display() for a in cups.get_job_attributes(sent.printer_job_id)}
    assert arrived["StapleLocation"] == "TopLeft"
    assert arrived["PunchHoles"] == "Left2"
    assert arrived["CoverFront"] == "On"
    assert arrived["CoverFrontTray"] == "Tray3"
    assert arrived["CoverFrontPrint"] == "Front"
    # Mapped media go out as their PPD options, which the queue's driver reads.
    assert arrived["PageSize"] == "A4"
    assert arrived["InputSlot"] == "Tray1"
    assert not any(name.startswith("org.savapage") for name in arrived)
    done = wait_for_end(job.pk, timeout=90)
    assert done.state == JobState.COMPLETED, done.message


def test_a_raw_queue_listing_no_pdf_gets_the_pdf_as_octet_stream(
    celery_worker: WorkerProcess,
    office_mfp: Printer,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    # A raw queue passes the document on to a printer that reads it itself: told it is PDF,
    # CUPS would refuse a format the queue does not list, after the charge.
    raw = {**office_mfp.capabilities, "document-format-supported": ["application/octet-stream"]}
    Printer.objects.filter(pk=office_mfp.pk).update(capabilities=raw)
    job = held_job(pages=2)
    job_release(job.pk, staff_user, office_mfp.pk, {})
    deadline = time.monotonic() + 60
    while Job.objects.get(pk=job.pk).printer_job_id is None and time.monotonic() < deadline:
        time.sleep(0.2)
    sent = Job.objects.get(pk=job.pk)
    assert sent.printer_job_id is not None, sent.message
    with IppClient(office_mfp.uri) as cups:
        arrived = {a.name: a.display() for a in cups.get_job_attributes(sent.printer_job_id)}
    assert arrived["document-format-supplied"] == "application/octet-stream"
    assert wait_for_end(job.pk, timeout=90).state == JobState.COMPLETED


def test_a_job_given_up_is_found_at_cups_which_shows_its_name_only_to_its_owner(
    office_mfp: Printer, held_job: Callable[..., Job], staff_user: User, settings: Any
) -> None:
    settings.PRINT_MAX_ATTEMPTS = 1
    job = held_job(pages=1)
    account = personal_account_ensure(staff_user)
    account_charge(account.pk, PRICE, job_id=job.pk, user=staff_user)
    job_transition(
        job.pk, JobState.RELEASED, reason="test", printer=office_mfp, price=PRICE, account=account
    )
    # The last attempt reached CUPS (as the owner, as every send does) before its worker died.
    stale = timezone.now() - timedelta(seconds=recovery.SEND_CLAIM_SECONDS + 1)
    job_transition(
        job.pk,
        JobState.SENDING,
        reason="test",
        send_attempts=2,
        claimed_by="dead",
        claimed_at=stale,
    )
    document = spool_path(job.document_name)
    with IppClient(office_mfp.uri, user_name=staff_user.username) as cups:
        accepted = cups.print_job(
            document,
            job_name=Part("", document, []).job_name(job),
            document_format="application/pdf",
        )
    outcome = pipeline.send(job.pk, task_id="sweep")
    assert outcome.at_printer, outcome
    adopted = Job.objects.get(pk=job.pk)
    assert (adopted.state, adopted.printer_job_id) == (JobState.PROCESSING, accepted.job_id)
    assert job_refunded(job.pk) == 0


def test_a_queue_gone_from_cups_tells_the_user_why_at_release_and_for_jobs_waiting_for_it(
    office_mfp: Printer,
    cups_with_mfp: Cupsd,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    cups_with_mfp.add_queue("leaving", finisher_peer.uri, ppd=OFFICE_MFP_PPD)
    cups_with_mfp.add_queue("switched-off", finisher_peer.uri, ppd=OFFICE_MFP_PPD)
    assert printer_import_cups(cups_with_mfp.uri).added == ["leaving", "switched-off"]
    leaving = Printer.objects.get(name="leaving")
    switched_off = printer_disable(Printer.objects.get(name="switched-off").pk)
    # Released while the queue was there, not yet sent (its printer was busy, say).
    waiting = held_job(pages=1, title="waiting")
    account = personal_account_ensure(staff_user)
    account_charge(account.pk, PRICE, job_id=waiting.pk, user=staff_user)
    job_transition(
        waiting.pk,
        JobState.RELEASED,
        reason="test",
        printer=leaving,
        price=PRICE,
        account=account,
        expected_impressions=1,
    )
    for name in ("leaving", "switched-off"):
        subprocess.run(
            ["lpadmin", "-h", cups_with_mfp.host_port, "-x", name], check=True, timeout=30
        )
        cups_with_mfp.queues.remove(name)
    assert printer_import_cups(cups_with_mfp.uri).gone == ["leaving", "switched-off"]
    gone = "printer leaving no longer exists on its CUPS server"
    with pytest.raises(ReleaseRefused, match=f"{gone} .*: choose another printer"):
        job_release(held_job(pages=1).pk, staff_user, leaving.pk, {})
    # One an administrator had disabled is gone all the same, and said so.
    with pytest.raises(
        ReleaseRefused, match="printer switched-off no longer exists on its CUPS server"
    ):
        job_release(held_job(pages=1).pk, staff_user, switched_off.pk, {})
    assert str(pipeline.send(waiting.pk, task_id="next")) == "failed: printer disabled"
    failed = Job.objects.get(pk=waiting.pk)
    assert failed.state == JobState.FAILED
    assert failed.message == f"{gone} (its queue was removed or renamed there)"
    assert job_refunded(waiting.pk) == PRICE
