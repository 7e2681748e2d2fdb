"""Nothing is charged for what did not print: an end sheet the printer refused, a finishing or
cover it ignored. Real parts: jobs released and charged by job_release, sent to a real
ippeveprinter through a front that refuses the end sheet or says it ignored what it was
asked, and ended by a Celery worker (another process than the one that sent them, when the
test sends them itself)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

import httpx
import pytest
from django.utils import translation

from apps.accounts.choices import EntryKind
from apps.accounts.errors import RefundExceedsCharge
from apps.accounts.models import LedgerEntry, User
from apps.accounts.movements import account_refund
from apps.accounts.selectors import job_charge, job_refunded, personal_account_of
from apps.jobs import pipeline
from apps.jobs.cancel import canceled_by
from apps.jobs.choices import JobState
from apps.jobs.endings import UNPRINTED_REFUND_KEY, finish
from apps.jobs.models import Job
from apps.jobs.release import job_release
from apps.jobs.tasks import follow_job
from apps.printers.models import Printer, SidePrice
from apps.printers.services import printer_add
from apps.reports.models import UsageRecord
from apps.rules.services import rule_file_activate, rule_file_save
from printmgmt.ipp import Attribute, AttributeGroup, GroupTag, Operation, Status
from printmgmt.ipp.codec import decode, encode
from printmgmt.ipp.model import Message
from printmgmt.translatable import Text
from tests.jobs.conftest import FINISHER_RULES, GREY_SIDE, charged_and_released, wait_for_end
from tests.peers import IppEvePrinter, http_request_body, send_ipp_answer
from tests.workers import WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.peers]

#: The test finisher's rules, with job sheets that cost 0.05 each.
RULES = (
    FINISHER_RULES
    + "*SPJobTicket/Set: org.savapage-job-sheets *none job-start-sheet job-end-sheet\n"
    + "*SPJobTicket/Set/Cost: 0.05 start-sheet org.savapage-job-sheets/job-start-sheet\n"
    + "*SPJobTicket/Set/Cost: 0.05 end-sheet org.savapage-job-sheets/job-end-sheet\n"
)
STAPLE = {"org.savapage-finishings-staple": "20"}
END_SHEET = {"org.savapage-job-sheets": "job-end-sheet"}
SHEET_PRICE = Decimal("0.05")
STAPLE_PRICE = Decimal("0.05")
COVER_PRICE = Decimal("0.20")
COMPLETED = Text("printer says completed: %(message)s", {"message": "done"})


@pytest.fixture
def sheets_printer(transactional_db: None, finisher_peer: IppEvePrinter) -> Printer:
    version = rule_file_save("sheets-finisher", RULES)
    rule_file_activate(version.pk)
    printer = printer_add("sheets-finisher", finisher_peer.uri, rule_file=version.rule_file)
    media = printer.capabilities["media-default"][0]
    for color, price in ((False, GREY_SIDE), (True, Decimal("0.50"))):
        SidePrice.objects.create(
            printer=printer, media=media, color=color, one_sided=price, two_sided=price
        )
    return printer


class _Front(http.server.BaseHTTPRequestHandler):
    """The test printer behind a front: Print-Job of an end sheet answered with an error
    (`refuse_end_sheet`), the job itself's answered as having ignored `ignored` (attribute
    name and enum values); everything else passed on as it is."""

    target = ""
    refuse_end_sheet = False
    ignored: tuple[tuple[str, tuple[int, ...]], ...] = ()

    def do_POST(self) -> None:
        request = http_request_body(self)
        print_job = int.from_bytes(request[2:4], "big") == Operation.PRINT_JOB
        request_id = int.from_bytes(request[4:8], "big")
        if print_job and self.refuse_end_sheet and b"-end]" in request:
            answer = Message.response(Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED, request_id)
            send_ipp_answer(self, encode(answer))
            return
        body = httpx.post(
            self.target, content=request, headers={"Content-Type": "application/ipp"}
        ).content
        is_a_sheet = b"-end]" in request or b"-start]" in request
        if print_job and self.ignored and not is_a_sheet:
            answer = decode(body)
            if answer.status_code == Status.SUCCESSFUL_OK:
                unsupported = AttributeGroup(
                    GroupTag.UNSUPPORTED,
                    tuple(
                        Attribute.enum(name, *values)
                        if values
                        else Attribute.out_of_band(name, 0x10)
                        for name, values in self.ignored
                    ),
                )
                body = encode(
                    Message(
                        answer.version,
                        Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES,
                        answer.request_id,
                        (*answer.groups, unsupported),
                    )
                )
        send_ipp_answer(self, body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextmanager
def _front(
    printer: Printer,
    peer: IppEvePrinter,
    *,
    refuse_end_sheet: bool = False,
    ignored: tuple[tuple[str, tuple[int, ...]], ...] = (),
) -> Iterator[None]:
    handler = type(
        "Front",
        (_Front,),
        {
            "target": peer.uri.replace("ipp://", "http://", 1),
            "refuse_end_sheet": refuse_end_sheet,
            "ignored": ignored,
        },
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    uri = printer.uri
    Printer.objects.filter(pk=printer.pk).update(
        uri=f"ipp://127.0.0.1:{server.server_address[1]}/ipp/print"
    )
    try:
        yield
    finally:
        Printer.objects.filter(pk=printer.pk).update(uri=uri)
        server.shutdown()


def _refunds(job: Job) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(kind=EntryKind.REFUND, job_id=job.pk).order_by("pk"))


def _balance(user: User) -> Decimal:
    account = personal_account_of(user)
    assert account is not None
    account.refresh_from_db()
    return account.balance


def test_a_job_whose_end_sheet_the_printer_refused_gets_the_sheets_price_back(
    celery_worker: WorkerProcess,
    sheets_printer: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    job = held_job(pages=2)
    before = _balance(staff_user)
    with _front(sheets_printer, finisher_peer, refuse_end_sheet=True):
        released = job_release(job.pk, staff_user, sheets_printer.pk, END_SHEET, copies=2)
        assert released.price == 2 * 2 * GREY_SIDE + SHEET_PRICE  # the sheet once a job
        done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED, done.message
    assert done.not_done == [{"option": "org.savapage-job-sheets", "value": "job-end-sheet"}]
    (refund,) = _refunds(done)
    assert (refund.amount, refund.idempotency_key) == (SHEET_PRICE, UNPRINTED_REFUND_KEY)
    assert refund.reason == "not printed: the end sheet"
    with translation.override("de"):
        assert refund.reason_shown == "nicht gedruckt: das Trennblatt am Ende"
    assert _balance(staff_user) == before - released.price + SHEET_PRICE
    # The user is told, after what the printer said.
    assert done.message.startswith("the end sheet was not printed: "), done.message
    assert "; printer says completed: " in done.message
    assert done.message.endswith("; refunded for what was not done: the end sheet")
    # Its usage record costs what was kept.
    assert UsageRecord.objects.get(job_id=job.pk).cost == released.price - SHEET_PRICE


def test_a_job_whose_staple_the_printer_ignored_gets_the_staples_price_back(
    celery_worker: WorkerProcess,
    sheets_printer: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    job = held_job(pages=3)
    before = _balance(staff_user)
    with _front(sheets_printer, finisher_peer, ignored=(("finishings", (20,)),)):
        released = job_release(job.pk, staff_user, sheets_printer.pk, STAPLE, copies=2)
        assert released.price == 3 * 2 * GREY_SIDE + 2 * STAPLE_PRICE
        done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED, done.message
    assert done.not_done == [
        {"option": "org.savapage-finishings-staple", "value": "20", "attribute": "finishings"}
    ]
    (refund,) = _refunds(done)
    assert refund.amount == 2 * STAPLE_PRICE  # a staple a copy
    assert refund.reason == "not done by the printer: staple"
    with translation.override("de"):
        assert refund.reason_shown == "vom Drucker nicht ausgeführt: Heften"
    assert _balance(staff_user) == before - released.price + 2 * STAPLE_PRICE
    assert done.message.startswith("the printer ignored: finishings; printer says completed: ")
    assert done.message.endswith("; refunded for what was not done: staple")


def test_an_ignored_cover_and_an_attribute_of_no_option_of_ours(
    celery_worker: WorkerProcess,
    sheets_printer: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    job = held_job(pages=3)
    options = {
        **STAPLE,
        "org.savapage-cover-front-type": "print-front",
        "org.savapage-cover-front-media-source": "by-pass-tray",
    }
    ignored = (("cover-front", ()), ("media-col", ()))
    with _front(sheets_printer, finisher_peer, ignored=ignored):
        released = job_release(job.pk, staff_user, sheets_printer.pk, options)
        # Page 1 on the cover: two sides on the paper.
        assert released.price == 2 * GREY_SIDE + STAPLE_PRICE + COVER_PRICE
        done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED, done.message
    # The staple was done; without its cover, page 1 printed on the paper, which is charged.
    (refund,) = _refunds(done)
    assert refund.amount == COVER_PRICE - GREY_SIDE
    assert refund.reason == "not done by the printer: front cover"
    assert done.message.startswith("the printer ignored: cover-front, media-col; ")


def test_a_job_the_printer_did_all_of_keeps_its_whole_charge(
    celery_worker: WorkerProcess,
    sheets_printer: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    job = held_job(pages=2)
    with _front(sheets_printer, finisher_peer):
        released = job_release(job.pk, staff_user, sheets_printer.pk, {**STAPLE, **END_SHEET})
        done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED, done.message
    assert released.price == 2 * GREY_SIDE + STAPLE_PRICE + SHEET_PRICE
    assert (done.not_done, _refunds(done)) == ([], [])
    assert "refunded" not in done.message


def _priced(options: dict[str, str], printer: Printer) -> dict[str, str]:
    """`options` as a release prices them: with the printer's paper and black and white."""
    return {
        "media": printer.capabilities["media-default"][0],
        "print-color-mode": "monochrome",
        **options,
    }


def _sent_here(job_id: int) -> Job:
    """The job sent by this process; its end is left to the worker."""
    assert pipeline.send(job_id, task_id="here").at_printer
    sent = Job.objects.get(pk=job_id)
    assert sent.state == JobState.PROCESSING
    return sent


def test_an_end_sheet_refused_and_a_staple_ignored_are_refunded_together(
    celery_worker: WorkerProcess,
    sheets_printer: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    job = held_job(pages=2)
    ignored = (("finishings", ()),)  # without its values: all the finishings sent
    with _front(sheets_printer, finisher_peer, refuse_end_sheet=True, ignored=ignored):
        released = job_release(
            job.pk, staff_user, sheets_printer.pk, {**STAPLE, **END_SHEET}, copies=3
        )
        done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED, done.message
    (refund,) = _refunds(done)
    assert refund.amount == SHEET_PRICE + 3 * STAPLE_PRICE
    assert refund.reason == "not printed: the end sheet; not done by the printer: staple"
    assert released.price is not None
    assert job_refunded(job.pk) < released.price


def test_a_job_sent_by_one_process_is_refunded_by_the_worker_that_ends_it(
    celery_worker: WorkerProcess,
    sheets_printer: Printer,
    finisher_peer: IppEvePrinter,
    held_job: Callable[..., Job],
    staff_user: User,
) -> None:
    job = held_job(pages=2)
    price = 2 * GREY_SIDE + STAPLE_PRICE + SHEET_PRICE
    released = charged_and_released(
        job,
        sheets_printer,
        price,
        options=_priced({**STAPLE, **END_SHEET}, sheets_printer),
        expected_impressions=2,
    )
    ignored = (("finishings", ()),)
    with _front(sheets_printer, finisher_peer, refuse_end_sheet=True, ignored=ignored):
        _sent_here(released.pk)
    # This process is gone as far as the job knows: the worker follows it to its end.
    follow_job.delay(job.pk)
    done = wait_for_end(job.pk)
    assert done.state == JobState.COMPLETED, done.message
    (refund,) = _refunds(done)
    assert refund.amount == SHEET_PRICE + STAPLE_PRICE
    assert refund.reason == "not printed: the end sheet; not done by the printer: staple"


def _ignored_staple_sent(
    held_job: Callable[..., Job], printer: Printer, peer: IppEvePrinter, *, impressions: int = 2
) -> Job:
    price = 2 * GREY_SIDE + STAPLE_PRICE
    job = charged_and_released(
        held_job(pages=2),
        printer,
        price,
        options=_priced(STAPLE, printer),
        expected_impressions=impressions,
    )
    with _front(printer, peer, ignored=(("finishings", (20,)),)):
        return _sent_here(job.pk)


def test_a_job_that_then_fails_is_refunded_its_charge_once_not_more(
    sheets_printer: Printer, finisher_peer: IppEvePrinter, held_job: Callable[..., Job]
) -> None:
    sent = _ignored_staple_sent(held_job, sheets_printer, finisher_peer)
    assert sent.not_done
    aborted = Text("printer says aborted: %(message)s", {"message": "jam"})
    ended = finish(sent.pk, JobState.FAILED, aborted)
    assert ended is not None
    (refund,) = _refunds(sent)
    assert refund.amount == sent.price
    assert job_refunded(sent.pk) == sent.price
    assert "refunded for what was not done" not in ended.message


def test_a_job_canceled_part_printed_gets_the_ignored_staple_and_the_unprinted_sides_back(
    sheets_printer: Printer, finisher_peer: IppEvePrinter, held_job: Callable[..., Job]
) -> None:
    sent = _ignored_staple_sent(held_job, sheets_printer, finisher_peer, impressions=2)
    ended = finish(sent.pk, JobState.CANCELED, canceled_by("sam"), impressions_completed=1)
    assert ended is not None
    assert sent.price is not None
    # The staple, and half of the rest: one side of two did not print.
    assert job_refunded(sent.pk) == STAPLE_PRICE + (sent.price - STAPLE_PRICE) / 2


def test_a_job_refunded_by_hand_is_refunded_at_most_its_charge_in_all(
    sheets_printer: Printer, finisher_peer: IppEvePrinter, held_job: Callable[..., Job]
) -> None:
    sent = _ignored_staple_sent(held_job, sheets_printer, finisher_peer)
    assert sent.price is not None
    # The desk gave back the staple it saw missing, before the job ended.
    account_refund(sent.pk, STAPLE_PRICE, reason="no staple, refunded at the desk", key="desk")
    ended = finish(sent.pk, JobState.COMPLETED, COMPLETED)
    assert ended is not None
    assert job_refunded(sent.pk) == STAPLE_PRICE  # not twice
    assert "refunded for what was not done" not in ended.message
    # Later, all that is left by hand: the charge, in all, and never more.
    account_refund(sent.pk, reason="reprinted elsewhere", key="later")
    assert job_refunded(sent.pk) == sent.price
    with pytest.raises(RefundExceedsCharge):
        account_refund(sent.pk, Decimal("0.01"), reason="once more", key="again")
    charge = job_charge(sent.pk)
    assert charge is not None
    assert -charge.amount == job_refunded(sent.pk)


def test_the_end_runs_its_refund_once_whatever_retries(
    sheets_printer: Printer, finisher_peer: IppEvePrinter, held_job: Callable[..., Job]
) -> None:
    sent = _ignored_staple_sent(held_job, sheets_printer, finisher_peer)
    assert finish(sent.pk, JobState.COMPLETED, COMPLETED) is not None
    # A second end (a follow task run twice) changes nothing.
    processing = frozenset({JobState.PROCESSING})
    assert finish(sent.pk, JobState.COMPLETED, COMPLETED, only_from=processing) is None
    assert [refund.amount for refund in _refunds(sent)] == [STAPLE_PRICE]
