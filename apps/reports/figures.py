"""The figures of a usage report: jobs, pages, sides, sheets and money per user, group, account,
printer or period, and what the sheets weigh in paper, trees, CO₂ and energy. Every figure is
aggregated by the database (GROUP BY).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Expression, F, IntegerField, Sum, Value
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone

from apps.accounts.money import MAX_DIGITS, STORED_DECIMALS, quantum
from apps.reports import conf
from apps.reports.choices import TIME_GROUPINGS, Grouping
from apps.reports.selectors import ReportRequest, usage_records

NO_GROUP = "(no group)"
NO_ACCOUNT = "(no account)"
TOTAL_LABEL = "TOTAL"
MONEY: DecimalField[Decimal, Decimal] = DecimalField(
    max_digits=MAX_DIGITS, decimal_places=STORED_DECIMALS
)
ZERO_MONEY = Value(Decimal(0), output_field=MONEY)
ZERO = Value(0, output_field=IntegerField())


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
