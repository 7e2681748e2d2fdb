"""How a print job ends: its terminal state, the refund of what did not print (in the same
transaction), its usage record and the deletion of its document. What did not print includes,
for a job that printed, what the printer did not do of it (not_done.py: an end sheet it
refused, a finishing or cover it ignored).

Every path that ends a job (the pipeline, cancels, expiry) goes through `finish`.
"""

from __future__ import annotations

import logging
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_noop

from apps.accounts.errors import NoChargeForJob
from apps.accounts.models import LedgerEntry
from apps.accounts.movements import account_refund
from apps.jobs import not_done
from apps.jobs.build import parse_page_ranges
from apps.jobs.choices import JobState
from apps.jobs.documents import delete_document
from apps.jobs.models import Job, message_fields, messages_joined
from apps.jobs.parts import document_runs, priced_with
from apps.jobs.services import job_transition
from apps.printers.selectors import side_price_table
from apps.reports.services import usage_record_after_finish
from printmgmt.translatable import Text

logger = logging.getLogger(__name__)


def fail(job_id: int, message: Text) -> None:
    """End a job that cannot print: FAILED, the user told why, the money given back."""
    finish(job_id, JobState.FAILED, message)


def finish(
    job_id: int,
    state: JobState,
    message: Text,
    *,
    only_from: frozenset[JobState] | None = None,
    **fields: Any,
) -> Job | None:
    """Move a job to a terminal state, refund what did not print, drop its document.

    The end, its refund and its usage record commit together: a job never ends without the
    money it is owed, and a report made the moment after counts it.
    None, changing nothing, when the job is in no state (of `only_from`) that may end so.
    `fields` are saved with the end (what the printer printed of it, which the refund uses)."""
    with transaction.atomic():
        job = job_transition(
            job_id,
            state,
            reason=str(message),
            only_from=only_from,
            **message_fields(message),
            **fields,
        )
        if job is None:
            return None
        refund = refund_unprinted(job, message)
        told = not_done.refunded_message(not_done.read(job.not_done))
        if refund is not None and job.state == JobState.COMPLETED and told is not None:
            # A job that printed tells its user the price of what it did not get went back.
            shown = message_fields(messages_joined(message, told))
            Job.objects.filter(pk=job.pk).update(**shown)
            job.message, job.message_text = shown["message"], shown["message_text"]
        usage_record_after_finish(job)
    delete_document(job.document_name)
    return job


def unprinted_share(job: Job) -> Decimal:
    """The part of the price to give back for a job that ended.

    A completed job printed: it gets back the price of what the printer did not do of it
    (not_done_share). A job that ended otherwise gets everything back, unless the printer
    counted impressions: then what it did not do, and of the rest the share of the sides it
    did not print.
    """
    price = job.price or Decimal(0)
    if price <= 0:
        return Decimal(0)
    kept_back = not_done_share(job)
    if job.state == JobState.COMPLETED:
        return kept_back
    expected = job.expected_impressions or 0
    done = job.impressions_completed or 0
    if expected and done:
        return kept_back + _share(price - kept_back, max(expected - done, 0), expected)
    return price


def not_done_share(job: Job) -> Decimal:
    """The price of what the printer did not do of the job (Job.not_done: an end sheet it
    refused, a finishing or cover it ignored), at most the job's price.

    The job is priced again as it was at its release, by the rule file version that priced it
    (the one it was built with), once as asked and once without what was not done; the
    difference is theirs. Both with the printer's side prices of now, so that a price table
    changed since moves neither."""
    price = job.price or Decimal(0)
    items = not_done.read(job.not_done)
    if price <= 0 or job.printer is None or not any(item.refundable for item in items):
        return Decimal(0)
    try:
        engine = priced_with(job)
        pages = parse_page_ranges(job.page_ranges, job.page_count)
        documents = (
            [len(run) for _name, run in document_runs(job, pages)]
            if job.documents_printed_separately
            else []
        )
        amount = not_done.not_done_price(
            engine,
            job.options,
            items,
            pages=len(pages),
            copies=job.copies,
            fallback=side_price_table(job.printer),
            minor_unit_exponent=settings.CURRENCY_DECIMALS,
            documents=documents,
        )
    except Exception:
        # The job ends all the same, keeping that part of its charge: an administrator can
        # refund it by hand (`account refund`).
        logger.exception("job %s: the price of what was not done could not be worked out", job.pk)
        return Decimal(0)
    return min(amount, price)


def _share(price: Decimal, part: int, whole: int) -> Decimal:
    quantum = Decimal(1).scaleb(-settings.CURRENCY_DECIMALS)
    # Rounded down: a partial refund never gives back more than the unprinted part.
    return (price * part / whole).quantize(quantum, rounding=ROUND_DOWN)


#: The key of the refund a job gets when it ends: its own, so that a refund made by hand with
#: another key is neither mistaken for it nor hidden by it.
UNPRINTED_REFUND_KEY = "unprinted"


def refund_unprinted(job: Job, why: Text) -> LedgerEntry | None:
    """Refund what the job is owed as it ends (unprinted_share), once; the refund made, or
    None when nothing is owed (or was refunded by hand before)."""
    amount = unprinted_share(job)
    if amount <= 0:
        return None
    if job.state == JobState.COMPLETED:
        # "not printed: the end sheet", "not done by the printer: staple".
        reason = not_done.reason(not_done.read(job.not_done)) or why
    else:
        reason = Text(gettext_noop("not printed: %(why)s"), {"why": why})
    try:
        with transaction.atomic():
            # What was refunded already (by hand, while it printed) counts towards what is
            # owed, under the account's lock: a job half printed is refunded half, in all.
            return account_refund(
                job.pk,
                # All of it: what the ledger holds, also when the charge has more places than
                # CURRENCY_DECIMALS now allows (the site lowered it since).
                None if amount == job.price else amount,
                reason=reason,
                key=UNPRINTED_REFUND_KEY,
                up_to_remaining=True,
                owed_in_all=True,
            )
    except NoChargeForJob:
        logger.info("job %s was never charged: nothing to refund", job.pk)
        return None
