"""Sample held jobs for the demo users, so the inbox of a fresh `make run` is not empty."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from django.utils.translation import gettext_noop
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from apps.accounts.models import User
from apps.accounts.movements import account_deposit
from apps.accounts.services import personal_account_ensure
from apps.jobs.choices import JobSource
from apps.jobs.models import Job
from apps.jobs.services import job_create_held
from printmgmt.translatable import Text

SAMPLE_OWNERS = ("alice", "bob")
SAMPLE_CREDIT = Decimal("10.00")
SAMPLES = (("Welcome to printing", 2), ("Quarterly report (sample)", 8))


def _sample_pdf(path: Path, title: str, pages: int) -> Path:
    canvas = Canvas(str(path), pagesize=A4, invariant=True)
    canvas.setTitle(title)
    for number in range(1, pages + 1):
        canvas.setFont("Helvetica-Bold", 28)
        canvas.drawString(25 * mm, 250 * mm, title)
        canvas.setFont("Helvetica", 14)
        canvas.drawString(
            25 * mm, 235 * mm, f"Page {number} of {pages} — a sample job of the demo."
        )
        canvas.showPage()
    canvas.save()
    return path


def demo_jobs_ensure() -> list[Job]:
    """Give each sample owner with an empty inbox some credit and two held sample jobs."""
    created = []
    for user in User.objects.filter(username__in=SAMPLE_OWNERS):
        if Job.objects.filter(owner=user).exists():
            continue
        account_deposit(
            personal_account_ensure(user).pk,
            SAMPLE_CREDIT,
            actor=None,
            reason=Text(gettext_noop("demo credit")),
        )
        with tempfile.TemporaryDirectory() as folder:
            for title, pages in SAMPLES:
                pdf = _sample_pdf(Path(folder) / "sample.pdf", title, pages)
                created.append(job_create_held(user, pdf, title=title, source=JobSource.WEB))
    return created
