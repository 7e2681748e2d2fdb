"""`seed_usage --jobs N`: a synthetic usage history (demo data) for demos and benchmarks."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.reports.demo import demo_usage_remove, seed_usage
from printmgmt.english import counted


class Command(BaseCommand):
    help = (
        "Add N demo usage records (is_demo = true, users, groups, accounts and printers named "
        "demo-...) spread over the last DAYS days. Not in the ledger: reports say so."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--jobs", type=int, help="How many demo records to add.")
        parser.add_argument("--users", type=int, default=200)
        parser.add_argument("--printers", type=int, default=10)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same history.")
        parser.add_argument(
            "--remove", action="store_true", help="Delete every demo record instead."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["remove"]:
            removed = demo_usage_remove()
            self.stdout.write(f"removed {counted(removed, 'demo usage record')}")
            return
        if options["jobs"] is None:
            raise CommandError("give --jobs N (how many demo records to add) or --remove.")
        for name in ("jobs", "users", "printers", "days"):
            if options[name] < 1:
                raise CommandError(f"--{name} {options[name]} must be 1 or more.")
        started = time.monotonic()
        count = seed_usage(
            options["jobs"], options["users"], options["printers"], options["days"], options["seed"]
        )
        took = time.monotonic() - started
        self.stdout.write(f"added {counted(count, 'demo usage record')} in {took:.1f} s")
