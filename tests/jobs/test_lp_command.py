"""`manage.py lp` refuses a number of copies a job cannot have, in one line, before anything
is stored; takes several files and standard input as CUPS's lp does."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from apps.accounts.models import User
from apps.accounts.roles import STAFF
from apps.accounts.services import user_create
from apps.jobs.choices import JobSource, JobState
from apps.jobs.convert import to_pdf
from apps.jobs.documents import spool_path
from apps.jobs.management.commands import lp
from apps.jobs.models import Job, message_fields
from apps.jobs.services import job_create_held, job_transition
from apps.printers.models import Printer, PrinterGroup, SidePrice
from apps.printers.services import printer_add
from printmgmt.translatable import Text
from tests.pdfs import make_pdf
from tests.peers import OFFICE_FINISHER_ATTRIBUTES, IppEvePrinter


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("copies", "message"),
    [
        ("-1", "argument -n: -1 copies: give 1 to 999"),
        ("0", "argument -n: 0 copies: give 1 to 999"),
        ("1000", "argument -n: 1000 copies: give 1 to 999"),
        ("99999999999999999999", "argument -n: 99999999999999999999 copies: give 1 to 999"),
        ("two", "argument -n: 'two' is not a whole number"),
    ],
)
def test_lp_refuses_copies_out_of_range(tmp_path: Path, copies: str, message: str) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    document = make_pdf(tmp_path / "memo.pdf", 1)
    with pytest.raises(CommandError) as error:
        call_command("lp", str(document), "-U", "sam", "-n", copies, stdout=StringIO())
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert not Job.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("timeout", "message"),
    [
        ("-1", "argument --timeout: -1: give a number of seconds above zero"),
        ("0", "argument --timeout: 0: give a number of seconds above zero"),
        ("nan", "argument --timeout: nan: give a number of seconds above zero"),
        ("inf", "argument --timeout: inf: give a number of seconds above zero"),
        ("soon", "argument --timeout: 'soon' is not a number of seconds"),
    ],
)
def test_lp_refuses_a_wait_that_is_no_time(tmp_path: Path, timeout: str, message: str) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    document = make_pdf(tmp_path / "memo.pdf", 1)
    with pytest.raises(CommandError) as error:
        call_command(
            "lp", str(document), "-U", "sam", "--timeout", timeout, "--wait", stdout=StringIO()
        )
    assert message in str(error.value)
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_ctrl_c_while_lp_waits_says_the_job_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = user_create("sam", "pw-not-used-1", role=STAFF)
    job = job_create_held(
        user, make_pdf(tmp_path / "memo.pdf", 1), title="memo", source=JobSource.COMMAND
    )
    job_transition(job.pk, JobState.RELEASED, reason="test")

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", interrupted)
    with pytest.raises(CommandError) as error:
        lp.Command()._wait([job.pk], 60)
    assert str(error.value) == f"stopped waiting: job {job.pk} is released and goes on"
    assert error.value.returncode == 130
    assert Job.objects.get(pk=job.pk).state == JobState.RELEASED


@pytest.mark.django_db
def test_lp_refuses_to_wait_for_a_held_job(tmp_path: Path) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    document = make_pdf(tmp_path / "memo.pdf", 1)
    with pytest.raises(CommandError, match="--wait needs -H immediate"):
        call_command("lp", str(document), "-U", "sam", "--wait", stdout=StringIO())
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_a_held_job_is_named_after_the_printer_asked_for(tmp_path: Path) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    Printer.objects.create(name="hall", uri="ipp://127.0.0.1:9/ipp/print")
    document = make_pdf(tmp_path / "memo.pdf", 1)
    out = StringIO()
    call_command("lp", str(document), "-U", "sam", "-d", "hall", stdout=out)
    job = Job.objects.get()
    assert out.getvalue() == f"request id is hall-{job.pk}\n"
    assert job.state == JobState.HELD
    out = StringIO()
    call_command("lp", str(document), "-U", "sam", stdout=out)
    assert out.getvalue() == f"request id is inbox-{Job.objects.latest('pk').pk}\n"
    # Printer names are the same whatever their case, as CUPS queue names are: the request id
    # names the printer as it is called, not as typed.
    out = StringIO()
    call_command("lp", str(document), "-U", "sam", "-d", "HALL", stdout=out)
    assert out.getvalue() == f"request id is hall-{Job.objects.latest('pk').pk}\n"
    PrinterGroup.objects.create(name="Floor1")
    out = StringIO()
    call_command("lp", str(document), "-U", "sam", "-d", "floor1", stdout=out)
    assert out.getvalue() == f"request id is Floor1-{Job.objects.latest('pk').pk}\n"


@pytest.mark.django_db
def test_lp_takes_what_the_inbox_takes_and_leaves_the_file_where_it_is(tmp_path: Path) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    notes = tmp_path / "notes.txt"
    notes.write_text("Reading list\n" * 100)
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (300, 200), "navy").save(photo)
    document = make_pdf(tmp_path / "memo.pdf", 1)
    for path in (notes, photo, document):
        call_command("lp", str(path), "-U", "sam", stdout=StringIO())
        assert path.exists()
    assert list(Job.objects.order_by("pk").values_list("title", "page_count")) == [
        ("notes.txt", 2),
        ("photo.jpg", 1),
        ("memo.pdf", 1),
    ]
    assert not list(tmp_path.glob("*.converted.pdf"))


@pytest.mark.django_db
def test_lp_cuts_pages_at_the_documents_end_and_refuses_pages_it_does_not_have(
    tmp_path: Path,
) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    document = make_pdf(tmp_path / "memo.pdf", 2)
    call_command("lp", str(document), "-U", "sam", "-P", "2-5", stdout=StringIO())
    assert Job.objects.get().page_ranges == "2"
    with pytest.raises(CommandError, match="the pages 5-9 name no page of this 2-page document"):
        call_command("lp", str(document), "-U", "sam", "-P", "5-9", stdout=StringIO())
    with pytest.raises(CommandError, match="“x” is not a page or a range"):
        call_command("lp", str(document), "-U", "sam", "-P", "x", stdout=StringIO())
    assert Job.objects.count() == 1


@pytest.mark.django_db
def test_lp_holds_several_files_as_one_job_of_several_documents(tmp_path: Path) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    memo = make_pdf(tmp_path / "memo.pdf", 1)
    notes = tmp_path / "notes.txt"
    notes.write_text("Reading list\n")
    report = make_pdf(tmp_path / "report.pdf", 3)
    out = StringIO()
    call_command("lp", str(memo), str(notes), str(report), "-U", "sam", "-P", "1-2", stdout=out)
    (job,) = Job.objects.all()
    assert out.getvalue() == f"request id is inbox-{job.pk}\n"
    # Named by the first file, as CUPS names such a job; -P applies to each document, cut at
    # its own last page, as CUPS's lp applies it to each file.
    assert (job.title, job.page_count, job.page_ranges) == ("memo.pdf", 5, "1,2,3-4")
    assert job.documents == [
        {"name": str(memo), "pages": 1},
        {"name": str(notes), "pages": 1},
        {"name": str(report), "pages": 3},
    ]
    assert all(path.exists() for path in (memo, notes, report))


@pytest.mark.django_db
def test_lp_holds_none_of_several_files_when_one_is_refused(tmp_path: Path) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    report = make_pdf(tmp_path / "report.pdf", 4)
    memo = make_pdf(tmp_path / "memo.pdf", 1)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(report.read_bytes()[:300])
    spool = spool_path("any.pdf").parent
    spooled = set(spool.iterdir()) if spool.exists() else set()
    for files, message in (
        ([report, broken], f"{broken}: the PDF cannot be read"),
        ([report, memo], "the pages 5-6 name no page of any of the 2 documents"),
    ):
        with pytest.raises(CommandError) as error:
            call_command("lp", *map(str, files), "-U", "sam", "-P", "5-6", stdout=StringIO())
        assert str(error.value).startswith(message)
    assert not Job.objects.exists()
    assert set(spool.iterdir()) == spooled


@pytest.mark.django_db
def test_lp_checks_the_page_limit_for_each_file_and_names_the_one_over_it(
    tmp_path: Path, settings: Any
) -> None:
    """MAX_DOCUMENT_PAGES is a document's limit: two 2-page files under a limit of 3 are one
    job of 4 pages (the whole job was counted as one PDF, refused without a name)."""
    settings.MAX_DOCUMENT_PAGES = 3
    user_create("sam", "pw-not-used-1", role=STAFF)
    two = make_pdf(tmp_path / "two.pdf", 2)
    four = make_pdf(tmp_path / "four.pdf", 4)
    call_command("lp", str(two), str(two), "-U", "sam", stdout=StringIO())
    job = Job.objects.get()
    assert (job.page_count, [document["pages"] for document in job.documents]) == (4, [2, 2])
    with pytest.raises(CommandError) as error:
        call_command("lp", str(two), str(four), str(two), "-U", "sam", stdout=StringIO())
    assert str(error.value) == f"{four}: the PDF has more than 3 pages: it is refused"
    assert Job.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("files", [[], ["-"]])
def test_lp_reads_standard_input_without_a_file_or_with_a_dash(
    tmp_path: Path, files: list[str]
) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    document = make_pdf(tmp_path / "memo.pdf", 2).read_bytes()
    out = StringIO()
    call_command("lp", *files, "-U", "sam", stdin=BytesIO(document), stdout=out)
    job = Job.objects.get()
    assert out.getvalue() == f"request id is inbox-{job.pk}\n"
    assert (job.title, job.page_count) == ("(stdin)", 2)
    assert spool_path(job.document_name).read_bytes() == document
    with pytest.raises(CommandError, match=r"^\(stdin\): the document is empty$"):
        call_command("lp", *files, "-U", "sam", stdin=BytesIO(b""), stdout=StringIO())
    with pytest.raises(CommandError, match=r"standard input \(-\) together with files"):
        call_command("lp", "-", "-", "-U", "sam", stdin=BytesIO(document), stdout=StringIO())
    assert Job.objects.count() == 1


@pytest.mark.django_db
def test_lp_refuses_a_document_over_max_document_mb(tmp_path: Path, settings: Any) -> None:
    settings.MAX_DOCUMENT_MB = 1
    user_create("sam", "pw-not-used-1", role=STAFF)
    large = tmp_path / "large.txt"
    large.write_text("A line of text to print\n" * 50_000)  # 1.2 MB
    with pytest.raises(CommandError, match=f"^{large}: larger than the 1 MB a document may be"):
        call_command("lp", str(large), "-U", "sam", stdout=StringIO())
    with pytest.raises(CommandError, match=r"^\(stdin\): larger than the 1 MB"):
        call_command("lp", "-U", "sam", stdin=BytesIO(large.read_bytes()), stdout=StringIO())
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_lp_says_why_a_job_of_several_files_stays_held(tmp_path: Path) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    Printer.objects.create(name="hall", uri="ipp://127.0.0.1:9/ipp/print", enabled=False)
    files = [str(make_pdf(tmp_path / f"memo{n}.pdf", 1)) for n in (1, 2)]
    with pytest.raises(CommandError) as error:
        call_command("lp", *files, "-U", "sam", "-d", "hall", "-H", "immediate", stdout=StringIO())
    (job,) = Job.objects.all()
    assert str(error.value).startswith(f"job {job.pk} stays held: ")
    assert (job.state, len(job.documents)) == (JobState.HELD, 2)


@pytest.mark.django_db
def test_lp_reads_several_options_in_one_o_as_cups_does(tmp_path: Path) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    document = make_pdf(tmp_path / "memo.pdf", 1)
    call_command(
        "lp", str(document), "-U", "sam",
        "-o", "sides=two-sided-long-edge  media=iso_a4_210x297mm",
        "-o", "org.savapage-job-sheets='job-start-sheet,job-end-sheet'",
        stdout=StringIO(),
    )  # fmt: skip
    assert Job.objects.get().options == {
        "sides": "two-sided-long-edge",
        "media": "iso_a4_210x297mm",
        "org.savapage-job-sheets": ["job-start-sheet", "job-end-sheet"],
    }
    for option, message in (
        ("sides=one-sided staple", "-o 'staple': write options as name=value"),
        ("media='iso_a4_210x297mm", "No closing quotation"),
        (" ", "write options as name=value"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("lp", str(document), "-U", "sam", "-o", option, stdout=StringIO())
    assert Job.objects.count() == 1


@pytest.mark.django_db
def test_lp_waiting_in_vain_says_what_the_job_waits_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = user_create("sam", "pw-not-used-1", role=STAFF)
    job = job_create_held(
        user, make_pdf(tmp_path / "memo.pdf", 1), title="memo", source=JobSource.COMMAND
    )
    waiting = "waiting for the printer: ipp://hall/ipp/print: cannot connect: refused"
    job_transition(job.pk, JobState.RELEASED, reason="test", **message_fields(Text(waiting)))
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    with pytest.raises(CommandError) as error:
        lp.Command()._wait([job.pk], 0.01)
    assert str(error.value) == f"job {job.pk} is still released after 0s ({waiting})"


@pytest.mark.django_db
def test_ctrl_c_while_lp_converts_holds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    memo = make_pdf(tmp_path / "memo.pdf", 1)
    notes = tmp_path / "notes.txt"
    notes.write_text("Reading list\n")

    def interrupted_on_text(source: Path, *args: Any, **kwargs: Any) -> Path:
        if source.suffix == ".txt":
            raise KeyboardInterrupt  # Ctrl-C while the text is laid out
        return to_pdf(source, *args, **kwargs)

    monkeypatch.setattr(lp, "to_pdf", interrupted_on_text)
    with pytest.raises(CommandError) as error:
        call_command("lp", str(memo), str(notes), "-U", "sam", stdout=StringIO())
    assert str(error.value) == "interrupted: nothing was held"
    assert error.value.returncode == 130
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_ctrl_c_while_lp_releases_names_the_jobs_left_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    Printer.objects.create(name="hall", uri="ipp://127.0.0.1:9/ipp/print")
    files = [str(make_pdf(tmp_path / f"memo{n}.pdf", 1)) for n in (1, 2)]

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(lp, "job_release", interrupted)
    with pytest.raises(CommandError) as error:
        call_command("lp", *files, "-U", "sam", "-d", "hall", "-H", "immediate", stdout=StringIO())
    (job,) = Job.objects.all()
    assert str(error.value) == f"interrupted: job {job.pk} stays held"
    assert error.value.returncode == 130


def test_every_lp_option_says_what_it_is_in_help() -> None:
    parser = lp.Command().create_parser("manage.py", "lp")
    assert [
        action.option_strings or action.dest for action in parser._actions if not action.help
    ] == []


@pytest.mark.django_db
def test_lp_holds_nothing_for_a_user_who_may_not_print(tmp_path: Path) -> None:
    document = make_pdf(tmp_path / "memo.pdf", 1)
    user_create("left", "pw-not-used-1", role=STAFF)
    User.objects.filter(username="left").update(is_active=False)
    User.objects.create_user("guest", password="pw-not-used-1")  # no role
    for username, why in (
        ("left", "left may not print: the user is deactivated"),
        ("guest", "guest may not print: no role of theirs gives the right to (Staff does)"),
    ):
        with pytest.raises(CommandError) as error:
            call_command("lp", str(document), "-U", username, stdout=StringIO())
        assert str(error.value) == why
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_lp_takes_copies_and_page_ranges_as_options_too(tmp_path: Path) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    document = make_pdf(tmp_path / "memo.pdf", 6)
    call_command(
        "lp", str(document), "-U", "sam", "-o", "copies=3 page-ranges=1-3,5",
        "-o", "sides=one-sided", stdout=StringIO(),
    )  # fmt: skip
    job = Job.objects.get()
    assert (job.copies, job.page_ranges, job.options) == (3, "1-3,5", {"sides": "one-sided"})
    call_command("lp", str(document), "-U", "sam", "-n", "2", "-o", "copies=2", stdout=StringIO())
    assert Job.objects.latest("pk").copies == 2
    for arguments, message in (
        (["-n", "2", "-o", "copies=3"], "-n 2 and -o copies=3 differ: give one"),
        (["-P", "1", "-o", "page-ranges=2"], "-P 1 and -o page-ranges=2 differ: give one"),
        (["-o", "copies=0"], "-o copies=0: 0 copies: give 1 to 999"),
    ):
        with pytest.raises(CommandError) as error:
            call_command("lp", str(document), "-U", "sam", *arguments, stdout=StringIO())
        assert str(error.value) == message
    assert Job.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "held"),
    [
        ("A4", "iso_a4_210x297mm"),
        ("letter", "na_letter_8.5x11in"),
        ("Tabloid", "na_ledger_11x17in"),
        ("iso_a5_148x210mm", "iso_a5_148x210mm"),
        ("custom_min_10x10mm", "custom_min_10x10mm"),
    ],
)
def test_lp_takes_the_media_names_cups_takes(tmp_path: Path, typed: str, held: str) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    document = make_pdf(tmp_path / "memo.pdf", 1)
    call_command("lp", str(document), "-U", "sam", "-o", f"media={typed}", stdout=StringIO())
    assert Job.objects.get().options == {"media": held}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "held"),
    [
        ("standard", {"org.savapage-job-sheets": "job-start-sheet"}),
        ("none,classified", {"org.savapage-job-sheets": "job-end-sheet"}),
        ("standard,standard", {"org.savapage-job-sheets": ["job-start-sheet", "job-end-sheet"]}),
        ("none", {}),
        ("none,none", {}),
    ],
)
def test_lp_takes_cups_job_sheets_as_our_job_sheets(
    tmp_path: Path, typed: str, held: dict[str, Any]
) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    document = make_pdf(tmp_path / "memo.pdf", 1)
    call_command("lp", str(document), "-U", "sam", "-o", f"job-sheets={typed}", stdout=StringIO())
    assert Job.objects.get().options == held
    with pytest.raises(CommandError, match=r"-o job-sheets and -o org\.savapage-job-sheets are"):
        call_command(
            "lp", str(document), "-U", "sam", "-o", f"job-sheets={typed}",
            "-o", "org.savapage-job-sheets=job-end-sheet", stdout=StringIO(),
        )  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "held"),
    [
        (["-o", "fit-to-page sides=one-sided"], {"print-scaling": "fit", "sides": "one-sided"}),
        (["-o", "fit-to-page=true"], {"print-scaling": "fit"}),
        (["-o", "collate"], {"sheet-collate": "collated"}),
        (["-o", "nocollate"], {"sheet-collate": "uncollated"}),
        (["-o", "collate=false"], {"sheet-collate": "uncollated"}),
    ],
)
def test_lp_takes_the_options_cups_takes_without_a_value(
    tmp_path: Path, typed: list[str], held: dict[str, str]
) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    document = make_pdf(tmp_path / "memo.pdf", 1)
    call_command("lp", str(document), "-U", "sam", *typed, stdout=StringIO())
    assert Job.objects.get().options == held


@pytest.mark.django_db
def test_lp_refuses_an_option_without_a_value_it_does_not_know_naming_it(tmp_path: Path) -> None:
    user_create("sam", "pw-not-used-1", role=STAFF)
    document = make_pdf(tmp_path / "memo.pdf", 1)
    for arguments, message in (
        (
            ["-o", "staple"],
            "-o 'staple': write options as name=value (without a value, lp takes collate, "
            "fit-to-page, nocollate)",
        ),
        (["-o", "nofit-to-page"], "-o 'nofit-to-page': write options as name=value"),
        (["-o", "fit-to-page=false"], "-o fit-to-page=false: write -o fit-to-page"),
        (["-o", "Landscape"], "-o 'Landscape': each page prints as the document lays it out"),
        (["-o", "portrait"], "-o 'portrait': each page prints as the document lays it out"),
        (
            ["-o", "fit-to-page", "-o", "print-scaling=none"],
            "-o fit-to-page and -o print-scaling=none both set print-scaling: give one",
        ),
    ):
        with pytest.raises(CommandError) as error:
            call_command("lp", str(document), "-U", "sam", *arguments, stdout=StringIO())
        assert str(error.value).startswith(message)
    assert not Job.objects.exists()


@pytest.mark.peers
def test_a_printer_takes_the_cups_options_it_offers_and_refuses_the_others_naming_them(
    finisher: Printer,
    staff_user: User,
    ippeveprinter_factory: Callable[..., IppEvePrinter],
    tmp_path: Path,
) -> None:
    """Released at once, an option without a value is checked as the attribute it stands for:
    on a printer that does not offer it, refused as that attribute typed out is."""
    scaling_peer = ippeveprinter_factory(
        name="Scaler",
        attributes=OFFICE_FINISHER_ATTRIBUTES
        + "ATTR keyword print-scaling-supported auto,fit,fill,none\n",
    )
    scaler = printer_add("scaler", scaling_peer.uri, rule_file=finisher.rule_file)
    SidePrice.objects.create(
        printer=scaler, media="iso_a4_210x297mm", color=False, one_sided=Decimal("0.1"),
        two_sided=Decimal("0.1"),
    )  # fmt: skip
    document = make_pdf(tmp_path / "memo.pdf", 1)
    call_command(
        "lp", str(document), "-U", "sam", "-d", "scaler", "-H", "immediate",
        "-o", "fit-to-page", stdout=StringIO(),
    )  # fmt: skip
    released = Job.objects.get()
    assert released.state != JobState.HELD
    assert released.options["print-scaling"] == "fit"
    for printer, typed, refusal in (
        ("finisher", "fit-to-page", "print-scaling=fit is not offered by this printer"),
        ("scaler", "nocollate", "sheet-collate=uncollated is not offered by this printer"),
    ):
        with pytest.raises(CommandError) as error:
            call_command(
                "lp", str(document), "-U", "sam", "-d", printer, "-H", "immediate",
                "-o", typed, stdout=StringIO(),
            )  # fmt: skip
        assert str(error.value).endswith(f"stays held: {refusal}")
