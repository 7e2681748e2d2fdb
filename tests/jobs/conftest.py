"""A user with money, a finishing printer with a rule file, and a way to wait for jobs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from apps.accounts.models import User
from apps.accounts.movements import account_charge, account_deposit
from apps.accounts.roles import STAFF
from apps.accounts.services import personal_account_ensure, user_create
from apps.jobs.choices import TERMINAL_STATES, JobSource, JobState
from apps.jobs.models import Job
from apps.jobs.services import job_create_held, job_transition
from apps.printers.cups_sync import printer_import_cups
from apps.printers.models import Printer, SidePrice
from apps.printers.services import printer_add
from apps.rules.services import rule_file_activate, rule_file_import, rule_file_save
from tests.pdfs import make_pdf
from tests.peers import (
    OFFICE_FINISHER_ATTRIBUTES,
    Cupsd,
    IppEvePrinter,
    run_cupsd,
    run_ippeveprinter,
)

FINISHER_RULES = """\
# Rules for the test finisher: every extension finishing and a front cover, each priced.
*Staple org.savapage-finishings-staple
*Staple *None 3
*Staple TopLeft 20
*Punch org.savapage-finishings-punch
*Punch *None 3
*Punch DualLeft 74
*Fold org.savapage-finishings-fold
*Fold *None 3
*Fold Half 93
*Booklet org.savapage-finishings-booklet
*Booklet *None none
*Booklet Left toleft-totop
*Jog org.savapage-finishings-jog-offset
*Jog *Off 3
*Jog On 14
*SPJob/Copy: org.savapage-cover-front-type *no-cover print-front
*SPJob/Copy: org.savapage-cover-front-media-source *by-pass-tray main
*SPJob/Copy/Cost: 0.05 staple org.savapage-finishings-staple/20
*SPJob/Copy/Cost: 0.04 punch org.savapage-finishings-punch/74
*SPJob/Copy/Cost: 0.03 fold org.savapage-finishings-fold/93
*SPJob/Copy/Cost: 0.25 booklet org.savapage-finishings-booklet/toleft-totop
*SPJob/Copy/Cost: 0.01 jog org.savapage-finishings-jog-offset/14
*SPJob/Copy/Cost: 0.20 cover org.savapage-cover-front-type/print-front
"""

ROOT = Path(__file__).resolve().parents[2]
OFFICE_MFP_PPD = ROOT / "ppdrules" / "office-mfp.ppd"
OFFICE_MFP_RULES = ROOT / "ppdrules" / "office-mfp-ppd.ppde"
GREY_SIDE = Decimal("0.10")
GREY_DUPLEX_SIDE = Decimal("0.08")


@pytest.fixture(scope="module")
def finisher_peer() -> Iterator[IppEvePrinter]:
    with run_ippeveprinter(name="Duplex Finisher", attributes=OFFICE_FINISHER_ATTRIBUTES) as peer:
        yield peer


@pytest.fixture(scope="module")
def cups_with_mfp(finisher_peer: IppEvePrinter) -> Iterator[Cupsd]:
    """A private cupsd with the office MFP's PPD queue, printing to the module's finisher."""
    with run_cupsd(with_auth=False) as server:
        server.add_queue("office-mfp", finisher_peer.uri, ppd=OFFICE_MFP_PPD)
        yield server


@pytest.fixture
def office_mfp(transactional_db: None, cups_with_mfp: Cupsd) -> Printer:
    """That queue imported as a printer, with its rule file."""
    rule_file = rule_file_import(OFFICE_MFP_RULES).rule_file
    report = printer_import_cups(cups_with_mfp.uri, rule_file=rule_file)
    assert report.added == ["office-mfp"]
    return Printer.objects.get(name="office-mfp")


@pytest.fixture
def staff_user(transactional_db: None) -> User:
    user = user_create("sam", "a long enough password", role=STAFF)
    account_deposit(personal_account_ensure(user).pk, Decimal("50.00"), actor=None, reason="test")
    return user


@pytest.fixture
def finisher(transactional_db: None, finisher_peer: IppEvePrinter) -> Printer:
    version = rule_file_save("test-finisher", FINISHER_RULES)
    rule_file_activate(version.pk)
    printer = printer_add("finisher", finisher_peer.uri, rule_file=version.rule_file)
    media = printer.capabilities["media-default"][0]
    for color, one, two in (
        (False, GREY_SIDE, GREY_DUPLEX_SIDE),
        (True, Decimal("0.5"), Decimal("0.4")),
    ):
        SidePrice.objects.create(
            printer=printer, media=media, color=color, one_sided=one, two_sided=two
        )
    return printer


@pytest.fixture
def held_job(staff_user: User, tmp_path: Path) -> Callable[..., Job]:
    def make(pages: int = 3, title: str = "report") -> Job:
        return job_create_held(
            staff_user,
            make_pdf(tmp_path / f"{title}.pdf", pages),
            title=title,
            source=JobSource.WEB,
        )

    return make


#: What `released` charged its job.
RELEASED_PRICE = Decimal("0.20")


@pytest.fixture
def released(
    held_job: Callable[..., Job], staff_user: User, finisher: Printer
) -> Callable[[], Job]:
    """A job released and charged as job_release leaves it, but queued for no worker: each
    test drives the pipeline's steps itself."""

    def make() -> Job:
        return charged_and_released(held_job(pages=1), finisher, expected_impressions=1)

    return make


def charged_and_released(
    job: Job, printer: Printer, price: Decimal = RELEASED_PRICE, **fields: Any
) -> Job:
    """`job` charged to its owner and released to `printer` as job_release leaves it, but
    queued for no worker: the test sends it, or queues it where it wants."""
    account = personal_account_ensure(job.owner)
    account_charge(account.pk, price, job_id=job.pk, user=job.owner)
    job_transition(
        job.pk,
        JobState.RELEASED,
        reason="test",
        printer=printer,
        price=price,
        account=account,
        **fields,
    )
    return Job.objects.get(pk=job.pk)


def wait_for_end(job_id: int, timeout: float = 60.0) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.state in TERMINAL_STATES:
            return job
        time.sleep(0.2)
    job = Job.objects.get(pk=job_id)
    raise AssertionError(f"job {job_id} still {job.state} after {timeout}s: {job.message}")
