"""`make run` (scripts/run.sh) stops every process it started when it is sent SIGTERM: to its
whole process group, as systemd, `docker stop` of a shell-less image and `kill -- -PGID` do,
or to the script alone. A Celery worker that dies is started again, and one that keeps dying
stops the run, which then says why. With HOST set to an address other than loopback (IPv4 or
IPv6), it waits for its server there and says the URL that reaches it."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pdfs import make_pdf
from tests.peers import free_port, ipv6_loopback
from tests.web import login_page_served, refuses_connections
from tests.workers import ROOT

#: Setting up a new data dir (migrations, demo users and jobs) and starting everything.
START_SECONDS = 240
#: How long every process may take to end after the SIGTERM, on a busy machine.
STOP_SECONDS = 30


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            children = {int(child) for child in (task / "children").read_text().split()}
        except FileNotFoundError:
            continue
        for child in children:
            found |= {child} | descendants(child)
    return found


def running(pid: int) -> bool:
    """The process exists and is not a zombie waiting for its parent to read its status."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return status.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class Run:
    script: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    environment: dict[str, str]
    output_path: Path

    def serves(self) -> bool:
        return login_page_served(f"http://127.0.0.1:{self.port}/")

    @property
    def worker_log(self) -> Path:
        return self.data_dir / "log" / "worker.log"

    def worker_starts(self) -> int:
        """How many times a worker has become ready."""
        return self.worker_log.read_text().count("ready.") if self.worker_log.exists() else 0

    def worker_ready(self) -> bool:
        return self.worker_starts() > 0

    def worker_pid(self) -> int:
        """The Celery worker the script started (its main process)."""
        children = Path(f"/proc/{self.script.pid}/task/{self.script.pid}/children").read_text()
        for pid in map(int, children.split()):
            if b"worker" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
                return pid
        raise AssertionError("no Celery worker is running under the script")

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def processes(self) -> set[int]:
        return {self.script.pid} | descendants(self.script.pid)

    def wait_until_gone(self, processes: set[int]) -> set[int]:
        """The processes still running after STOP_SECONDS."""
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline:
            self.script.poll()  # reads the script's status, so it does not stay a zombie
            left = {pid for pid in processes if running(pid)}
            if not left:
                return left
            time.sleep(0.2)
        return left


def run_environment(
    tmp_path: Path, port: int, *, demo_printers: bool, host: str = "127.0.0.1"
) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("CELERY_BROKER_URL", "DATABASE_URL", "CACHE_URL", "DNSSD_ENABLED")
    }
    environment.update(
        PRINTMGMT_DATA_DIR=str(tmp_path / "data"),
        HOST=host,
        PORT=str(port),
        WEB_WORKERS="2",
        DEMO_PRINTERS="1" if demo_printers else "0",
    )
    return environment


def start_run(tmp_path: Path, *, demo_printers: bool) -> Run:
    port = free_port()
    environment = run_environment(tmp_path, port, demo_printers=demo_printers)
    output = (tmp_path / "run.log").open("ab")
    # Its own session and process group, as a service manager starts it.
    script = subprocess.Popen(
        ["bash", "scripts/run.sh"], cwd=ROOT, env=environment, stdout=output,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    run = Run(script, port, tmp_path / "data", environment, tmp_path / "run.log")
    deadline = time.monotonic() + START_SECONDS
    while not (run.serves() and run.worker_ready()):
        if script.poll() is not None or time.monotonic() > deadline:
            log = (tmp_path / "run.log").read_text(errors="replace")
            raise AssertionError(f"make run did not start:\n{log[-3000:]}")
        time.sleep(0.5)
    return run


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[Run]]:
    """The runs a test starts; whatever of them is left at its end is killed."""
    runs: list[Run] = []
    yield runs
    for run in runs:
        for pid in run.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        run.script.wait()


def test_sigterm_to_the_process_group_stops_every_process(
    tmp_path: Path, started: list[Run]
) -> None:
    run = start_run(tmp_path, demo_printers=True)
    started.append(run)
    processes = run.processes()
    os.killpg(run.script.pid, signal.SIGTERM)
    left = run.wait_until_gone(processes)
    assert not left, [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in left]
    assert run.script.wait() == 0
    assert refuses_connections(run.port)
    # The worker stopped warmly, as on Ctrl-C: its pool processes were not killed under it
    # (one killed holding the pool's queue lock left the worker waiting at exit, forever).
    worker_log = (run.data_dir / "log" / "worker.log").read_text()
    assert "Warm shutdown" in worker_log
    assert "exited with 'signal 15 (SIGTERM)'" not in worker_log


def test_sigterm_to_the_script_alone_stops_every_process(
    tmp_path: Path, started: list[Run]
) -> None:
    run = start_run(tmp_path, demo_printers=False)
    started.append(run)
    processes = run.processes()
    run.script.send_signal(signal.SIGTERM)
    left = run.wait_until_gone(processes)
    assert not left, [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in left]
    assert run.script.wait() == 0
    assert refuses_connections(run.port)


def test_a_killed_worker_is_started_again_and_one_that_keeps_dying_stops_the_run(
    tmp_path: Path, started: list[Run]
) -> None:
    run = start_run(tmp_path, demo_printers=True)
    started.append(run)
    killed = run.worker_pid()
    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + START_SECONDS
    while run.worker_starts() < 2:
        assert run.script.poll() is None, run.output()[-3000:]
        assert time.monotonic() < deadline, "the worker was not started again"
        time.sleep(0.5)
    assert (
        f"==> the Celery worker (pid {killed}) was killed by SIGKILL; its log: {run.worker_log}; "
        "starting it again"
    ) in run.output()
    # The product goes on: it serves, and the new worker sends a released job to a printer.
    assert run.serves()
    printed = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "lp", "-U", "alice", "-d", "demo-finisher",
         "-H", "immediate", "--wait", str(make_pdf(tmp_path / "page.pdf", 1))],
        cwd=ROOT, env=run.environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert printed.returncode == 0, printed
    assert "completed" in printed.stdout, printed

    # Killed again and again right after its start, it is taken for broken: the run stops.
    processes = run.processes()
    for _ in range(4):  # the 3 quick deaths, and one more if the first came late
        starts = run.worker_starts()
        killed = run.worker_pid()
        processes |= run.processes()
        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + START_SECONDS
        while run.script.poll() is None and run.worker_starts() == starts:
            assert time.monotonic() < deadline, "the worker was neither started again nor given up"
            time.sleep(0.5)
        if run.script.poll() is not None:
            break
    assert run.script.wait(STOP_SECONDS) == 1
    assert (
        "==> stopping: the Celery worker ended 3 times in a row within 60 s of its start, the "
        f"last time (pid {killed}) was killed by SIGKILL; its log: {run.worker_log}"
    ) in run.output()
    left = run.wait_until_gone(processes)
    assert not left, [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in left]
    assert refuses_connections(run.port)


@pytest.mark.parametrize(
    ("host", "family", "written"),
    [
        ("127.0.0.1", socket.AF_INET, "127.0.0.1:{port}"),
        # "::1:8000" read as the address ::1:8000 with no port.
        pytest.param(
            "::1", socket.AF_INET6, "[::1]:{port}",
            marks=pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback here"),
        ),
    ],
    ids=["IPv4", "IPv6"],
)  # fmt: skip
def test_a_port_something_else_listens_on_is_refused_before_anything_starts(
    tmp_path: Path, host: str, family: socket.AddressFamily, written: str
) -> None:
    with socket.socket(family) as other_server:
        other_server.bind((host, 0))
        other_server.listen()
        port = other_server.getsockname()[1]
        result = subprocess.run(
            ["bash", "scripts/run.sh"], cwd=ROOT, capture_output=True, text=True, timeout=120,
            env=run_environment(tmp_path, port, demo_printers=False, host=host),
            start_new_session=True,
        )  # fmt: skip
    assert result.returncode != 0
    assert "running: open" not in result.stdout
    # It names the address and port, and this test's process listening there.
    assert (
        f"printmgmt: cannot serve on {written.format(port=port)} (address already in use): "
        f"{Path('/proc/self/comm').read_text().strip()} (pid {os.getpid()}) listens on port "
        f"{port}; stop it or choose another PORT="
    ) in result.stderr
    assert not (tmp_path / "data" / "log").exists()  # nothing was started


def own_address(version: int) -> str | None:
    """One of this machine's addresses of that IP version other than loopback and link-local
    (`hostname -I` lists them), or None when it has none."""
    listed = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=True)
    for word in listed.stdout.split():
        address = ipaddress.ip_address(word)
        if address.version == version and not (address.is_loopback or address.is_link_local):
            return word
    return None


@pytest.mark.parametrize(
    ("listen_on", "url_host"),
    [(4, "{address}"), (6, "[{address}]"), ("::", "[::1]")],
    ids=["own IPv4 address", "own IPv6 address", "every IPv6 and IPv4 address"],
)
def test_a_run_on_an_address_other_than_loopback_waits_for_its_server_there(
    tmp_path: Path, started: list[Run], listen_on: int | str, url_host: str
) -> None:
    if isinstance(listen_on, int):
        address = own_address(listen_on)
        if address is None:
            pytest.skip(f"this machine has no IPv{listen_on} address other than loopback")
    else:
        address = listen_on
    port = free_port()
    environment = run_environment(tmp_path, port, demo_printers=False, host=address)
    url_address = url_host.format(address=address)
    environment["ALLOWED_HOSTS"] = url_address  # Django's 400 otherwise
    output = (tmp_path / "run.log").open("ab")
    script = subprocess.Popen(
        ["bash", "scripts/run.sh"], cwd=ROOT, env=environment, stdout=output,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    run = Run(script, port, tmp_path / "data", environment, tmp_path / "run.log")
    started.append(run)
    url = f"http://{url_address}:{port}/"
    deadline = time.monotonic() + START_SECONDS
    while "running: open" not in run.output():
        assert script.poll() is None, run.output()[-3000:]
        assert time.monotonic() < deadline, run.output()[-3000:]
        time.sleep(0.5)
    assert f"==> running: open {url} (2 web processes;" in run.output()
    assert login_page_served(url)
