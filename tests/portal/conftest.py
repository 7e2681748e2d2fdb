"""People in every role, a finishing printer with priced rules, held jobs, and a PDF maker.

The printer here is a database row with the capabilities an office finisher reports, so the
Django test-client tests need no network; the browser tests start a real ippeveprinter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.accounts.movements import account_deposit
from apps.accounts.roles import FINANCE, PRINTER_ADMIN, STAFF
from apps.accounts.services import personal_account_ensure, user_create
from apps.jobs.choices import JobSource
from apps.jobs.models import Job
from apps.jobs.services import job_create_held
from apps.printers.choices import PrinterKind, PrinterState
from apps.printers.models import Printer, SidePrice
from apps.rules.models import RuleFile
from apps.rules.services import rule_file_activate, rule_file_save
from tests.jobs.conftest import FINISHER_RULES
from tests.pdfs import make_pdf

PASSWORD = "a long enough password"
PORTAL_RULES = FINISHER_RULES + (
    "*SPConstraint: no-staple-a5 org.savapage-finishings-staple/!3 media/iso_a5_148x210mm\n"
)
GREY_SIDE = Decimal("0.10")
GREY_DUPLEX_SIDE = Decimal("0.08")

# What an office finisher (apps/printers/peers.py OFFICE_FINISHER_ATTRIBUTES) reports.
OFFICE_CAPABILITIES: dict[str, list[object]] = {
    "printer-make-and-model": ["Example Finisher 9000"],
    "document-format-supported": ["application/pdf"],
    "finishings-supported": [3, 4, 13, 14, 20, 21, 22, 23, 28, 74, 75, 93],
    "finishings-default": [3],
    "cover-type-supported": ["no-cover", "print-none", "print-front", "print-back", "print-both"],
    "cover-front-supported": ["cover-type", "media", "media-col"],
    "cover-back-supported": ["cover-type", "media", "media-col"],
    "media-source-supported": ["auto", "main", "manual", "by-pass-tray"],
    "media-type-supported": ["stationery", "cardstock", "labels"],
    "sides-supported": ["one-sided", "two-sided-long-edge", "two-sided-short-edge"],
    "sides-default": ["one-sided"],
    "media-supported": ["iso_a4_210x297mm", "iso_a3_297x420mm", "iso_a5_148x210mm"],
    "media-default": ["iso_a4_210x297mm"],
    "print-color-mode-supported": ["monochrome", "color"],
    "print-color-mode-default": ["monochrome"],
    "number-up-supported": [1, 2, 4, 6, 9, 16],
    "copies-supported": [{"lower": 1, "upper": 999}],
}


@dataclass
class People:
    staff: User
    other_staff: User
    printer_admin: User
    finance: User


def person(username: str, role: object) -> User:
    user = user_create(username, PASSWORD, role=role)  # type: ignore[arg-type]
    account_deposit(personal_account_ensure(user).pk, Decimal("20.00"), actor=None, reason="test")
    return user


@pytest.fixture
def people(db: None) -> People:
    return People(
        staff=person("sam", STAFF),
        other_staff=person("olga", STAFF),
        printer_admin=person("pat", PRINTER_ADMIN),
        finance=person("fin", FINANCE),
    )


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def finisher_rule_file(text: str = PORTAL_RULES) -> RuleFile:
    version = rule_file_save("office-finisher", text)
    rule_file_activate(version.pk)
    return RuleFile.objects.get(pk=version.rule_file_id)


def rule_file_of(printer: Printer) -> RuleFile:
    assert printer.rule_file is not None
    return printer.rule_file


def office_printer(uri: str, *, name: str = "finisher", rule_file: RuleFile | None) -> Printer:
    printer = Printer.objects.create(
        name=name,
        uri=uri,
        kind=PrinterKind.DRIVERLESS,
        location="Room 12",
        rule_file=rule_file,
        capabilities=OFFICE_CAPABILITIES,
        state=PrinterState.IDLE,
    )
    for color, one, two in ((False, GREY_SIDE, GREY_DUPLEX_SIDE), (True, "0.50", "0.40")):
        SidePrice.objects.create(
            printer=printer,
            media="iso_a4_210x297mm",
            color=color,
            one_sided=Decimal(one),
            two_sided=Decimal(two),
        )
    return printer


@pytest.fixture
def printer(db: None) -> Printer:
    # Port 9 (discard) answers nobody: a printer that is never reached by these tests.
    return office_printer("ipp://127.0.0.1:9/ipp/print", rule_file=finisher_rule_file())


@pytest.fixture
def held(tmp_path: Path) -> Callable[..., Job]:
    def make(owner: User, pages: int = 3, title: str = "report") -> Job:
        return job_create_held(
            owner,
            make_pdf(tmp_path / f"{title}-{owner.pk}.pdf", pages),
            title=title,
            source=JobSource.WEB,
        )

    return make
