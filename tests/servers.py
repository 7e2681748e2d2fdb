"""The product served for real: uvicorn running printmgmt.asgi on a free loopback port, on the
test database. Tests that use it must use `transactional_db` (it is another process)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from apps.core.serve import KEEP_ALIVE_SECONDS
from tests.peers import free_port
from tests.workers import FAST_PIPELINE, ROOT, test_database_url


@dataclass
class AsgiServer:
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ipp_uri(self) -> str:
        return f"ipp://127.0.0.1:{self.port}/ipp/print"


def start_asgi_server(
    log_path: Path, timeout: float = 30.0, extra_env: dict[str, str] | None = None
) -> AsgiServer:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": test_database_url(), **FAST_PIPELINE, **(extra_env or {})}
    command = [
        sys.executable, "-m", "uvicorn", "printmgmt.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        "--timeout-keep-alive", str(KEEP_ALIVE_SECONDS),
    ]  # fmt: skip
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = AsgiServer(port, log_path, process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited at start:\n{log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code in (200, 503):
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    stop_asgi_server(server)
    raise RuntimeError(f"uvicorn not answering after {timeout}s:\n{log_path.read_text()[-2000:]}")


def stop_asgi_server(server: AsgiServer) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@pytest.fixture(scope="session")
def asgi_server(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AsgiServer]:
    """The product over ASGI, shared by the session (uvicorn, as `make run` serves it)."""
    server = start_asgi_server(tmp_path_factory.mktemp("asgi") / "uvicorn.log")
    yield server
    stop_asgi_server(server)
