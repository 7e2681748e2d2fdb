"""`manage.py serve`: web processes with a listening socket each, restarted, stopped together."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from apps.core.serve import KEEP_ALIVE_SECONDS, ServeError, listening_sockets
from tests.children import child_processes
from tests.peers import free_port, ipv6_loopback
from tests.web import login_page_served, refuses_connections
from tests.workers import ROOT
from tests.workers import test_database_url as database_url_of_tests


def web_processes(pid: int) -> set[int]:
    """The parent's web processes (multiprocessing also starts a resource tracker)."""
    return {
        child
        for child in child_processes(pid)
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    }


#: How long a started or stopped process may take to be seen so, on a loaded machine.
EVENTUALLY_SECONDS = 120.0


def wait_until(condition: Callable[[], bool], seconds: float = EVENTUALLY_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        time.sleep(0.1)


def answers(port: int) -> bool:
    return login_page_served(f"http://127.0.0.1:{port}/")


def serve_command(port: int, *extra: str) -> list[str]:
    return [sys.executable, "manage.py", "serve", "--port", str(port), *extra]


@pytest.fixture
def environment(transactional_db: None) -> dict[str, str]:
    return dict(os.environ, DATABASE_URL=database_url_of_tests())


@pytest.fixture
def two_process_server(
    environment: dict[str, str],
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    server = subprocess.Popen(serve_command(port, "--workers", "2"), cwd=ROOT, env=environment)
    try:
        wait_until(lambda: answers(port) and len(web_processes(server.pid)) == 2)
        yield server, port
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_two_processes_serve_one_port_and_a_dead_one_is_started_again(
    two_process_server: tuple[subprocess.Popen[bytes], int],
) -> None:
    server, port = two_process_server
    first = web_processes(server.pid)
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: len(web_processes(server.pid) - {victim}) == 2)
    assert victim not in web_processes(server.pid)
    wait_until(lambda: all(answers(port) for _ in range(10)))


def test_sigterm_stops_every_process_and_exits_cleanly(
    two_process_server: tuple[subprocess.Popen[bytes], int],
) -> None:
    server, port = two_process_server
    processes = web_processes(server.pid)
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=40) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in processes)
    assert refuses_connections(port)


def test_an_idle_kept_alive_connection_is_still_served_after_uvicorns_own_five_seconds(
    two_process_server: tuple[subprocess.Popen[bytes], int],
) -> None:
    # IPP clients that ask about their job every 5 s send on the connection they kept.
    _, port = two_process_server
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for pause in (0, KEEP_ALIVE_SECONDS / 5):
            time.sleep(pause)
            connection.request("GET", "/healthz")
            # On a connection the server closed meanwhile: RemoteDisconnected.
            answer = connection.getresponse()
            answer.read()
            assert answer.status in (200, 503)
    finally:
        connection.close()


def test_the_web_processes_end_with_a_killed_parent_and_the_port_is_free_again(
    two_process_server: tuple[subprocess.Popen[bytes], int], environment: dict[str, str]
) -> None:
    server, port = two_process_server
    processes = web_processes(server.pid)
    server.kill()
    server.wait()
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in processes))
    assert refuses_connections(port)
    again = subprocess.Popen(serve_command(port, "--workers", "1"), cwd=ROOT, env=environment)
    try:
        wait_until(lambda: answers(port))
    finally:
        again.send_signal(signal.SIGTERM)
        assert again.wait(timeout=40) == 0


def test_a_port_in_use_is_one_clear_error(environment: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            serve_command(port), cwd=ROOT, env=environment, capture_output=True, text=True,
            timeout=60, check=False,
        )  # fmt: skip
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_ipv6_address_in_use_is_written_in_brackets() -> None:
    """'cannot listen on ::1:8000' read as the address ::1:8000 with no port."""
    if not ipv6_loopback():
        pytest.skip("no IPv6 loopback here")
    with socket.socket(socket.AF_INET6) as taken:
        taken.bind(("::1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServeError, match=re.escape(f"cannot listen on [::1]:{port}: ")):
            listening_sockets("::1", port, 1)


def test_a_process_that_cannot_start_stops_the_server_with_the_reason(
    environment: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.pem"
    result = subprocess.run(
        serve_command(free_port(), "--ssl-keyfile", str(missing), "--ssl-certfile", str(missing)),
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "ended 3 times within 5 s of its start" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--workers", "0"], "--workers 0: at least 1"),
        (["--port", "70000"], "--port 70000: not a TCP port"),
        (["--ssl-keyfile", "key.pem"], "--ssl-keyfile and --ssl-certfile go together"),
    ],
)
def test_bad_arguments_are_refused_in_one_line(
    environment: dict[str, str], arguments: list[str], message: str
) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "serve", *arguments], cwd=ROOT, env=environment,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_sockets_share_a_port_only_with_each_other() -> None:
    port = free_port()
    sockets = listening_sockets("127.0.0.1", port, 3)
    try:
        assert {sock.getsockname()[1] for sock in sockets} == {port}
        # A second server on the same port is refused, even though these use SO_REUSEPORT.
        with pytest.raises(ServeError, match=f"cannot listen on 127.0.0.1:{port}"):
            listening_sockets("127.0.0.1", port, 1)
    finally:
        for sock in sockets:
            sock.close()
    with pytest.raises(ServeError, match=r"cannot listen on no-such-host\.invalid:80"):
        listening_sockets("no-such-host.invalid", 80, 1)
