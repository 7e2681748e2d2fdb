"""Serving the product: uvicorn processes, each accepting on a listening socket of its own.

uvicorn's `--workers` shares one listening socket between its processes. When connections
arrive together, the first process to wake accepts all that are waiting, and kept-alive
connections (a proxy's upstream pool, a load test's clients) then stay with it: one core does
most of the work while another idles, and the slowest answers take twice as long. Here every
process listens on a socket of its own on the same address (SO_REUSEPORT), and the kernel
spreads new connections evenly between them.

The parent binds every socket before it starts anything, so a busy port is one clear error;
it starts a process again when one dies, and stops them all on SIGTERM or SIGINT.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from dataclasses import dataclass
from types import FrameType

import uvicorn

logger = logging.getLogger(__name__)

APPLICATION = "printmgmt.asgi:application"
#: A process that ends this soon after its start, this many times in a row, is broken (a bad
#: certificate, a setting): the server stops instead of starting it forever.
MIN_LIFETIME_SECONDS = 5.0
EARLY_ENDS_ALLOWED = 3
#: How long a process gets to finish its requests after SIGTERM before it is killed.
STOP_TIMEOUT_SECONDS = 30.0
LISTEN_BACKLOG = 2048


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


def _address(host: str, port: int) -> tuple[socket.AddressFamily, tuple[str, int]]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ServeError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    family, _, _, _, address = found[0]
    return family, (str(address[0]), int(address[1]))


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
            raise ServeError(f"cannot listen on {host}:{port}: {error.strerror}") from None
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
        raise ServeError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return sockets


def run_web_process(sock: socket.socket, options: ServeOptions) -> None:
    """One web process: uvicorn serving the product on its own socket (runs in the child)."""
    config = uvicorn.Config(
        APPLICATION,
        log_level=options.log_level,
        ssl_keyfile=options.ssl_keyfile,
        ssl_certfile=options.ssl_certfile,
        forwarded_allow_ips=options.forwarded_allow_ips,
    )
    uvicorn.Server(config).run(sockets=[sock])


class WebProcesses:
    """The web processes of one server, one per socket, started again when one dies."""

    def __init__(self, sockets: list[socket.socket], options: ServeOptions) -> None:
        self._sockets = sockets
        self._options = options
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._started: list[float] = []
        self._early_ends = [0] * len(sockets)

    def _start(self, index: int) -> None:
        process = self._context.Process(
            target=run_web_process,
            args=(self._sockets[index], self._options),
            name=f"web-{index + 1}",
        )
        process.start()
        if index < len(self._processes):
            self._processes[index], self._started[index] = process, time.monotonic()
        else:
            self._processes.append(process)
            self._started.append(time.monotonic())

    def start(self) -> None:
        for index in range(len(self._sockets)):
            self._start(index)

    def replace_dead(self) -> None:
        """Start a process again in place of one that ended; ServeError when one keeps ending
        right after its start."""
        for index, process in enumerate(self._processes):
            if process.is_alive():
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
            self._start(index)

    def stop(self) -> None:
        for process in self._processes:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in self._processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def serve(options: ServeOptions) -> None:
    """Serve until SIGTERM or SIGINT."""
    sockets = listening_sockets(options.host, options.port, options.workers)
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    previous = {
        number: signal.signal(number, request_stop) for number in (signal.SIGTERM, signal.SIGINT)
    }
    processes = WebProcesses(sockets, options)
    try:
        processes.start()
        while not stop_requested.wait(0.5):
            processes.replace_dead()
    finally:
        processes.stop()
        for sock in sockets:
            sock.close()
        for number, handler in previous.items():
            signal.signal(number, handler)
