from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.core.health import run_checks


class Command(BaseCommand):
    help = "Check that the database and the broker can be reached; exit non-zero if not."

    def handle(self, *args: Any, **options: Any) -> None:
        failures = [result for result in run_checks() if not result.ok]
        if failures:
            raise CommandError(
                "; ".join(f"{r.name} unreachable: {r.detail} ({r.fix})" for r in failures),
                returncode=2,
            )
        self.stdout.write("database and broker reachable")
