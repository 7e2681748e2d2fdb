"""Python with the product's settings in a child process: for what must not happen inside the
test process (a crash, a setting read at start-up, the embedded default's own broker)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_django(
    code: str, *arguments: str, environment: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `code` (which calls django.setup() itself) from the checkout, with `environment`
    plus the product's settings module; its output is captured as text."""
    return subprocess.run(
        [sys.executable, "-c", code, *arguments],
        env={**environment, "DJANGO_SETTINGS_MODULE": "printmgmt.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def ended_process_name() -> str:
    """The printmgmt.process_identity name of a process on this machine that has ended."""
    child = subprocess.run(
        [sys.executable, "-c", "import printmgmt.process_identity as p; print(p.current())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return child.stdout.strip()


def child_processes(pid: int) -> set[int]:
    """The pids of the processes `pid` started that are still running."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found
