"""Allowances: money granted to the members of a group every day, week or month, once per
period. A periodic task applies them; the command line can too. Admins create, change and end
them through the services at the end of this module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.admin.models import ADDITION, CHANGE
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.accounts.choices import AllowancePeriod, EntryKind
from apps.accounts.errors import AccountError, AmountError
from apps.accounts.ledger import lock_account, record_entry, require_manage
from apps.accounts.models import Allowance, AllowanceGrant, User, allowance_whole_digits
from apps.accounts.money import format_money, format_money_for_people, money
from apps.accounts.services import change_record, personal_account_ensure
from printmgmt.translatable import Text

logger = logging.getLogger(__name__)


#: The ledger reason of a grant, per period: one msgid each, as languages word them apart.
GRANT_REASONS = {
    AllowancePeriod.DAILY: gettext_noop("daily allowance %(period)s (%(group)s)"),
    AllowancePeriod.WEEKLY: gettext_noop("weekly allowance %(period)s (%(group)s)"),
    AllowancePeriod.MONTHLY: gettext_noop("monthly allowance %(period)s (%(group)s)"),
}


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
    refused: int  # accounts the grant was refused for (logged); tried again next run


def allowances_apply(now: datetime | None = None) -> AllowanceRun:
    """Apply every active allowance to the personal account of each active member of its
    group, once for the current period. Running it again in the same period adds nothing, and
    of two active allowances of one group and period only the older one grants.
    A grant refused for one account (its balance would not fit) is logged and the others
    are still granted."""
    moment = now or timezone.now()
    granted = skipped = refused = 0
    granting: dict[tuple[int, str], Allowance] = {}
    for allowance in (
        Allowance.objects.filter(is_active=True).select_related("group").order_by("pk")
    ):
        # A second active allowance of one group and period (made before they were refused)
        # would grant its members twice: only the oldest grants.
        first = granting.setdefault((allowance.group_id, allowance.period), allowance)
        if first is not allowance:
            logger.error(
                "allowance=%s is a second active %s allowance of group %s beside allowance=%s: "
                "not granted; end one of them",
                allowance.pk, allowance.period, allowance.group.name, first.pk,
            )  # fmt: skip
            continue
        key = allowance_period_key(allowance.period, moment)
        for user in allowance.group.user_set.filter(is_active=True).order_by("pk"):
            account = personal_account_ensure(user)
            try:
                grant = allowance_apply(allowance.pk, account.pk, key)
            except AccountError as error:
                logger.error("allowance=%s period=%s refused: %s", allowance.pk, key, error)
                refused += 1
                continue
            if grant is None:
                skipped += 1
            else:
                granted += 1
    return AllowanceRun(granted=granted, skipped=skipped, refused=refused)


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
                        reason=Text(
                            GRANT_REASONS[AllowancePeriod(allowance.period)],
                            {"period": period_key, "group": allowance.group.name},
                        ),
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


# ---------------------------------------------------------------- managing allowances


@dataclass(frozen=True)
class AllowanceTerms:
    """What an allowance grants: to whom, how much, how often, up to what balance."""

    group: Group
    amount: Decimal
    period: str
    cap: Decimal | None = None


def _checked_terms(terms: AllowanceTerms) -> AllowanceTerms:
    amount = money(terms.amount, label=_("amount"), whole_digits=allowance_whole_digits())
    if amount <= 0:
        raise AmountError(
            _("amount %(amount)s must be more than zero.") % {"amount": format_money(amount)}
        )
    cap = None if terms.cap is None else money(terms.cap, label=_("cap"))
    if terms.period not in AllowancePeriod.values:
        raise AccountError(
            _("period %(period)r is not one of %(periods)s.")
            % {"period": terms.period, "periods": ", ".join(AllowancePeriod.values)}
        )
    if not Group.objects.filter(pk=terms.group.pk).exists():
        raise AccountError(_("there is no group %(name)r.") % {"name": terms.group.name})
    return AllowanceTerms(group=terms.group, amount=amount, period=terms.period, cap=cap)


def _described(allowance: Allowance) -> str:
    cap = "no cap" if allowance.cap is None else f"cap {format_money(allowance.cap)}"
    state = "active" if allowance.is_active else "ended"
    return (
        f"{format_money(allowance.amount)} {allowance.period} for {allowance.group.name}, "
        f"{cap}, {state}"
    )


def allowance_refuse_a_second_active(
    terms: AllowanceTerms, *, allowance_id: int | None = None
) -> None:
    """Refuse an active allowance beside another active one of the same group and period: its
    members would be granted both every period (a "Create" clicked twice doubled the money).
    Asked under the group's row lock, held to the end of the caller's transaction, so two
    requests at the same moment cannot both pass."""
    Group.objects.select_for_update().filter(pk=terms.group.pk).first()
    others = Allowance.objects.filter(group=terms.group, period=terms.period, is_active=True)
    if allowance_id is not None:
        others = others.exclude(pk=allowance_id)
    other = others.first()
    if other is not None:
        raise AccountError(
            _(
                "%(group)s has an active %(period)s allowance of %(amount)s already: change or "
                "end that one; nothing was saved."
            )
            % {
                "group": terms.group.name,
                "period": AllowancePeriod(terms.period).label,
                "amount": format_money_for_people(other.amount),
            }
        )


def allowance_create(terms: AllowanceTerms, *, actor: User | None) -> Allowance:
    """A new, active allowance; the next beat tick grants it for the current period. Refused
    when the group has an active allowance of the same period."""
    require_manage(actor, gettext_noop("create allowances"))
    clean = _checked_terms(terms)
    with transaction.atomic():
        allowance_refuse_a_second_active(clean)
        allowance = Allowance.objects.create(
            group=clean.group, amount=clean.amount, period=clean.period, cap=clean.cap
        )
        change_record(actor, allowance, ADDITION, f"created: {_described(allowance)}")
    return allowance


def allowance_change(
    allowance_id: int, terms: AllowanceTerms, *, actor: User | None, is_active: bool
) -> Allowance:
    """New terms for an allowance. Grants already made stay as they were; a changed period
    starts counting from the period the next tick falls in. An active allowance may not share
    its group and period with another active one."""
    require_manage(actor, gettext_noop("change allowances"))
    clean = _checked_terms(terms)
    with transaction.atomic():
        allowance = _locked_allowance(allowance_id)
        if is_active:
            allowance_refuse_a_second_active(clean, allowance_id=allowance.pk)
        before = _described(allowance)
        allowance.group = clean.group
        allowance.amount = clean.amount
        allowance.period = clean.period
        allowance.cap = clean.cap
        allowance.is_active = is_active
        allowance.save(update_fields=["group", "amount", "period", "cap", "is_active"])
        after = _described(allowance)
        if after != before:
            change_record(actor, allowance, CHANGE, f"{before} → {after}")
    return allowance


def allowance_end(allowance_id: int, *, actor: User | None) -> Allowance:
    """Stop granting an allowance. The row and its grants stay: they are the ledger's history."""
    require_manage(actor, gettext_noop("end allowances"))
    with transaction.atomic():
        allowance = _locked_allowance(allowance_id)
        if allowance.is_active:
            allowance.is_active = False
            allowance.save(update_fields=["is_active"])
            change_record(actor, allowance, CHANGE, f"ended: {_described(allowance)}")
    return allowance


def _locked_allowance(allowance_id: int) -> Allowance:
    try:
        return Allowance.objects.select_for_update().get(pk=allowance_id)
    except Allowance.DoesNotExist:
        raise AccountError(_("no allowance has id %(id)s.") % {"id": allowance_id}) from None
