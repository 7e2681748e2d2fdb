from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.accounts.services import demo_users_ensure
from apps.jobs.demo import demo_jobs_ensure


class Command(BaseCommand):
    help = (
        "Create the demo users (one per role and a superuser) if they are missing, and sample "
        "held jobs with some credit for the staff users. Passwords are printed once and kept in "
        "DATA_DIR/demo-users.txt (owner-only)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        created = demo_users_ensure()
        jobs = demo_jobs_ensure()
        if jobs:
            owners = sorted({job.owner.username for job in jobs})
            self.stdout.write(f"Sample held jobs for {', '.join(owners)}: {len(jobs)}")
        credentials_file = settings.DATA_DIR / "demo-users.txt"
        if not created:
            self.stdout.write(
                f"Demo users exist already; their passwords are in {credentials_file}"
            )
            return
        lines = [f"{user.username:<8} {user.password:<14} {user.role_name}" for user in created]
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(credentials_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as handle:
            handle.write("".join(line + "\n" for line in lines))
        self.stdout.write(f"Demo users (shown once; also kept in {credentials_file}):")
        self.stdout.write(f"  {'user':<8} {'password':<14} role")
        for line in lines:
            self.stdout.write(f"  {line}")
