"""`manage.py report` and `manage.py seed_usage`: CSV parsed back, totals, clear errors."""

from __future__ import annotations

import csv
import errno
import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test.utils import override_settings
from django.utils import timezone

from apps.reports.models import UsageRecord
from tests.reports.conftest import History

pytestmark = pytest.mark.django_db


@pytest.fixture
def today() -> str:
    return timezone.localdate().isoformat()


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as text:
        return list(csv.DictReader(text))


@pytest.mark.parametrize(
    "grouping", ["user", "group", "account", "printer", "day", "week", "month"]
)
def test_csv_has_the_columns_and_the_same_total_for_every_grouping(
    history: History, tmp_path: Path, today: str, grouping: str
) -> None:
    output = tmp_path / "report.csv"
    call_command(
        "report", "usage", "--from", today, "--to", today, "--by", grouping,
        "--output", str(output),
    )  # fmt: skip
    rows = _csv(output)
    assert list(rows[0])[:1] == [grouping]
    assert {"jobs", "pages", "sheets", "cost"} <= set(rows[0])
    total = rows[-1]
    assert total[grouping] == "TOTAL"
    assert (total["jobs"], total["pages"], total["sheets"], total["cost"]) == (
        "5", "28", "22", "4.50",
    )  # fmt: skip
    body = rows[:-1]
    assert sum(Decimal(row["cost"]) for row in body) == Decimal(total["cost"])
    assert sum(int(row["jobs"]) for row in body) == 5


def test_filters_on_the_command_line(history: History, tmp_path: Path, today: str) -> None:
    output = tmp_path / "bob.csv"
    call_command(
        "report", "usage", "--from", today, "--to", today, "--by", "printer", "--user", "bob",
        "--output", str(output),
    )  # fmt: skip
    rows = _csv(output)
    assert [row["printer"] for row in rows] == ["colour", "laser", "TOTAL"]
    assert rows[-1]["cost"] == "0.40"


def test_records_csv_lists_every_record(history: History, tmp_path: Path, today: str) -> None:
    output = tmp_path / "records.csv"
    call_command("report", "records", "--from", today, "--to", today, "--output", str(output))
    rows = _csv(output)
    assert len(rows) == 5
    assert {int(row["job_id"]) for row in rows} == {job.pk for job in history.jobs.values()}
    assert sum(Decimal(row["cost"]) for row in rows) == Decimal("4.50")
    duplex = next(row for row in rows if row["job_id"] == str(history.jobs["alice-duplex"].pk))
    assert (duplex["sheets"], duplex["duplex"], duplex["group"]) == ("9", "yes", "Design")


def test_an_empty_period_has_the_header_and_a_zero_total(history: History, tmp_path: Path) -> None:
    output = tmp_path / "empty.csv"
    call_command(
        "report", "usage", "--from", "2001-01-01", "--to", "2001-01-31", "--output", str(output)
    )
    rows = _csv(output)
    assert rows == [
        {"user": "TOTAL", "jobs": "0", "pages": "0", "sides": "0", "sheets": "0",
         "charged": "0.00", "refunded": "0.00", "cost": "0.00"},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from", "2026-02-01", "--to", "2026-01-01"], "before it starts"),
        (["--from", "2026-11-01", "--to", "9999-12-31"], "ends on 9999-12-31, after 9998-12-31"),
        (["--from", "2026-01-01", "--to", "2026-01-31", "--user", "nobody"], "no user is named"),
        (["--from", "2026-01-01", "--to", "2026-01-31", "--group", "ghosts"], "no group"),
        (["--from", "2026-01-01", "--to", "2026-01-31", "--printer", "ghost"], "no printer"),
        (["--from", "2026-01-01", "--to", "2026-01-31", "--format", "pdf"], "needs --output"),
        (["--from", "2026-01-01", "--to", "2026-01-31", "--as", "sam"], "Finance role"),
        (["--from", "2026-01-01", "--to", "2026-01-31", "--as", "nobody"], "no such user"),
    ],
)
def test_bad_input_gives_a_clear_message(
    history: History, arguments: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("report", "usage", *arguments)


@override_settings(TIME_ZONE="Europe/Berlin")
def test_a_period_from_the_first_day_of_the_calendar_is_refused(history: History) -> None:
    with pytest.raises(CommandError, match="starts on 0001-01-01, before 1900-01-01"):
        call_command("report", "usage", "--from", "0001-01-01", "--to", "2026-01-31")


def test_a_finance_user_may_ask_on_the_command_line(
    history: History, tmp_path: Path, today: str
) -> None:
    output = tmp_path / "fiona.csv"
    call_command(
        "report", "usage", "--from", today, "--to", today, "--as", "fiona", "--output", str(output)
    )
    assert _csv(output)[-1]["cost"] == "4.50"


def test_seed_usage_makes_demo_records_that_reports_keep_apart(tmp_path: Path) -> None:
    call_command(
        "seed_usage", "--jobs", "3000", "--users", "30", "--printers", "3", "--days", "20",
        stdout=io.StringIO(),
    )  # fmt: skip
    assert UsageRecord.objects.filter(is_demo=True).count() == 3000
    start = (timezone.localdate() - timedelta(days=30)).isoformat()
    end = timezone.localdate().isoformat()
    totals = set()
    for grouping in ("user", "group", "printer", "account", "week"):
        output = tmp_path / f"{grouping}.csv"
        call_command(
            "report", "usage", "--from", start, "--to", end, "--by", grouping,
            "--output", str(output),
        )  # fmt: skip
        total = _csv(output)[-1]
        totals.add((total["jobs"], total["cost"]))
    assert len(totals) == 1
    assert next(iter(totals))[0] == "3000"
    with pytest.raises(CommandError, match="--jobs 0 must be 1 or more"):
        call_command("seed_usage", "--jobs", "0")


@pytest.mark.parametrize(
    ("failure", "raised", "message"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), CommandError, "No space left"),
        (RuntimeError("the report broke"), RuntimeError, "the report broke"),
    ],
)
def test_a_failed_write_leaves_no_partial_file(
    history: History,
    tmp_path: Path,
    today: str,
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
    raised: type[Exception],
    message: str,
) -> None:
    def write_then_fail(*args: object) -> None:
        out = args[3]
        assert isinstance(out, io.BufferedWriter)
        out.write(b"jobs,pages\r\n")
        raise failure

    folder = tmp_path / "reports"
    folder.mkdir()
    earlier = folder / "earlier.csv"
    earlier.write_text("an earlier report\n")
    monkeypatch.setattr("apps.reports.management.commands.report.write_export", write_then_fail)
    for output in (folder / "report.csv", earlier):
        with pytest.raises(raised, match=message):
            call_command("report", "usage", "--from", today, "--to", today, "--output", str(output))
    assert [path.name for path in folder.iterdir()] == ["earlier.csv"]
    assert earlier.read_text() == "an earlier report\n"
