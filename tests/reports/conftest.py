"""A small print history with charges, refunds and adjustments, made through the real
services and ended through the pipeline's finish() (which writes the usage records)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from apps.accounts.models import Account, User
from apps.accounts.movements import account_adjust, account_charge, account_deposit, account_refund
from apps.accounts.roles import FINANCE, PRINTER_ADMIN, STAFF
from apps.accounts.services import personal_account_ensure, shared_account_create, user_create
from apps.jobs.choices import JobSource, JobState
from apps.jobs.endings import finish
from apps.jobs.models import Job
from apps.jobs.services import job_create_held, job_transition
from apps.printers.choices import PrinterKind
from apps.printers.models import Printer
from printmgmt.translatable import Text
from tests.jobs.conftest import finisher, finisher_peer, held_job, staff_user  # noqa: F401
from tests.pdfs import make_pdf

PASSWORD = "a long enough password"


@dataclass
class History:
    """Who and what the history is made of, and the day it happened."""

    alice: User
    bob: User
    carol: User
    admin: User
    finance: User
    staff_only: User
    laser: Printer
    colour: Printer
    project: Account
    jobs: dict[str, Job]
    day: datetime


def _printer(name: str) -> Printer:
    return Printer.objects.create(
        name=name, uri=f"ipp://127.0.0.1:9/ipp/{name}", kind=PrinterKind.DRIVERLESS
    )


@pytest.fixture
def print_job(tmp_path: Path) -> Callable[..., Job]:
    """A job printed (or not) to the end: held, charged, released, sent, finished."""

    def make(
        owner: User,
        printer: Printer,
        *,
        price: str,
        pages: int = 4,
        copies: int = 1,
        options: dict[str, Any] | None = None,
        account: Account | None = None,
        end: JobState = JobState.COMPLETED,
        impressions_completed: int | None = None,
    ) -> Job:
        document = make_pdf(tmp_path / f"doc-{Job.objects.count()}.pdf", pages)
        job = job_create_held(owner, document, title="doc", source=JobSource.WEB)
        chosen = options or {}
        sides = pages * copies  # one page a side: no n-up in these jobs
        charged_to = account or personal_account_ensure(owner)
        account_charge(charged_to.pk, Decimal(price), job_id=job.pk, user=owner, reason="print")
        job_transition(
            job.pk,
            JobState.RELEASED,
            reason="released",
            printer=printer,
            options=chosen,
            copies=copies,
            price=Decimal(price),
            account=charged_to,
            expected_impressions=sides,
        )
        job_transition(job.pk, JobState.SENDING, reason="sending")
        job_transition(job.pk, JobState.PROCESSING, reason="sent", printer_job_id=job.pk)
        if impressions_completed is not None:
            Job.objects.filter(pk=job.pk).update(impressions_completed=impressions_completed)
        ended = finish(job.pk, end, Text(f"printer says {end}"))
        assert ended is not None
        return ended

    return make


@pytest.fixture
def history(db: None, print_job: Callable[..., Job]) -> History:
    """Alice (groups Design and Sales) prints on her account and the shared project account,
    Bob (Sales) has a failed job refunded in full and a canceled job refunded in part, Carol
    (no department) prints colour; an admin adjusts Bob's balance."""
    design = Group.objects.create(name="Design")
    sales = Group.objects.create(name="Sales")
    admin = user_create("admin", PASSWORD, role=PRINTER_ADMIN)
    alice = user_create("alice", PASSWORD, role=STAFF)
    alice.groups.add(design, sales)
    bob = user_create("bob", PASSWORD, role=STAFF)
    bob.groups.add(sales)
    carol = user_create("carol", PASSWORD, role=STAFF)
    finance = user_create("fiona", PASSWORD, role=FINANCE)
    staff_only = user_create("sam", PASSWORD, role=STAFF)
    for person in (alice, bob, carol):
        account_deposit(personal_account_ensure(person).pk, Decimal("100"), actor=admin)
    project = shared_account_create("Project X", actor=admin, groups=[design])
    account_deposit(project.pk, Decimal("100"), actor=admin)
    laser, colour = _printer("laser"), _printer("colour")
    jobs = {
        "alice-simplex": print_job(alice, laser, price="0.40", pages=4),
        "alice-duplex": print_job(
            alice,
            laser,
            price="1.20",
            pages=5,
            copies=3,
            options={"sides": "two-sided-long-edge", "media": "iso_a4_210x297mm"},
            account=project,
        ),
        "bob-failed": print_job(bob, laser, price="0.30", pages=3, end=JobState.FAILED),
        "bob-canceled": print_job(
            bob, colour, price="1.00", pages=10, end=JobState.CANCELED, impressions_completed=4
        ),
        "carol-colour": print_job(
            carol,
            colour,
            price="2.50",
            pages=5,
            options={"print-color-mode": "color", "org.savapage-finishings-staple": "20"},
        ),
    }
    account_adjust(
        personal_account_ensure(bob).pk, Decimal("-2.00"), actor=admin, reason="paper jam fee"
    )
    return History(
        alice, bob, carol, admin, finance, staff_only, laser, colour, project, jobs,
        jobs["alice-simplex"].state_changed_at,
    )  # fmt: skip


@pytest.fixture
def late_refund(history: History) -> Decimal:
    """An admin gives back part of a completed job after it ended (not in its usage record)."""
    amount = Decimal("0.10")
    account_refund(
        history.jobs["alice-simplex"].pk,
        amount,
        reason="smudged page",
        user=history.admin,
        key="desk-1",
    )
    return amount


@pytest.fixture
def finance_client(history: History) -> Client:
    client = Client()
    client.force_login(history.finance)
    return client
