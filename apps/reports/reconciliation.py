"""The ledger side of a usage report: the refunds and adjustments made in its period, and the
check of the report's money against the ledger, which is authoritative.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.accounts.choices import AccountKind, EntryKind
from apps.accounts.models import Account, LedgerEntry
from apps.accounts.money import exact_money
from apps.reports.figures import ZERO_MONEY
from apps.reports.selectors import ReportRequest, filtered_records, usage_records

#: Refunds and adjustments shown on the report page and in the PDF; the XLSX lists them all.
LEDGER_MOVEMENT_LIMIT = 500
MOVEMENT_CHUNK_ROWS = 2000


# ------------------------------------------------------------------------- ledger


@dataclass(frozen=True)
class Movement:
    created: datetime
    kind: str
    account: str
    amount: Decimal
    by: str
    reason: str
    job_id: int | None


@dataclass(frozen=True)
class Movements:
    """The first refunds and adjustments of a report, and how many there are in all."""

    shown: list[Movement]
    total: int

    def __iter__(self) -> Iterator[Movement]:
        return iter(self.shown)

    def __len__(self) -> int:
        return len(self.shown)

    @property
    def note(self) -> str:
        """Says that not all are shown, when they are not."""
        if self.total <= len(self.shown):
            return ""
        message = _(
            "Showing the first %(shown)s of %(total)s refunds and adjustments; "
            "the XLSX file lists them all."
        )
        return message % {"shown": len(self.shown), "total": self.total}


def _adjusted_accounts(request: ReportRequest) -> QuerySet[Account] | None:
    """The accounts whose adjustments the report shows; None for every account. An adjustment
    belongs to an account, not to a job: the account filter keeps that account's, the user
    filter the user's personal account's, the group filter its members' personal accounts',
    and the printer filter none."""
    if not request.is_filtered:
        return None
    if request.printer is not None:
        return Account.objects.none()
    accounts = Account.objects.all()
    if request.account is not None:
        accounts = accounts.filter(pk=request.account.pk)
    if request.user is not None:
        accounts = accounts.filter(kind=AccountKind.PERSONAL, owner=request.user)
    if request.group:
        accounts = accounts.filter(kind=AccountKind.PERSONAL, owner__groups__name=request.group)
    return accounts


def _movement_entries(request: ReportRequest) -> QuerySet[LedgerEntry]:
    """The refunds and adjustments dated in the period that the report's filters take: a
    refund belongs to a job, so it is shown when its job matches the filters (whenever the job
    ended, on whichever account it was charged to); adjustments as _adjusted_accounts says."""
    first, after = request.bounds
    refunds = Q(kind=EntryKind.REFUND)
    adjustments = Q(kind=EntryKind.ADJUSTMENT)
    if request.is_filtered:
        refunds &= Q(job_id__in=filtered_records(request).values("job_id"))
    accounts = _adjusted_accounts(request)
    if accounts is not None:
        adjustments &= Q(account__in=accounts)
    return (
        LedgerEntry.objects.filter(refunds | adjustments, created__gte=first, created__lt=after)
        .select_related("account", "account__owner", "user")
        .order_by("created", "id")
    )


def _movement(entry: LedgerEntry) -> Movement:
    return Movement(
        created=entry.created,
        kind=entry.get_kind_display(),
        account=entry.account.label,
        amount=entry.amount,
        by=entry.user.username if entry.user else "system",
        reason=entry.reason,
        job_id=entry.job_id,
    )


def ledger_movements(request: ReportRequest) -> Movements:
    """The first LEDGER_MOVEMENT_LIMIT refunds and adjustments of the report (see
    _movement_entries), oldest first, with who made them ("system" for tasks)."""
    entries = _movement_entries(request)
    shown = [_movement(entry) for entry in entries[:LEDGER_MOVEMENT_LIMIT]]
    total = len(shown) if len(shown) < LEDGER_MOVEMENT_LIMIT else entries.count()
    return Movements(shown, total)


def all_ledger_movements(request: ReportRequest) -> Iterator[Movement]:
    """Every refund and adjustment of the report, read in chunks."""
    for entry in _movement_entries(request).iterator(chunk_size=MOVEMENT_CHUNK_ROWS):
        yield _movement(entry)


@dataclass(frozen=True)
class Reconciliation:
    """How the report's money was checked against the ledger."""

    jobs: int
    report_total: Decimal
    ledger_total: Decimal
    demo_records: int
    demo_total: Decimal
    period_charges: Decimal | None
    period_refunds: Decimal | None

    @property
    def matches(self) -> bool:
        return self.report_total == self.ledger_total

    @property
    def late_refunds(self) -> Decimal:
        return self.report_total - self.ledger_total

    @property
    def statements(self) -> list[str]:
        """Sentences for the report, in order, in the active language."""
        currency = settings.CURRENCY
        lines = [
            ngettext(
                "Ledger charges minus refunds of the %(jobs)s job in this report: "
                "%(ledger)s %(currency)s; report total of its usage records: "
                "%(report)s %(currency)s.",
                "Ledger charges minus refunds of the %(jobs)s jobs in this report: "
                "%(ledger)s %(currency)s; report total of their usage records: "
                "%(report)s %(currency)s.",
                self.jobs,
            )
            % {
                "jobs": self.jobs,
                "ledger": self.ledger_total,
                "report": self.report_total,
                "currency": currency,
            }
        ]
        if self.matches:
            lines.append(_("Reconciled: the report total equals the ledger."))
        else:
            lines.append(
                _(
                    "Not equal: %(late)s %(currency)s was refunded after the jobs ended "
                    "(refunds made by hand later); the ledger figure is authoritative."
                )
                % {"late": self.late_refunds, "currency": currency}
            )
        if self.period_charges is not None and self.period_refunds is not None:
            lines.append(
                _(
                    "All ledger charges dated in the period: %(charges)s %(currency)s, "
                    "refunds: %(refunds)s %(currency)s, net %(net)s %(currency)s (jobs are "
                    "counted in the report when they end, charges when they are released)."
                )
                % {
                    "charges": self.period_charges,
                    "refunds": self.period_refunds,
                    "net": self.period_charges - self.period_refunds,
                    "currency": currency,
                }
            )
        if self.demo_records:
            lines.append(
                ngettext(
                    "%(records)s demo record (%(total)s %(currency)s) is not in the ledger "
                    "and is left out of this check.",
                    "%(records)s demo records (%(total)s %(currency)s) are not in the ledger "
                    "and are left out of this check.",
                    self.demo_records,
                )
                % {"records": self.demo_records, "total": self.demo_total, "currency": currency}
            )
        return lines


def _money_sum(entries: QuerySet[LedgerEntry]) -> Decimal:
    total = entries.aggregate(total=Coalesce(Sum("amount"), ZERO_MONEY))["total"]
    return exact_money(Decimal(total))


def reconciliation(request: ReportRequest) -> Reconciliation:
    records = usage_records(request)
    real = records.filter(is_demo=False)
    real_figures = real.aggregate(jobs=Count("id"), cost=Coalesce(Sum("cost"), ZERO_MONEY))
    ledger_total = -_money_sum(
        LedgerEntry.objects.filter(
            kind__in=(EntryKind.CHARGE, EntryKind.REFUND), job_id__in=real.values("job_id")
        )
    )
    demo = records.filter(is_demo=True).aggregate(
        jobs=Count("id"), cost=Coalesce(Sum("cost"), ZERO_MONEY)
    )
    period_charges = period_refunds = None
    if request.user is None and not request.group and request.printer is None:
        first, after = request.bounds
        dated = LedgerEntry.objects.filter(created__gte=first, created__lt=after)
        if request.account is not None:
            dated = dated.filter(account=request.account)
        period_charges = -_money_sum(dated.filter(kind=EntryKind.CHARGE))
        period_refunds = _money_sum(dated.filter(kind=EntryKind.REFUND))
    return Reconciliation(
        jobs=int(real_figures["jobs"]),
        report_total=exact_money(Decimal(real_figures["cost"])),
        ledger_total=ledger_total,
        demo_records=int(demo["jobs"]),
        demo_total=exact_money(Decimal(demo["cost"])),
        period_charges=period_charges,
        period_refunds=period_refunds,
    )
