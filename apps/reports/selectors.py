"""Reads of the reports app: what a report covers (its period, grouping and filters, checked
against the database) and the usage records it covers, as a query and as rows for exports.

The figures made from these records are in figures, their check against the ledger is in
reconciliation, and the whole report is put together in report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import (
    Case,
    CharField,
    DecimalField,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, Left, Round
from django.db.models.lookups import In
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.choices import AccountKind
from apps.accounts.errors import AccountError
from apps.accounts.models import Account, User
from apps.accounts.money import MAX_DIGITS, STORED_DECIMALS
from apps.accounts.selectors import account_resolve
from apps.printers.models import Printer
from apps.printers.selectors import printer_named
from apps.reports.choices import Grouping
from apps.reports.models import UsageRecord, UsageRecordGroup


class ReportError(Exception):
    """A report cannot be made as asked; the message says why, for a person."""


MONEY: DecimalField[Decimal, Decimal] = DecimalField(
    max_digits=MAX_DIGITS, decimal_places=STORED_DECIMALS
)

#: The days a report may cover. A period's bounds are instants in the site's time zone (the
#: day after its end included), which the database compares in UTC: near year 1 or 9999 they
#: fall outside what a datetime can hold. No print history is that old or that far ahead.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9998, 12, 31)


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
    def is_filtered(self) -> bool:
        return bool(self.user or self.group or self.account or self.printer)

    @property
    def filter_text(self) -> str:
        """The filters in the active language."""
        parts = [
            _("user %(name)s") % {"name": self.user.username} if self.user else "",
            _("group %(name)s") % {"name": self.group} if self.group else "",
            _("account %(name)s") % {"name": self.account.label} if self.account else "",
            _("printer %(name)s") % {"name": self.printer.name} if self.printer else "",
        ]
        return ", ".join(part for part in parts if part) or _("none")

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
        raise ReportError(
            _("%(label)s %(text)r is not a date: write YYYY-MM-DD.")
            % {"label": label, "text": text}
        ) from None


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
        raise ReportError(
            _("the period ends (%(last)s) before it starts (%(first)s).")
            % {"last": last, "first": first}
        )
    if first < FIRST_DAY:
        raise ReportError(
            _(
                "the period starts on %(first)s, before %(earliest)s: reports cover "
                "%(earliest)s to %(latest)s."
            )
            % {"first": first, "earliest": FIRST_DAY, "latest": LAST_DAY}
        )
    if last > LAST_DAY:
        raise ReportError(
            _(
                "the period ends on %(last)s, after %(latest)s: reports cover %(earliest)s to "
                "%(latest)s."
            )
            % {"last": last, "earliest": FIRST_DAY, "latest": LAST_DAY}
        )
    if grouping not in Grouping.values:
        raise ReportError(
            _("unknown grouping %(grouping)r: choose one of %(choices)s.")
            % {"grouping": grouping, "choices": ", ".join(Grouping.values)}
        )
    found_user = None
    if user.strip():
        found_user = User.objects.filter(username=user.strip()).first()
        if found_user is None:
            raise ReportError(_("no user is named %(name)r.") % {"name": user.strip()})
    group_name = group.strip()
    if (
        group_name
        and not Group.objects.filter(name=group_name).exists()
        and not UsageRecordGroup.objects.filter(name=group_name).exists()
    ):
        raise ReportError(_("no group is named %(name)r.") % {"name": group_name})
    found_account = None
    if account.strip():
        try:
            found_account = account_resolve(account)
        except AccountError as error:
            raise ReportError(str(error)) from None
    found_printer = None
    if printer.strip():
        found_printer = printer_named(printer.strip())
        if found_printer is None:
            raise ReportError(_("no printer is named %(name)r.") % {"name": printer.strip()})
    return ReportRequest(
        first, last, Grouping(grouping), found_user, group_name, found_account, found_printer
    )


def usage_records(request: ReportRequest) -> QuerySet[UsageRecord]:
    """The records of jobs that ended in the period and match the filters."""
    first, after = request.bounds
    return filtered_records(request).filter(ended_at__gte=first, ended_at__lt=after)


def filtered_records(request: ReportRequest) -> QuerySet[UsageRecord]:
    """The records that match the report's filters, whenever their jobs ended."""
    records = UsageRecord.objects.all()
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


#: A spreadsheet opening a CSV file takes a cell that starts with one of these for a formula
#: (OWASP's "CSV injection"): user, group, account and printer names must stay text there.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The record columns that hold text someone typed (names, option values).
_TEXT_FIELDS = frozenset(
    ("username", "primary_group", "account_name", "printer_name", "media", "finishings")
)


def _formula_quoted(field: str) -> Case:
    """The field, with a quote in front when a spreadsheet would read it as a formula (what
    spreadsheets themselves do to keep a typed value text)."""
    quoted = When(In(Left(F(field), 1), list(FORMULA_STARTS)), then=Concat(Value("'"), F(field)))
    return Case(quoted, default=F(field), output_field=CharField())


def _money_shown(field: str) -> Case:
    """The amount with the currency's places, written by the database itself (for COPY), and
    rounded only where that changes nothing: one stored with more places (before the site
    lowered CURRENCY_DECIMALS) keeps them, so the records add up to the report's total."""
    places = settings.CURRENCY_DECIMALS
    shown: DecimalField[Decimal, Decimal] = DecimalField(
        max_digits=MAX_DIGITS, decimal_places=places
    )
    exact = When(**{field: Round(F(field), places)}, then=Cast(field, shown))
    return Case(exact, default=F(field), output_field=MONEY)


def _yes_no(name: str) -> Case:
    yes = When(**{name: True}, then=Value("yes"))
    return Case(yes, default=Value("no"), output_field=CharField())


def record_values(
    request: ReportRequest, *, quote_formulas: bool = False
) -> QuerySet[UsageRecord, tuple[Any, ...]]:
    """Every record of the report as tuples in RECORD_COLUMNS order, money with the currency's
    places (see _money_shown), oldest first. With `quote_formulas`, text that a
    spreadsheet would take for a formula starts with a quote (for CSV files)."""
    quoted = {f"{field}_cell": _formula_quoted(field) for field in _TEXT_FIELDS}
    fields = [
        f"{field}_cell" if quote_formulas and field in _TEXT_FIELDS else field
        for field in _RECORD_FIELDS
    ]
    return (
        usage_records(request)
        .annotate(
            duplex_text=_yes_no("duplex"),
            color_text=_yes_no("color"),
            demo_text=_yes_no("is_demo"),
            charged_shown=_money_shown("charged"),
            refunded_shown=_money_shown("refunded"),
            cost_shown=_money_shown("cost"),
            **(quoted if quote_formulas else {}),
        )
        .order_by("ended_at", "id")
        .values_list(*fields)
    )
