"""Serving the product: uvicorn processes, each accepting on a listening socket of its own.

uvicorn's `--workers` shares one listening socket between its processes. When connections
arrive together, the first process to wake accepts all that are waiting, and kept-alive
connections (a proxy's upstream pool, a load test's clients) then stay with it: one core does
most of the work while another idles, and the slowest answers take twice as long. Here every
process listens on a socket of its own on the same address (SO_REUSEPORT), and the kernel
spreads new connections evenly between them.

The parent binds every socket before it starts anything, so a busy port is one clear error;
it starts a process again when one dies, and stops them all on SIGTERM, SIGINT or SIGHUP. The
processes end with the parent, also when it is killed.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import time
from dataclasses import dataclass
from types import FrameType
from typing import Any

import uvicorn

from apps.core.stop_flag import StopFlag

logger = logging.getLogger(__name__)

APPLICATION = "printmgmt.asgi:application"
#: A process that ends this soon after its start, this many times in a row, is broken (a bad
#: certificate, a setting): the server stops instead of starting it forever.
MIN_LIFETIME_SECONDS = 5.0
EARLY_ENDS_ALLOWED = 3
#: How long a process gets to finish its requests after SIGTERM before it is killed.
STOP_TIMEOUT_SECONDS = 30.0
LISTEN_BACKLOG = 2048
#: How long an idle kept-alive connection stays open: as cupsd's KeepAliveTimeout. Uvicorn's
#: own 5 s closes it just as IPP clients that ask about a job every 5 s (ipptool's tests,
#: desktops following their jobs) send their next request, which then gets no answer.
KEEP_ALIVE_SECONDS = 30
#: prctl(2): the signal a process gets when its parent ends.
PR_SET_PDEATHSIG = 1


class ServeError(Exception):
    """The web server cannot start or keep running; the message says why."""


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    workers: int
    log_level: str = "warning"
    ssl_keyfile: str | None = None
    ssl_certfile: str | None = None
    forwarded_allow_ips: str | None = None


def _host_port(host: str, port: int) -> str:
    """host:port as an address is written: an IPv6 address in brackets ("::1:8000" reads as
    another address)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _address(host: str, port: int) -> tuple[socket.AddressFamily, tuple[Any, ...]]:
    """Where to listen: IPv4 when a name has both (as uvicorn does: "localhost" must not end
    up on ::1 only), the address as resolved (an IPv6 scope id included)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ServeError(f"cannot listen on {_host_port(host, port)}: {error.strerror}") from None
    family, _, _, _, address = min(found, key=lambda info: info[0] != socket.AF_INET)
    return family, address


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` sockets listening on host:port together. The port is first bound without
    SO_REUSEPORT: that fails when anything listens there already, also another server of ours
    (whose sockets would otherwise silently share the port with these)."""
    family, address = _address(host, port)
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            raise ServeError(
                f"cannot listen on {_host_port(host, port)}: {error.strerror}"
            ) from None
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
            sock.listen(LISTEN_BACKLOG)
    except OSError as error:
        for sock in sockets:
            sock.close()
        raise ServeError(f"cannot listen on {_host_port(host, port)}: {error.strerror}") from None
    return sockets


def _end_with_parent(parent_pid: int) -> None:
    """Have the kernel send SIGTERM when the parent ends, even by SIGKILL (Linux): a web
    process must not live on without the parent that restarts and stops it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return  # Not Linux: the parent's SIGTERM handling is all there is.
    if os.getppid() != parent_pid:
        raise SystemExit(0)  # The parent ended before the request above was made.


def run_web_process(sock: socket.socket, options: ServeOptions, parent_pid: int) -> None:
    """One web process: uvicorn serving the product on its own socket (runs in the child)."""
    _end_with_parent(parent_pid)
    config = uvicorn.Config(
        APPLICATION,
        log_level=options.log_level,
        ssl_keyfile=options.ssl_keyfile,
        ssl_certfile=options.ssl_certfile,
        forwarded_allow_ips=options.forwarded_allow_ips,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    uvicorn.Server(config).run(sockets=[sock])


class WebProcesses:
    """The web processes of one server, one per socket, started again when one dies."""

    def __init__(self, sockets: list[socket.socket], options: ServeOptions) -> None:
        self._sockets = sockets
        self._options = options
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._started = [0.0] * len(sockets)
        self._early_ends = [0] * len(sockets)

    def _launch(self, index: int) -> multiprocessing.process.BaseProcess:
        """A started process for socket `index`."""
        process = self._context.Process(
            target=run_web_process,
            args=(self._sockets[index], self._options, os.getpid()),
            name=f"web-{index + 1}",
        )
        process.start()
        self._started[index] = time.monotonic()
        return process

    def start(self) -> None:
        self._processes = [self._launch(index) for index in range(len(self._sockets))]

    def replace_dead(self, stopping: StopFlag) -> None:
        """Start a process again in place of one that ended; ServeError when one keeps ending
        right after its start. Nothing is started once the server is stopping (on Ctrl-C the
        processes get SIGINT together with the parent)."""
        for index, process in enumerate(self._processes):
            if process.is_alive() or stopping.is_set():
                continue
            lived = time.monotonic() - self._started[index]
            self._early_ends[index] = (
                self._early_ends[index] + 1 if lived < MIN_LIFETIME_SECONDS else 0
            )
            if self._early_ends[index] >= EARLY_ENDS_ALLOWED:
                raise ServeError(
                    f"web process {process.name} ended {EARLY_ENDS_ALLOWED} times within "
                    f"{MIN_LIFETIME_SECONDS:.0f} s of its start (last exit code "
                    f"{process.exitcode}); its output above says why"
                )
            logger.warning(
                "web process %s (pid %s) ended with exit code %s; starting it again",
                process.name,
                process.pid,
                process.exitcode,
            )
            self._processes[index] = self._launch(index)

    def stop(self) -> None:
        for process in self._processes:
            if process.is_alive():
                process.terminate()
        # New connections are refused at once instead of queueing where nobody accepts them
        # while the processes finish their requests.
        for sock in self._sockets:
            sock.close()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in self._processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def serve(options: ServeOptions) -> None:
    """Serve until SIGTERM or SIGINT."""
    sockets = listening_sockets(options.host, options.port, options.workers)
    stop_requested = StopFlag()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    previous = {
        number: signal.signal(number, request_stop)
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    }
    processes = WebProcesses(sockets, options)
    try:
        processes.start()
        while not stop_requested.wait(0.5):
            processes.replace_dead(stop_requested)
    finally:
        processes.stop()
        for number, handler in previous.items():
            signal.signal(number, handler)
