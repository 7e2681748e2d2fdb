"""Reads of the reports app: every figure is aggregated by the database (GROUP BY)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    Expression,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Trunc
from django.utils import timezone

from apps.accounts.choices import AccountKind, EntryKind
from apps.accounts.errors import AccountError
from apps.accounts.models import Account, LedgerEntry, User
from apps.accounts.money import MAX_DIGITS, STORED_DECIMALS, quantum
from apps.accounts.selectors import account_resolve
from apps.printers.models import Printer
from apps.reports import conf
from apps.reports.choices import TIME_GROUPINGS, Grouping
from apps.reports.models import UsageRecord, UsageRecordGroup

NO_GROUP = "(no group)"
NO_ACCOUNT = "(no account)"
TOTAL_LABEL = "TOTAL"
MONEY: DecimalField[Decimal, Decimal] = DecimalField(
    max_digits=MAX_DIGITS, decimal_places=STORED_DECIMALS
)
ZERO_MONEY = Value(Decimal(0), output_field=MONEY)
ZERO = Value(0, output_field=IntegerField())
LEDGER_MOVEMENT_LIMIT = 500


class ReportError(Exception):
    """A report cannot be made as asked; the message says why, for a person."""


@dataclass(frozen=True)
class ReportRequest:
    """What a report covers: a period of whole days (both ends included, in the site's time
    zone), a grouping and optional filters, already checked against the database."""

    start: date
    end: date
    grouping: Grouping = Grouping.USER
    user: User | None = None
    group: str = ""
    account: Account | None = None
    printer: Printer | None = None

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """Aware datetimes [first instant, first instant after the period)."""
        zone = timezone.get_current_timezone()
        first = datetime.combine(self.start, time.min, tzinfo=zone)
        after = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone)
        return first, after

    @property
    def filter_text(self) -> str:
        parts = [
            f"user {self.user.username}" if self.user else "",
            f"group {self.group}" if self.group else "",
            f"account {self.account.label}" if self.account else "",
            f"printer {self.printer.name}" if self.printer else "",
        ]
        return ", ".join(part for part in parts if part) or "none"

    def parameters(self) -> dict[str, str]:
        """The request as text, to store in a task's arguments and rebuild with report_request."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "grouping": str(self.grouping),
            "user": self.user.username if self.user else "",
            "group": self.group,
            "account": f"{'user' if self.account.kind == AccountKind.PERSONAL else 'shared'}:"
            f"{self.account.owner.username if self.account.owner else self.account.name}"
            if self.account
            else "",
            "printer": self.printer.name if self.printer else "",
        }


def parse_date(text: str, label: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ReportError(f"{label} {text!r} is not a date: write YYYY-MM-DD.") from None


def report_request(
    start: date | str,
    end: date | str,
    grouping: str = Grouping.USER,
    *,
    user: str = "",
    group: str = "",
    account: str = "",
    printer: str = "",
) -> ReportRequest:
    """Check a report's period, grouping and filters (names as people type them)."""
    first = parse_date(start, "--from") if isinstance(start, str) else start
    last = parse_date(end, "--to") if isinstance(end, str) else end
    if last < first:
        raise ReportError(f"the period ends ({last}) before it starts ({first}).")
    if grouping not in Grouping.values:
        raise ReportError(
            f"unknown grouping {grouping!r}: choose one of {', '.join(Grouping.values)}."
        )
    found_user = None
    if user.strip():
        found_user = User.objects.filter(username=user.strip()).first()
        if found_user is None:
            raise ReportError(f"no user is named {user.strip()!r}.")
    group_name = group.strip()
    if (
        group_name
        and not Group.objects.filter(name=group_name).exists()
        and not UsageRecordGroup.objects.filter(name=group_name).exists()
    ):
        raise ReportError(f"no group is named {group_name!r}.")
    found_account = None
    if account.strip():
        try:
            found_account = account_resolve(account)
        except AccountError as error:
            raise ReportError(str(error)) from None
    found_printer = None
    if printer.strip():
        found_printer = Printer.objects.filter(name=printer.strip()).first()
        if found_printer is None:
            raise ReportError(f"no printer is named {printer.strip()!r}.")
    return ReportRequest(
        first, last, Grouping(grouping), found_user, group_name, found_account, found_printer
    )


def usage_records(request: ReportRequest) -> QuerySet[UsageRecord]:
    """The records of jobs that ended in the period and match the filters."""
    first, after = request.bounds
    records = UsageRecord.objects.filter(ended_at__gte=first, ended_at__lt=after)
    if request.user is not None:
        records = records.filter(user=request.user)
    if request.group:
        records = records.filter(
            Exists(UsageRecordGroup.objects.filter(record=OuterRef("pk"), name=request.group))
        )
    if request.account is not None:
        records = records.filter(account=request.account)
    if request.printer is not None:
        records = records.filter(printer=request.printer)
    return records


# ------------------------------------------------------------------------- usage


@dataclass(frozen=True)
class UsageRow:
    label: str
    jobs: int
    pages: int
    sides: int
    sheets: int
    charged: Decimal
    refunded: Decimal
    cost: Decimal


USAGE_COLUMNS = ("jobs", "pages", "sides", "sheets", "charged", "refunded", "cost")
FIGURES: dict[str, Any] = {
    "jobs": Count("id"),
    "pages": Coalesce(Sum("pages"), ZERO),
    "sides": Coalesce(Sum("sides"), ZERO),
    "sheets": Coalesce(Sum("sheets"), ZERO),
    "charged": Coalesce(Sum("charged"), ZERO_MONEY),
    "refunded": Coalesce(Sum("refunded"), ZERO_MONEY),
    "cost": Coalesce(Sum("cost"), ZERO_MONEY),
}


def _group_key(grouping: Grouping) -> Expression | F:
    if grouping in TIME_GROUPINGS:
        return Trunc("ended_at", str(grouping), tzinfo=timezone.get_current_timezone())
    column = {
        Grouping.USER: "username",
        Grouping.GROUP: "primary_group",
        Grouping.ACCOUNT: "account_name",
        Grouping.PRINTER: "printer_name",
    }[grouping]
    return F(column)


def period_label(grouping: Grouping, value: datetime | date) -> str:
    day = timezone.localtime(value).date() if isinstance(value, datetime) else value
    if grouping == Grouping.WEEK:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if grouping == Grouping.MONTH:
        return f"{day:%Y-%m}"
    return day.isoformat()


def _label(grouping: Grouping, value: object) -> str:
    if isinstance(value, datetime | date):
        return period_label(grouping, value)
    text = str(value or "")
    if not text:
        return NO_GROUP if grouping == Grouping.GROUP else NO_ACCOUNT
    return text


def _row(label: str, values: dict[str, Any]) -> UsageRow:
    step = quantum()
    return UsageRow(
        label=label,
        jobs=int(values["jobs"]),
        pages=int(values["pages"]),
        sides=int(values["sides"]),
        sheets=int(values["sheets"]),
        charged=Decimal(values["charged"]).quantize(step),
        refunded=Decimal(values["refunded"]).quantize(step),
        cost=Decimal(values["cost"]).quantize(step),
    )


def usage_rows(request: ReportRequest, grouping: Grouping | None = None) -> list[UsageRow]:
    """One row per user, group, account, printer or period, in order of the grouping."""
    chosen = grouping or request.grouping
    rows = (
        usage_records(request)
        .annotate(key=_group_key(chosen))
        .values("key")
        .annotate(**FIGURES)
        .order_by("key")
    )
    return [_row(_label(chosen, row["key"]), row) for row in rows]


def usage_total(request: ReportRequest) -> UsageRow:
    return _row(TOTAL_LABEL, usage_records(request).aggregate(**FIGURES))


def top_rows(request: ReportRequest, grouping: Grouping, limit: int = 10) -> list[UsageRow]:
    """The `limit` users or printers that cost most (then printed most sheets)."""
    rows = (
        usage_records(request)
        .annotate(key=_group_key(grouping))
        .values("key")
        .annotate(**FIGURES)
        .order_by("-cost", "-sheets", "key")[:limit]
    )
    return [_row(_label(grouping, row["key"]), row) for row in rows]


def over_time_grouping(request: ReportRequest) -> Grouping:
    """Days for up to two months, weeks up to a year, months beyond."""
    days = (request.end - request.start).days + 1
    if days <= 62:
        return Grouping.DAY
    return Grouping.WEEK if days <= 366 else Grouping.MONTH


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


def _accounts_in_scope(request: ReportRequest) -> QuerySet[Account] | None:
    if request.account is not None:
        return Account.objects.filter(pk=request.account.pk)
    if request.user is not None:
        return Account.objects.filter(owner=request.user)
    return None


def ledger_movements(request: ReportRequest) -> list[Movement]:
    """Refunds and adjustments dated in the period, with who made them ("system" for tasks),
    on the filtered account (or the filtered user's personal account), else on every account."""
    first, after = request.bounds
    entries = LedgerEntry.objects.filter(
        kind__in=(EntryKind.REFUND, EntryKind.ADJUSTMENT), created__gte=first, created__lt=after
    )
    scope = _accounts_in_scope(request)
    if scope is not None:
        entries = entries.filter(account__in=scope)
    entries = entries.select_related("account", "account__owner", "user").order_by("created", "id")
    return [
        Movement(
            created=entry.created,
            kind=entry.get_kind_display(),
            account=entry.account.label,
            amount=entry.amount,
            by=entry.user.username if entry.user else "system",
            reason=entry.reason,
            job_id=entry.job_id,
        )
        for entry in entries[:LEDGER_MOVEMENT_LIMIT]
    ]


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
        """Sentences for the report, in order."""
        currency = settings.CURRENCY
        lines = [
            f"Ledger charges minus refunds of the {self.jobs} jobs in this report: "
            f"{self.ledger_total} {currency}; report total of their usage records: "
            f"{self.report_total} {currency}."
        ]
        if self.matches:
            lines.append("Reconciled: the report total equals the ledger.")
        else:
            lines.append(
                f"Not equal: {self.late_refunds} {currency} was refunded after the jobs ended "
                "(refunds made by hand later); the ledger figure is authoritative."
            )
        if self.period_charges is not None and self.period_refunds is not None:
            lines.append(
                f"All ledger charges dated in the period: {self.period_charges} {currency}, "
                f"refunds: {self.period_refunds} {currency}, net "
                f"{self.period_charges - self.period_refunds} {currency} (jobs are counted in "
                "the report when they end, charges when they are released)."
            )
        if self.demo_records:
            lines.append(
                f"{self.demo_records} demo records ({self.demo_total} {currency}) are not in "
                "the ledger and are left out of this check."
            )
        return lines


def _money_sum(entries: QuerySet[LedgerEntry]) -> Decimal:
    total = entries.aggregate(total=Coalesce(Sum("amount"), ZERO_MONEY))["total"]
    return Decimal(total).quantize(quantum())


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
        report_total=Decimal(real_figures["cost"]).quantize(quantum()),
        ledger_total=ledger_total,
        demo_records=int(demo["jobs"]),
        demo_total=Decimal(demo["cost"]).quantize(quantum()),
        period_charges=period_charges,
        period_refunds=period_refunds,
    )


# ------------------------------------------------------------------------- environment


@dataclass(frozen=True)
class Environment:
    sheets: int
    paper_kg: Decimal
    trees: Decimal
    co2_kg: Decimal
    energy_kwh: Decimal

    @property
    def lines(self) -> list[tuple[str, str]]:
        return [
            ("Sheets", str(self.sheets)),
            ("Paper (kg)", str(self.paper_kg)),
            ("Trees", str(self.trees)),
            ("CO₂ (kg)", str(self.co2_kg)),
            ("Energy (kWh)", str(self.energy_kwh)),
        ]


def environment(sheets: int) -> Environment:
    """Paper, trees, CO₂ and energy for a number of sheets, with the configured factors."""
    places = Decimal("0.001")
    return Environment(
        sheets=sheets,
        paper_kg=(sheets * conf.sheet_grams() / 1000).quantize(places),
        trees=(sheets / conf.sheets_per_tree()).quantize(places),
        co2_kg=(sheets * conf.co2_grams_per_sheet() / 1000).quantize(places),
        energy_kwh=(sheets * conf.energy_wh_per_sheet() / 1000).quantize(places),
    )


# ------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class UsageReport:
    """Everything a usage report shows, whatever its format."""

    request: ReportRequest
    rows: list[UsageRow]
    total: UsageRow
    over_time_grouping: Grouping
    over_time: list[UsageRow]
    top_users: list[UsageRow]
    top_printers: list[UsageRow]
    by_printer: list[UsageRow]
    movements: list[Movement]
    reconciliation: Reconciliation
    environment: Environment
    generated_at: datetime = field(default_factory=timezone.now)

    @property
    def title(self) -> str:
        return f"Usage by {self.request.grouping.label}, {self.request.start} to {self.request.end}"


def usage_report(request: ReportRequest) -> UsageReport:
    total = usage_total(request)
    over_time = over_time_grouping(request)
    return UsageReport(
        request=request,
        rows=usage_rows(request),
        total=total,
        over_time_grouping=over_time,
        over_time=usage_rows(request, over_time),
        top_users=top_rows(request, Grouping.USER),
        top_printers=top_rows(request, Grouping.PRINTER),
        by_printer=usage_rows(request, Grouping.PRINTER),
        movements=ledger_movements(request),
        reconciliation=reconciliation(request),
        environment=environment(total.sheets),
    )


# ------------------------------------------------------------------------- records

RECORD_COLUMNS = (
    "job_id", "ended_at", "user", "group", "account", "printer", "state", "document_pages",
    "copies", "pages", "sides", "sheets", "duplex", "color", "media", "finishings", "charged",
    "refunded", "cost", "demo",
)  # fmt: skip


_RECORD_FIELDS = (
    "job_id", "ended_at", "username", "primary_group", "account_name", "printer_name", "state",
    "document_pages", "copies", "pages", "sides", "sheets", "duplex_text", "color_text", "media",
    "finishings", "charged_shown", "refunded_shown", "cost_shown", "demo_text",
)  # fmt: skip


def _yes_no(name: str) -> Case:
    yes = When(**{name: True}, then=Value("yes"))
    return Case(yes, default=Value("no"), output_field=CharField())


def record_values(request: ReportRequest) -> QuerySet[UsageRecord, tuple[Any, ...]]:
    """Every record of the report as tuples in RECORD_COLUMNS order, money with the currency's
    places (rounded by the database), oldest first."""
    shown: DecimalField[Decimal, Decimal] = DecimalField(
        max_digits=MAX_DIGITS, decimal_places=settings.CURRENCY_DECIMALS
    )
    return (
        usage_records(request)
        .annotate(
            duplex_text=_yes_no("duplex"),
            color_text=_yes_no("color"),
            demo_text=_yes_no("is_demo"),
            charged_shown=Cast("charged", shown),
            refunded_shown=Cast("refunded", shown),
            cost_shown=Cast("cost", shown),
        )
        .order_by("ended_at", "id")
        .values_list(*_RECORD_FIELDS)
    )
