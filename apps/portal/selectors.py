"""Reads for the portal pages: a user's own jobs, the printers and options they may choose."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    Count,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Window,
)
from django.db.models.sql.compiler import SQLCompiler
from django.shortcuts import get_object_or_404

from apps.accounts.choices import EntryKind
from apps.accounts.models import LedgerEntry, User
from apps.accounts.roles import MANAGE_PRINTERS, permission_name
from apps.jobs.choices import TERMINAL_STATES, JobState
from apps.jobs.models import Job
from apps.jobs.release import offered_options
from apps.printers.models import Printer, PrinterGroup
from apps.printers.selectors import printers_usable_by
from printmgmt.ppde import OfferedChoice, OfferedOption

if TYPE_CHECKING:
    from django.db.models.sql.compiler import _AsSqlType

HISTORY_LENGTH = 100
#: Held jobs per inbox page: a list of hundreds, each with a thumbnail, is slow to send and
#: to scroll through; newer ones come first and "Release all" still takes every one.
INBOX_PAGE_SIZE = 50
#: Page numbers are capped here before they reach the database (past the end means the last).
MAX_INBOX_PAGE = 1_000_000


def held_jobs_of(user: User) -> QuerySet[Job]:
    """The user's inbox, newest first."""
    return Job.objects.filter(owner=user, state=JobState.HELD).order_by("-created_at", "-pk")


class EpochSeconds(Func):
    """A time as seconds since 1970 (a float), computed by the database: an inbox reads two
    times per job, and loading floats costs a fraction of loading aware datetimes."""

    output_field = FloatField()

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> _AsSqlType:
        # date_part() is double precision; EXTRACT() is numeric, which loads as a Decimal.
        return self.as_sql(compiler, connection, template="date_part('epoch', %(expressions)s)")

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> _AsSqlType:
        # SQLite keeps times as UTC text; 2440587.5 is the Julian day of 1970-01-01 00:00.
        return self.as_sql(
            compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)"
        )


class JsonArrayLength(Func):
    """The number of items of a JSON list, computed by the database: the inbox shows how many
    documents a job has, and loading the list of them costs more."""

    output_field = IntegerField()

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> _AsSqlType:
        return self.as_sql(compiler, connection, function="jsonb_array_length")

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> _AsSqlType:
        return self.as_sql(compiler, connection, function="json_array_length")


# pk, title, source, page count, created and expires (seconds since 1970), and documents (0
# for a job of one document).
InboxLine = tuple[int, str, str, int, float, float, int]


@dataclass(frozen=True)
class InboxPage:
    """One page of a user's held jobs, and how many they hold in all."""

    lines: list[InboxLine]
    number: int
    total: int
    size: int = INBOX_PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        return (self.number - 1) * self.size + 1

    @property
    def last(self) -> int:
        return self.first + len(self.lines) - 1

    @property
    def newer(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def older(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def _inbox_rows(user: User, number: int) -> list[tuple[Any, ...]]:
    """Page `number` of the inbox as plain values (no model instances), each row ending with
    the number of held jobs in all (a window count: one query for both)."""
    start = (number - 1) * INBOX_PAGE_SIZE
    return list(
        held_jobs_of(user).values_list(
            "pk",
            "title",
            "source",
            "page_count",
            EpochSeconds("created_at"),
            EpochSeconds("expires_at"),
            JsonArrayLength("documents"),
            Window(Count("pk")),
        )[start : start + INBOX_PAGE_SIZE]
    )


def inbox_page(user: User, number: int) -> InboxPage:
    """Page `number` (from 1) of the user's inbox; a number past the end gives the last page."""
    number = min(max(number, 1), MAX_INBOX_PAGE)
    rows = _inbox_rows(user, number)
    if not rows and number > 1:
        number = max(1, -(-held_jobs_of(user).count() // INBOX_PAGE_SIZE))
        rows = _inbox_rows(user, number)
    lines = [cast("InboxLine", row[:-1]) for row in rows]
    return InboxPage(lines, number, rows[0][-1] if rows else 0)


def job_history_of(user: User) -> QuerySet[Job]:
    """The user's released and ended jobs, newest first, with what the page shows of each."""
    refunds = (
        LedgerEntry.objects.filter(kind=EntryKind.REFUND, job_id=OuterRef("pk"))
        .values("job_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return (
        Job.objects.filter(owner=user)
        .exclude(state=JobState.HELD)
        .select_related("printer", "account", "account__owner")
        .annotate(refunded=Subquery(refunds))
        .order_by("-state_changed_at", "-pk")[:HISTORY_LENGTH]
    )


def jobs_in_progress(jobs: list[Job]) -> bool:
    return any(job.state not in TERMINAL_STATES for job in jobs)


def own_job(user: User, job_id: int) -> Job:
    """One of the user's own jobs; 404 for anybody else's (their existence is not revealed)."""
    return get_object_or_404(Job, pk=job_id, owner=user)


def own_held_job(user: User, job_id: int) -> Job:
    return get_object_or_404(Job, pk=job_id, owner=user, state=JobState.HELD)


def printers_for(user: User) -> list[Printer]:
    """Printers the user may release to, by name."""
    return list(printers_usable_by(user).select_related("rule_file"))


@dataclass(frozen=True)
class FollowMeGroup:
    """A printer group and those of its printers the user may use, by name."""

    group: PrinterGroup
    printers: tuple[Printer, ...]

    @property
    def choice(self) -> str:
        return f"group:{self.group.pk}"


def follow_me_groups_for(printers: list[Printer]) -> list[FollowMeGroup]:
    """Printer groups with at least one of `printers` (those a user may use), by name."""
    usable = {printer.pk: printer for printer in printers}
    members = (
        PrinterGroup.printers.through.objects.filter(printer_id__in=list(usable))
        .select_related("printergroup")
        .order_by("printergroup__name")
    )
    by_group: dict[int, list[Printer]] = {}
    groups: dict[int, PrinterGroup] = {}
    for member in members:
        groups[member.printergroup_id] = member.printergroup
        by_group.setdefault(member.printergroup_id, []).append(usable[member.printer_id])
    return [
        FollowMeGroup(group, tuple(sorted(by_group[pk], key=lambda p: p.name)))
        for pk, group in groups.items()
    ]


def is_operator(user: User) -> bool:
    return user.has_perm(permission_name(MANAGE_PRINTERS))


#: The choice that leaves an option to the printer follow-me picks (its own default).
PRINTER_DEFAULT = ""


def offered_options_of_any(
    printers: tuple[Printer, ...], *, operator: bool
) -> tuple[OfferedOption, ...]:
    """What a follow-me group offers: every option and choice of any of its printers.

    An option its printers do not all offer with the same default starts at PRINTER_DEFAULT:
    left so, each printer uses its own default (one printer's default may be a value another
    refuses); chosen, follow-me picks a printer that has it."""
    merged: dict[str, OfferedOption] = {}
    defaults: dict[str, list[str | None]] = {}  # one per printer that offers the option
    for printer in printers:
        for option in offered_options(printer, operator=operator):
            defaults.setdefault(option.attribute, []).append(option.default)
            known = merged.get(option.attribute)
            if known is None:
                merged[option.attribute] = option
                continue
            values = {choice.value for choice in known.choices}
            extra = tuple(choice for choice in option.choices if choice.value not in values)
            if extra:
                merged[option.attribute] = replace(known, choices=known.choices + extra)
    for name, option in merged.items():
        seen = defaults[name]
        if len(seen) < len(printers) or len(set(seen)) > 1:
            either = OfferedChoice(PRINTER_DEFAULT, operator_only=False)
            merged[name] = replace(
                option, choices=(either, *option.choices), default=PRINTER_DEFAULT
            )
    return tuple(merged.values())
