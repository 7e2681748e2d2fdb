"""Periodic money tasks: allowances and the ledger audit.

Beat runs both hourly (settings.CELERY_BEAT_SCHEDULE), so a daily allowance arrives within
the first hour of its day. Both tasks are idempotent: a duplicated beat tick or a retry adds
no money and writes no second grant.
"""

from __future__ import annotations

import logging

from celery import shared_task

from apps.accounts.allowances import allowances_apply
from apps.accounts.selectors import ledger_drifts

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, soft_time_limit=540, time_limit=600)
def allowances_apply_due() -> dict[str, int]:
    """Apply every allowance that is due for the current period, once."""
    run = allowances_apply()
    logger.info(
        "allowances granted=%s already=%s refused=%s", run.granted, run.skipped, run.refused
    )
    return {"granted": run.granted, "skipped": run.skipped, "refused": run.refused}


@shared_task(ignore_result=True, soft_time_limit=540, time_limit=600)
def ledger_audit() -> list[dict[str, str | int]]:
    """Check that every account's stored balance equals the sum of its ledger; log and return
    the accounts where it does not (an empty list when all is well)."""
    drifts = ledger_drifts()
    for drift in drifts:
        logger.error(
            "ledger drift account=%s (%s) balance=%s ledger_sum=%s difference=%s",
            drift.account_id, drift.account, drift.balance, drift.ledger_sum, drift.difference,
        )  # fmt: skip
    if not drifts:
        logger.info("ledger audit: every balance equals the sum of its ledger")
    return [
        {
            "account_id": drift.account_id,
            "account": drift.account,
            "balance": str(drift.balance),
            "ledger_sum": str(drift.ledger_sum),
            "difference": str(drift.difference),
        }
        for drift in drifts
    ]
