"""The figures of a usage report: jobs, pages, sides, sheets and money per user, group, account,
printer or period, and what the sheets weigh in paper, trees, CO₂ and energy. Every figure is
aggregated by the database (GROUP BY).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Expression,
    F,
    IntegerField,
    Max,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Account, User
from apps.accounts.money import MAX_DIGITS, STORED_DECIMALS, exact_money
from apps.printers.models import Printer
from apps.reports import conf
from apps.reports.choices import TIME_GROUPINGS, Grouping
from apps.reports.models import UsageRecord
from apps.reports.selectors import ReportRequest, usage_records

MONEY: DecimalField[Decimal, Decimal] = DecimalField(
    max_digits=MAX_DIGITS, decimal_places=STORED_DECIMALS
)
ZERO_MONEY = Value(Decimal(0), output_field=MONEY)
ZERO = Value(0, output_field=IntegerField())


# ------------------------------------------------------------------------- usage


# Labels are in the active language, the reader's; CSV files are made in English
# (exports.CSV_LANGUAGE), so that files read by their labels find the TOTAL line in each.
def total_label() -> str:
    return _("TOTAL")


def _no_group_label() -> str:
    return _("(no group)")


def _no_account_label() -> str:
    return _("(no account)")


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


#: Groupings by someone or something on file: the foreign key they are grouped by, and the
#: name copied into each record, which labels the group.
NAMED_GROUPINGS = {
    Grouping.USER: ("user", "username"),
    Grouping.ACCOUNT: ("account", "account_name"),
    Grouping.PRINTER: ("printer", "printer_name"),
}


def _grouped(request: ReportRequest, grouping: Grouping) -> QuerySet[UsageRecord, dict[str, Any]]:
    """The report's figures per group, keyed by `key`. Users, accounts and printers are
    grouped by who or what they are, not by name: a user renamed and a new user given the old
    name are two rows, while a printer's records under its old and new name are one."""
    if grouping in TIME_GROUPINGS:
        key: Expression | F = Trunc(
            "ended_at", str(grouping), tzinfo=timezone.get_current_timezone()
        )
    elif grouping == Grouping.GROUP:
        key = F("primary_group")
    else:
        key = F(f"{NAMED_GROUPINGS[grouping][0]}_id")
    return usage_records(request).annotate(key=key).values("key").annotate(**FIGURES)


def period_label(grouping: Grouping, value: datetime | date) -> str:
    day = timezone.localtime(value).date() if isinstance(value, datetime) else value
    if grouping == Grouping.WEEK:
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}"
    if grouping == Grouping.MONTH:
        return f"{day:%Y-%m}"
    return day.isoformat()


def _labelled(
    request: ReportRequest, grouping: Grouping, groups: list[dict[str, Any]]
) -> list[UsageRow]:
    """The groups as rows, each with what it is called in the report."""
    if grouping in TIME_GROUPINGS:
        return [_row(period_label(grouping, group["key"]), group) for group in groups]
    if grouping == Grouping.GROUP:
        return [_row(_group_label(group["key"]), group) for group in groups]
    labels = _named_labels(request, grouping)
    return [_row(labels[group["key"]], group) for group in groups]


def _group_label(name: str) -> str:
    if not name:
        return _no_group_label()
    # A group named TOTAL must not pass for the total line.
    return _("%(name)s (group)") % {"name": name} if name == total_label() else name


def _named_labels(request: ReportRequest, grouping: Grouping) -> dict[int | None, str]:
    """The label of every user, account or printer in the report (the same in each of its
    tables): the name of their latest record in the period, told apart by _distinct."""
    foreign_key, name = NAMED_GROUPINGS[grouping]
    names = (
        usage_records(request)
        .values(f"{foreign_key}_id", name)
        .annotate(last=Max("ended_at"))
        .order_by("last")
    )
    # A later name of the same group overwrites an earlier one.
    labels = {row[f"{foreign_key}_id"]: row[name] or _no_account_label() for row in names}
    return _distinct(grouping, labels)


def _current_names(grouping: Grouping, keys: list[int]) -> dict[int, str]:
    if grouping == Grouping.USER:
        return dict(User.objects.filter(pk__in=keys).values_list("pk", "username"))
    if grouping == Grouping.PRINTER:
        return dict(Printer.objects.filter(pk__in=keys).values_list("pk", "name"))
    accounts = Account.objects.filter(pk__in=keys).select_related("owner")
    return {account.pk: account.label for account in accounts}


def _distinct(grouping: Grouping, labels: dict[int | None, str]) -> dict[int | None, str]:
    """Labels that tell groups of one name apart, and from the TOTAL line (a user or printer
    named TOTAL passed for it, in files read by the label): the name a user, account or
    printer has now is added when it was renamed since, else its id."""
    taken = Counter([total_label()])
    counts = Counter(labels.values()) + taken
    shared = [key for key, label in labels.items() if counts[label] > 1 and key is not None]
    current = _current_names(grouping, shared)
    for key in shared:
        if current.get(key, labels[key]) != labels[key]:
            labels[key] = _("%(label)s (now %(name)s)") % {
                "label": labels[key],
                "name": current[key],
            }
    counts = Counter(labels.values()) + taken
    for key in shared:
        if counts[labels[key]] > 1:
            labels[key] = _("%(label)s (id %(id)s)") % {"label": labels[key], "id": key}
    return labels


def _row(label: str, values: dict[str, Any]) -> UsageRow:
    return UsageRow(
        label=label,
        jobs=int(values["jobs"]),
        pages=int(values["pages"]),
        sides=int(values["sides"]),
        sheets=int(values["sheets"]),
        charged=exact_money(Decimal(values["charged"])),
        refunded=exact_money(Decimal(values["refunded"])),
        cost=exact_money(Decimal(values["cost"])),
    )


def usage_rows(request: ReportRequest, grouping: Grouping | None = None) -> list[UsageRow]:
    """One row per user, group, account, printer or period, in order of the grouping (periods
    in time, the others by label)."""
    chosen = grouping or request.grouping
    rows = _labelled(request, chosen, list(_grouped(request, chosen).order_by("key")))
    if chosen in NAMED_GROUPINGS:
        rows.sort(key=lambda row: (row.label.casefold(), row.label))
    return rows


def usage_total(request: ReportRequest) -> UsageRow:
    return _row(total_label(), usage_records(request).aggregate(**FIGURES))


def top_rows(request: ReportRequest, grouping: Grouping, limit: int = 10) -> list[UsageRow]:
    """The `limit` users or printers that cost most (then printed most sheets)."""
    groups = _grouped(request, grouping).order_by("-cost", "-sheets", "key")[:limit]
    return _labelled(request, grouping, list(groups))


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
            (_("Sheets"), str(self.sheets)),
            (_("Paper (kg)"), str(self.paper_kg)),
            (_("Trees"), str(self.trees)),
            (_("CO₂ (kg)"), str(self.co2_kg)),
            (_("Energy (kWh)"), str(self.energy_kwh)),
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
