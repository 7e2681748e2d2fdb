"""How a print job ends: its terminal state, the refund of what did not print (in the same
transaction), its usage record and the deletion of its document.

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
from apps.accounts.movements import account_refund
from apps.jobs.choices import JobState
from apps.jobs.documents import delete_document
from apps.jobs.models import Job, message_fields
from apps.jobs.services import job_transition
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
        refund_unprinted(job, message)
        usage_record_after_finish(job)
    delete_document(job.document_name)
    return job


def unprinted_share(job: Job) -> Decimal:
    """The part of the price to give back for a job that ended.

    A completed job printed. A job that ended otherwise gets everything back, unless the
    printer counted impressions: then only what it did not print.
    """
    price = job.price or Decimal(0)
    if job.state == JobState.COMPLETED or price <= 0:
        return Decimal(0)
    expected = job.expected_impressions or 0
    done = job.impressions_completed or 0
    if expected and done:
        return _share(price, max(expected - done, 0), expected)
    return price


def _share(price: Decimal, part: int, whole: int) -> Decimal:
    quantum = Decimal(1).scaleb(-settings.CURRENCY_DECIMALS)
    # Rounded down: a partial refund never gives back more than the unprinted part.
    return (price * part / whole).quantize(quantum, rounding=ROUND_DOWN)


#: The key of the refund a job gets when it ends: its own, so that a refund made by hand with
#: another key is neither mistaken for it nor hidden by it.
UNPRINTED_REFUND_KEY = "unprinted"


def refund_unprinted(job: Job, why: Text) -> None:
    amount = unprinted_share(job)
    if amount <= 0:
        return
    try:
        with transaction.atomic():
            # What was refunded already (by hand, while it printed) counts towards what is
            # owed, under the account's lock: a job half printed is refunded half, in all.
            account_refund(
                job.pk,
                # All of it: what the ledger holds, also when the charge has more places than
                # CURRENCY_DECIMALS now allows (the site lowered it since).
                None if amount == job.price else amount,
                reason=Text(gettext_noop("not printed: %(why)s"), {"why": why}),
                key=UNPRINTED_REFUND_KEY,
                up_to_remaining=True,
                owed_in_all=True,
            )
    except NoChargeForJob:
        logger.info("job %s was never charged: nothing to refund", job.pk)
