"""What the worker writes on a job is shown in the reader's language: German with
`Accept-Language: de` in the portal's history, English without, the printer's own words as
they are; messages written before their msgid was kept are shown as written."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from apps.accounts.choices import EntryKind
from apps.accounts.models import LedgerEntry, User
from apps.jobs import following, outcomes, pipeline
from apps.jobs.choices import JobState
from apps.jobs.models import Job, message_fields
from apps.jobs.services import job_transition
from apps.jobs.tasks import expire_held_jobs
from apps.printers.models import Printer
from apps.printers.peers import free_port
from printmgmt.translatable import Text
from tests.peers import IppEvePrinter, run_ippeveprinter

pytestmark = [pytest.mark.peers]

GERMAN = "de-DE,de;q=0.9"


@pytest.fixture(scope="module")
def raster_only_peer() -> Iterator[IppEvePrinter]:
    """A printer that takes no PDF: it refuses every job the product sends it."""
    with run_ippeveprinter(
        name="Raster Only", attributes=None, extra_args=["-f", "image/pwg-raster"]
    ) as peer:
        yield peer


def history_row(user: User, job: Job, language: str | None) -> str:
    """The job's row of its owner's history, as text, in the browser's language."""
    client = Client()
    client.force_login(user)
    headers = {"Accept-Language": language} if language else {}
    rows = client.get("/history/?fragment=rows", headers=headers).content.decode()
    row = re.search(rf'<tr id="job-{job.pk}".*?</tr>', rows, re.DOTALL)
    assert row is not None, rows
    return html.unescape(re.sub(r"<[^>]+>", " ", row.group()))


def untranslated(text: Text) -> list[str]:
    """The msgids of a message and of the messages within it that German leaves English
    (a msgid of placeholders and punctuation only needs no words of its own)."""
    with translation.override("de"):
        missing = [
            text.msgid
            for text in _nested(text)
            if re.search(r"[a-z]", re.sub(r"%\(\w+\)s", "", text.msgid)) and not _translated(text)
        ]
    return missing


def _translated(text: Text) -> bool:
    if text.plural is None:
        return translation.gettext(text.msgid) != text.msgid
    return (
        translation.ngettext(text.msgid, text.plural, 1) != text.msgid
        and translation.ngettext(text.msgid, text.plural, 2) != text.plural
    )


def _nested(text: Text) -> Iterator[Text]:
    yield text
    for value in text.params.values():
        if isinstance(value, Text):
            yield from _nested(value)


def told(job: Job) -> Text:
    """The job's message as the worker kept it: the English text it wrote, and in German."""
    job.refresh_from_db()
    text = Text.from_json(job.message_text)
    assert text is not None, f"written in English only: {job.message}"
    assert str(text) == job.message
    assert untranslated(text) == []
    return text


def test_a_printer_that_refuses_the_job_is_told_in_the_readers_language(
    released: Callable[[], Job],
    finisher: Printer,
    raster_only_peer: IppEvePrinter,
    staff_user: User,
) -> None:
    Printer.objects.filter(pk=finisher.pk).update(uri=raster_only_peer.uri)
    job = released()
    assert str(pipeline.send(job.pk, task_id="t")) == "failed: refused"
    text = told(job)
    reason = text.params["reason"]
    assert isinstance(reason, str)  # the printer's own words, not translated
    assert job.message == f"the printer refused the job: {reason}"
    german = history_row(staff_user, job, GERMAN)
    assert f"der Drucker hat den Auftrag abgelehnt: {reason}" in german
    assert "Fehlgeschlagen" in german
    english = history_row(staff_user, job, None)
    assert f"the printer refused the job: {reason}" in english
    assert "abgelehnt" not in english
    # The refund in the ledger says why, in the reader's language too.
    refund = LedgerEntry.objects.get(job_id=job.pk, kind=EntryKind.REFUND)
    assert refund.reason == f"not printed: the printer refused the job: {reason}"
    with translation.override("de"):
        assert (
            refund.reason_shown
            == f"nicht gedruckt: der Drucker hat den Auftrag abgelehnt: {reason}"
        )


def test_an_unreachable_printer_is_waited_for_in_the_readers_language(
    released: Callable[[], Job], finisher: Printer, staff_user: User
) -> None:
    Printer.objects.filter(pk=finisher.pk).update(uri=f"ipp://127.0.0.1:{free_port()}/ipp/print")
    job = released()
    with pytest.raises(outcomes.RetryLater):
        pipeline.send(job.pk, task_id="t")
    error = told(job).params["error"]
    assert isinstance(error, str)
    assert f"wartet auf den Drucker: {error}" in history_row(staff_user, job, GERMAN)
    english = history_row(staff_user, job, "en")
    assert f"waiting for the printer: {error}" in english
    assert "wartet" not in english


def test_a_message_within_a_message_is_translated_at_both_levels(
    released: Callable[[], Job], finisher: Printer, staff_user: User
) -> None:
    # A certificate OpenSSL cannot load: the attempt fails on this server, told in words.
    Printer.objects.filter(pk=finisher.pk).update(
        trusted_certificate="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    )
    job = released()
    with pytest.raises(outcomes.RetryLater):
        pipeline.send(job.pk, task_id="t")
    trouble = told(job).params["trouble"]
    assert isinstance(trouble, Text)
    # OpenSSL's words, or where it has none a third message of ours.
    reason = trouble.params["reason"]
    with translation.override("de"):
        german_reason = reason.render(translation.gettext) if isinstance(reason, Text) else reason
    assert (
        "der Druckserver konnte keine sichere Verbindung zum Drucker aufbauen "
        f"({german_reason}); der Auftrag wird erneut versucht"
    ) in history_row(staff_user, job, GERMAN)
    assert (
        f"the print server could not set up a secure connection to the printer ({reason}); "
        "it will be tried again"
    ) in history_row(staff_user, job, None)


def test_a_job_its_user_canceled_says_who_in_the_readers_language(
    released: Callable[[], Job], staff_user: User
) -> None:
    job = released()
    client = Client()
    client.force_login(staff_user)
    client.post(f"/jobs/{job.pk}/cancel/")
    assert told(job) == Text("canceled by %(user)s", {"user": "sam"})
    assert "abgebrochen von sam" in history_row(staff_user, job, GERMAN)
    assert "canceled by sam" in history_row(staff_user, job, None)


def test_a_job_not_released_in_time_says_so_in_the_readers_language(
    held_job: Callable[..., Job], staff_user: User
) -> None:
    job = held_job(pages=1)
    Job.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert expire_held_jobs() == 1
    told(job)
    assert "nicht rechtzeitig freigegeben" in history_row(staff_user, job, GERMAN)
    assert "not released in time" in history_row(staff_user, job, None)


def test_a_message_written_before_its_msgid_was_kept_is_shown_as_written(
    released: Callable[[], Job], staff_user: User
) -> None:
    written_before, edited = released(), released()
    Job.objects.filter(pk=written_before.pk).update(
        state=JobState.FAILED, message="the printer refused the job: no paper", message_text=None
    )
    # A stored msgid whose parameters do not fit it cannot be shown translated either.
    Job.objects.filter(pk=edited.pk).update(
        state=JobState.FAILED,
        message="the printer refused the job: no toner",
        message_text={"msgid": "the printer refused the job: %(reason)s", "params": {}},
    )
    for language in (GERMAN, None):
        assert "the printer refused the job: no paper" in history_row(
            staff_user, written_before, language
        )
        assert "the printer refused the job: no toner" in history_row(staff_user, edited, language)


def test_a_message_stored_before_it_counted_is_shown_as_the_counted_one(
    released: Callable[[], Job], staff_user: User
) -> None:
    # Stored with the plural msgid alone, which the catalog now has only as a msgid_plural.
    once, twice = released(), released()
    for job, attempts in ((once, 1), (twice, 2)):
        Job.objects.filter(pk=job.pk).update(
            state=JobState.FAILED,
            message=f"the printer could not be reached after {attempts} attempts: refused",
            message_text={
                "msgid": "the printer could not be reached after %(attempts)s attempts: %(error)s",
                "params": {"attempts": attempts, "error": "refused"},
            },
        )
    assert "the printer could not be reached after 1 attempt: refused" in history_row(
        staff_user, once, None
    )
    assert "der Drucker war nach 1 Versuch nicht erreichbar: refused" in history_row(
        staff_user, once, GERMAN
    )
    assert "der Drucker war nach 2 Versuchen nicht erreichbar: refused" in history_row(
        staff_user, twice, GERMAN
    )


def test_every_message_of_these_scenarios_is_kept_to_be_translated_into_german(
    released: Callable[[], Job], finisher: Printer, staff_user: User, settings: Any
) -> None:
    settings.PRINT_MAX_ATTEMPTS = 1
    printed = released()
    assert pipeline.send(printed.pk, task_id="t").at_printer
    deadline = time.monotonic() + 60
    while not following.follow(printed.pk):
        assert time.monotonic() < deadline, "the job never ended"
        time.sleep(0.2)
    assert told(printed).msgid == "printer says completed: %(message)s"

    given_up = released()
    Printer.objects.filter(pk=finisher.pk).update(uri=f"ipp://127.0.0.1:{free_port()}/ipp/print")
    assert str(pipeline.send(given_up.pk, task_id="t")) == "failed: gave up"
    told(given_up)
    assert "der Drucker war nach 1 Versuch nicht erreichbar: " in history_row(
        staff_user, given_up, GERMAN
    )

    disabled = released()
    Printer.objects.filter(pk=finisher.pk).update(enabled=False)
    assert str(pipeline.send(disabled.pk, task_id="t")) == "failed: printer disabled"
    told(disabled)
    assert f"der Drucker {finisher.name} wurde von einem Administrator deaktiviert" in history_row(
        staff_user, disabled, GERMAN
    )


def test_a_job_given_up_after_one_attempt_counts_it_in_the_singular(
    released: Callable[[], Job], finisher: Printer, staff_user: User, settings: Any
) -> None:
    settings.PRINT_MAX_ATTEMPTS = 1
    job = released()
    Printer.objects.filter(pk=finisher.pk).update(uri=f"ipp://127.0.0.1:{free_port()}/ipp/print")
    assert str(pipeline.send(job.pk, task_id="t")) == "failed: gave up"
    error = told(job).params["error"]
    assert job.message == f"the printer could not be reached after 1 attempt: {error}"
    assert job.message in history_row(staff_user, job, "en")
    assert f"der Drucker war nach 1 Versuch nicht erreichbar: {error}" in history_row(
        staff_user, job, GERMAN
    )


def test_a_message_is_not_set_in_english_alone(released: Callable[[], Job]) -> None:
    job = released()
    with pytest.raises(TypeError, match="message_fields"):
        job_transition(job.pk, JobState.CANCELED, reason="test", message="canceled")
    assert Job.objects.get(pk=job.pk).state == JobState.RELEASED
    job_transition(
        job.pk, JobState.CANCELED, reason="test", **message_fields(Text("not released in time"))
    )
    assert Job.objects.get(pk=job.pk).message_text == {
        "msgid": "not released in time",
        "params": {},
    }
