"""Follow-me: a job released to a printer group goes to a printer that can print it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import User
from apps.jobs.models import Job
from apps.jobs.release import ReleaseRefused, printer_for_group
from apps.printers.models import Printer, PrinterGroup, SidePrice
from apps.printers.services import printer_add
from tests.pdfs import make_pdf
from tests.peers import OFFICE_FINISHER_ATTRIBUTES, IppEvePrinter

pytestmark = pytest.mark.peers

STAPLE = {"org.savapage-finishings-staple": "20"}


@pytest.fixture
def floor(finisher: Printer, ippeveprinter_factory: Callable[..., IppEvePrinter]) -> PrinterGroup:
    """A group of a plain printer ("a-plain", first by name: no stapler) and the finisher."""
    plain_peer = ippeveprinter_factory(
        name="Plain",
        attributes=OFFICE_FINISHER_ATTRIBUTES.replace("3,4,13,14,20,21,22,23,28,", "3,"),
    )
    plain = printer_add("a-plain", plain_peer.uri, rule_file=finisher.rule_file)
    for color in (False, True):
        SidePrice.objects.create(
            printer=plain, media="iso_a4_210x297mm", color=color, one_sided=Decimal("0.1"),
            two_sided=Decimal("0.1"),
        )  # fmt: skip
    group = PrinterGroup.objects.create(name="floor-2")
    group.printers.set([plain, finisher])
    return group


def test_the_first_printer_that_can_print_it_is_chosen(
    floor: PrinterGroup, held_job: Callable[..., Job], staff_user: User
) -> None:
    job = held_job()
    assert printer_for_group(job, staff_user, floor, {}).name == "a-plain"
    assert printer_for_group(job, staff_user, floor, STAPLE).name == "finisher"


def test_a_group_where_no_printer_can_says_why_for_each(
    floor: PrinterGroup, held_job: Callable[..., Job], staff_user: User
) -> None:
    job = held_job()
    with pytest.raises(ReleaseRefused, match=r"no printer of floor-2 .*a-plain: .*\| finisher: "):
        printer_for_group(job, staff_user, floor, {"org.savapage-finishings-staple": "24"})
    floor.printers.update(enabled=False)
    with pytest.raises(ReleaseRefused, match="a-plain is disabled"):
        printer_for_group(job, staff_user, floor, {})


def test_lp_to_a_group_holds_or_releases_through_follow_me(
    floor: PrinterGroup, staff_user: User, tmp_path: Path
) -> None:
    document = make_pdf(tmp_path / "memo.pdf", 1)
    out = StringIO()
    call_command(
        "lp", str(document), "-U", "sam", "-d", "floor-2", "-o",
        "org.savapage-finishings-staple=20", "-H", "immediate", stdout=out,
    )  # fmt: skip
    job = Job.objects.get()
    assert out.getvalue().strip() == f"request id is finisher-{job.pk}"
    assert job.printer is not None
    assert job.printer.name == "finisher"
    with pytest.raises(CommandError, match="stays held: no printer of floor-2"):
        call_command(
            "lp", str(document), "-U", "sam", "-d", "floor-2", "-o",
            "org.savapage-finishings-staple=24", "-H", "immediate", stdout=StringIO(),
        )  # fmt: skip


def test_lp_finds_a_group_whatever_the_case_of_its_name(
    floor: PrinterGroup, staff_user: User, tmp_path: Path
) -> None:
    """Printer names are found so; a group's was refused as unknown."""
    document = make_pdf(tmp_path / "memo.pdf", 1)
    out = StringIO()
    call_command(
        "lp", str(document), "-U", "sam", "-d", "FLOOR-2", "-H", "immediate", stdout=out
    )  # fmt: skip
    job = Job.objects.get()
    assert out.getvalue().strip() == f"request id is a-plain-{job.pk}"
