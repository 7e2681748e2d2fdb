"""Synthetic usage history for demos and benchmarks, marked is_demo on every row."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.choices import AccountKind
from apps.accounts.models import Account, User
from apps.jobs.choices import JobState
from apps.printers.choices import PrinterKind
from apps.printers.models import Printer
from apps.reports.models import UsageRecord, UsageRecordGroup
from apps.reports.services import primary_group

BATCH = 10_000
DEMO_PREFIX = "demo-"
# Price of one side in cents: (grey, colour) for one-sided and two-sided printing.
SIDE_CENTS = {False: (10, 8), True: (50, 40)}
MEDIA = ("iso_a4_210x297mm", "iso_a4_210x297mm", "iso_a4_210x297mm", "iso_a3_297x420mm")
FINISHINGS = ("", "", "", "", "staple=20", "punch=74", "staple=20, punch=74")
COLUMNS = (
    "job_id", "is_demo", "user_id", "username", "primary_group", "account_id", "account_name",
    "printer_id", "printer_name", "document_pages", "copies", "pages", "sides", "sheets",
    "duplex", "color", "media", "finishings", "charged", "refunded", "cost", "state",
    "submitted_at", "ended_at", "recorded_at",
)  # fmt: skip


@dataclass(frozen=True)
class Cast:
    users: list[tuple[int, str, str]]  # id, username, primary group
    personal: dict[int, tuple[int, str]]  # user id → account id, label
    shared: list[tuple[int, str]]
    printers: list[tuple[int, str]]


def _cast(users: int, printers: int) -> Cast:
    """Demo users (in department groups), their personal accounts, shared accounts, printers;
    reused when they exist already."""
    departments = [
        Group.objects.get_or_create(name=f"{DEMO_PREFIX}department-{number:02d}")[0]
        for number in range(1, max(3, users // 25) + 1)
    ]
    names = [f"{DEMO_PREFIX}user-{number:05d}" for number in range(1, users + 1)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    User.objects.bulk_create(
        [
            User(username=name, is_active=False, password=make_password(None))
            for name in names
            if name not in existing
        ]
    )
    people = list(User.objects.filter(username__in=names).order_by("username"))
    membership = User.groups.through
    membership.objects.filter(user__in=people).delete()
    membership.objects.bulk_create(
        [
            membership(user_id=person.pk, group_id=departments[index % len(departments)].pk)
            for index, person in enumerate(people)
        ]
    )
    owned = set(Account.objects.filter(owner__in=people).values_list("owner_id", flat=True))
    Account.objects.bulk_create(
        [Account(kind=AccountKind.PERSONAL, owner=p) for p in people if p.pk not in owned]
    )
    personal = {
        owner: (pk, f"personal account of {name}")
        for pk, owner, name in Account.objects.filter(owner__in=people).values_list(
            "pk", "owner_id", "owner__username"
        )
    }
    shared = [
        Account.objects.get_or_create(
            kind=AccountKind.SHARED,
            name=f"{DEMO_PREFIX}project-{number:02d}",
            defaults={"description": "demo data"},
        )[0]
        for number in range(1, 6)
    ]
    machines = [
        Printer.objects.get_or_create(
            name=f"{DEMO_PREFIX}printer-{number:02d}",
            defaults={
                "uri": "ipp://demo.invalid/ipp/print",
                "kind": PrinterKind.DRIVERLESS,
                "enabled": False,
                "location": "demo data",
            },
        )[0]
        for number in range(1, printers + 1)
    ]
    group_of = {
        person.pk: departments[index % len(departments)].name for index, person in enumerate(people)
    }
    return Cast(
        users=[(p.pk, p.username, primary_group([group_of[p.pk]])) for p in people],
        personal=personal,
        shared=[(a.pk, a.label) for a in shared],
        printers=[(p.pk, p.name) for p in machines],
    )


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _rows(cast: Cast, jobs: int, days: int, seed: int) -> Iterator[tuple[Any, ...]]:
    chance = random.Random(seed)  # noqa: S311 - demo data, not secrets
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    now = timezone.now()
    weights = [1.0 / (rank + 1) for rank in range(len(cast.users))]  # a few print a lot
    people = chance.choices(cast.users, weights=weights, k=jobs)
    for user_id, username, group in people:
        day = today - timedelta(days=chance.randrange(days))
        moment = datetime.combine(day, time(7), tzinfo=zone) + timedelta(
            seconds=chance.randrange(12 * 3600)
        )
        pages = max(1, int(chance.expovariate(1 / 6)))
        copies = 1 if chance.random() < 0.85 else chance.randint(2, 20)
        duplex = chance.random() < 0.45
        color = chance.random() < 0.2
        sides = pages * copies
        sheets = (-(-pages // 2) if duplex else pages) * copies
        charged_cents = sides * SIDE_CENTS[color][int(duplex)]
        state = JobState.COMPLETED
        printed_pages, printed_sides, printed_sheets = pages * copies, sides, sheets
        refunded_cents = 0
        if chance.random() < 0.03:
            state = chance.choice((JobState.FAILED, JobState.CANCELED))
            printed_pages = printed_sides = printed_sheets = 0
            refunded_cents = charged_cents
        if chance.random() < 0.2:
            account_id, account_name = chance.choice(cast.shared)
        else:
            account_id, account_name = cast.personal[user_id]
        printer_id, printer_name = chance.choice(cast.printers)
        yield (
            None, True, user_id, username, group, account_id, account_name, printer_id,
            printer_name, pages, copies, printed_pages, printed_sides, printed_sheets, duplex,
            color, chance.choice(MEDIA), chance.choice(FINISHINGS), _money(charged_cents),
            _money(refunded_cents), _money(charged_cents - refunded_cents), str(state),
            moment - timedelta(minutes=chance.randrange(1, 600)), moment, now,
        )  # fmt: skip


def demo_usage_remove() -> int:
    """Delete every demo usage record (the trigger lets only these go); returns how many.
    The demo users, accounts and printers stay."""
    table = UsageRecord._meta.db_table
    group_table = UsageRecordGroup._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {group_table} WHERE record_id IN "  # noqa: S608
            f"(SELECT id FROM {table} WHERE is_demo)"
        )
        cursor.execute(f"DELETE FROM {table} WHERE is_demo")  # noqa: S608
        return int(cursor.rowcount)


def seed_usage(jobs: int, users: int, printers: int, days: int, seed: int = 1) -> int:
    """Add `jobs` demo usage records over the last `days` days; returns how many."""
    cast = _cast(users, printers)
    table = UsageRecord._meta.db_table
    group_table = UsageRecordGroup._meta.db_table
    with transaction.atomic():
        first_new = (UsageRecord.objects.order_by("-id").values_list("id", flat=True).first()) or 0
        rows = _rows(cast, jobs, days, seed)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                statement = f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN"
                with cursor.cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            batch: list[UsageRecord] = []
            for row in rows:
                batch.append(UsageRecord(**dict(zip(COLUMNS, row, strict=True))))
                if len(batch) == BATCH:
                    UsageRecord.objects.bulk_create(batch)
                    batch = []
            UsageRecord.objects.bulk_create(batch)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {group_table} (record_id, name) SELECT id, primary_group "  # noqa: S608
                f"FROM {table} WHERE id > %s AND is_demo AND primary_group <> ''",
                [first_new],
            )
    return jobs
