"""Reachability checks for the database and the broker, shared by /healthz and `preflight`."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection
from kombu import Connection

from printmgmt.filesystem_broker import folders

CHECK_TIMEOUT_SECONDS = 3


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "detail": self.detail}


def check_database() -> CheckResult:
    vendor = connection.vendor
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return CheckResult(
            "database", False, f"{vendor}: {_first_line(error)}", "check DATABASE_URL"
        )
    return CheckResult("database", True, vendor)


def check_broker() -> CheckResult:
    url: str = settings.CELERY_BROKER_URL
    options: dict[str, object] = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    if url.startswith("filesystem://"):
        return _check_broker_folders(options)
    try:
        with Connection(url, connect_timeout=CHECK_TIMEOUT_SECONDS) as broker:
            broker.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as error:
        return CheckResult(
            "broker", False, f"{_redacted(url)}: {_first_line(error)}", "check CELERY_BROKER_URL"
        )
    return CheckResult("broker", True, _redacted(url))


def _check_broker_folders(options: dict[str, object]) -> CheckResult:
    for folder in folders(options):
        where = f"local broker folder {folder.path} ({folder.option}: {folder.holds})"
        try:
            folder.path.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            return _broker_folder_failed(f"{where} is a file, not a folder")
        except OSError as error:
            return _broker_folder_failed(f"{where} is missing and cannot be created: {error}")
        probe = folder.path / ".healthz"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            return _broker_folder_failed(f"{where} is not writable: {error}")
    return CheckResult("broker", True, "local file-system broker")


def _broker_folder_failed(detail: str) -> CheckResult:
    return CheckResult("broker", False, detail, "check PRINTMGMT_DATA_DIR")


def run_checks() -> list[CheckResult]:
    return [check_database(), check_broker()]


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _redacted(url: str) -> str:
    """The broker URL without its password, fit to show."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
