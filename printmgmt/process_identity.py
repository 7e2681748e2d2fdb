"""A name for the running process that another process can check later: is it still running?

The name is `host/boot/pid/start`: the machine's host name, the kernel's boot id, the process
id and the process's start time (in clock ticks since boot). A process id is reused after a
process ends, but not with the same start time in the same boot, so a name never matches a
later process. Only a process on the same machine (same host name and boot) can tell that a
named process is gone: for any other, or where Linux's /proc is missing, it is unknown, and
`is_gone` says False.

No Django here.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

PROC = Path("/proc")


def _boot_id() -> str:
    try:
        return (PROC / "sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot; None when it does not exist."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # Field 22 of stat(5); the command name (field 2) may hold spaces and parentheses.
    return stat.rsplit(")", 1)[1].split()[19]


def current() -> str:
    """This process's name; "" where it cannot be named (no /proc)."""
    boot, start = _boot_id(), _start_time(os.getpid())
    if not boot or start is None:
        return ""
    return f"{socket.gethostname()}/{boot}/{os.getpid()}/{start}"


def is_gone(name: str) -> bool:
    """Whether the process `name` (from `current`) has ended: known only on its machine."""
    parts = name.split("/")
    if len(parts) != 4 or not parts[2].isdigit():
        return False
    host, boot, pid, start = parts
    if host != socket.gethostname() or not boot or boot != _boot_id():
        return False
    return _start_time(int(pid)) != start
