"""Allowances: money granted to the members of a group every day, week or month, once per
period. A periodic task applies them; the command line can too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.choices import AllowancePeriod, EntryKind
from apps.accounts.ledger import lock_account, record_entry
from apps.accounts.models import Allowance, AllowanceGrant
from apps.accounts.services import personal_account_ensure

logger = logging.getLogger(__name__)


def allowance_period_key(period: str, now: datetime) -> str:
    """The period `now` falls in, in the site's time zone: 2026-11-21, 2026-W47 or 2026-11."""
    day = timezone.localtime(now).date()
    if period == AllowancePeriod.DAILY:
        return day.isoformat()
    if period == AllowancePeriod.WEEKLY:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == AllowancePeriod.MONTHLY:
        return f"{day.year}-{day.month:02d}"
    raise ValueError(f"unknown allowance period {period!r}")


@dataclass(frozen=True)
class AllowanceRun:
    granted: int  # grants written in this run
    skipped: int  # accounts that had this period's allowance already


def allowances_apply(now: datetime | None = None) -> AllowanceRun:
    """Apply every active allowance to the personal account of each active member of its
    group, once for the current period. Running it again in the same period adds nothing."""
    moment = now or timezone.now()
    granted = skipped = 0
    for allowance in Allowance.objects.filter(is_active=True).select_related("group"):
        key = allowance_period_key(allowance.period, moment)
        for user in allowance.group.user_set.filter(is_active=True).order_by("pk"):
            account = personal_account_ensure(user)
            if allowance_apply(allowance.pk, account.pk, key) is None:
                skipped += 1
            else:
                granted += 1
    return AllowanceRun(granted=granted, skipped=skipped)


def allowance_apply(allowance_id: int, account_id: int, period_key: str) -> AllowanceGrant | None:
    """Grant one allowance to one account for one period; None if it was granted already.

    With a cap the amount is cut so the balance does not pass the cap (possibly to zero: the
    grant is still recorded, so the period counts as done)."""
    with transaction.atomic():
        account = lock_account(account_id)
        allowance = Allowance.objects.get(pk=allowance_id)
        if AllowanceGrant.objects.filter(
            allowance=allowance, account=account, period_key=period_key
        ).exists():
            return None
        amount = allowance.amount
        if allowance.cap is not None:
            amount = max(Decimal(0), min(amount, allowance.cap - account.balance))
        balance_before = account.balance
        try:
            with transaction.atomic():
                entry = None
                if amount > 0:
                    entry = record_entry(
                        account,
                        EntryKind.ALLOWANCE,
                        amount,
                        user=None,
                        reason=f"{allowance.get_period_display()} allowance {period_key} "
                        f"({allowance.group.name})",
                    )
                grant = AllowanceGrant.objects.create(
                    allowance=allowance,
                    account=account,
                    period_key=period_key,
                    amount=amount,
                    entry=entry,
                )
        except IntegrityError:
            account.balance = balance_before
            return None
    logger.info(
        "allowance=%s account=%s period=%s amount=%s", allowance.pk, account.pk, period_key, amount
    )
    return grant
