"""A usage report put together: its figures, the ledger's side and the environment, the same
for every format (web page, CSV, spreadsheet, PDF).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.reports.choices import Grouping
from apps.reports.figures import (
    Environment,
    UsageRow,
    environment,
    over_time_grouping,
    top_rows,
    usage_rows,
    usage_total,
)
from apps.reports.reconciliation import Movements, Reconciliation, ledger_movements, reconciliation
from apps.reports.selectors import ReportRequest


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
    movements: Movements
    reconciliation: Reconciliation
    environment: Environment
    generated_at: datetime = field(default_factory=timezone.now)

    @property
    def title(self) -> str:
        """In the active language (the reader's)."""
        return _("Usage by %(grouping)s, %(start)s to %(end)s") % {
            "grouping": self.request.grouping.label,
            "start": self.request.start,
            "end": self.request.end,
        }


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
