"""Real IPP peers from Debian: ippeveprinter (an IPP Everywhere printer) and cupsd.

Plain context managers (``run_ippeveprinter``, ``run_cupsd``) used by the demo printers of
`make run`, the tests' fixtures (tests/peers.py) and the benchmarks. Every peer gets a free
loopback port and its own temporary directory; nothing touches the system's CUPS, D-Bus or
Avahi.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

STARTUP_TIMEOUT = 15.0
#: cupsd gives a device 30 s to answer the connection, then waits for its attributes.
DRIVERLESS_PPD_TIMEOUT = 90.0

#: A printer with finishings (staple, punch, fold, booklet-maker, jog-offset), covers and
#: PDF support. Declaring document-format-supported makes ippeveprinter send that
#: attribute twice (its own list follows ours), which is a real-world quirk worth keeping.
#: Its media sizes and margins are listed as IPP Everywhere requires: a CUPS queue in front
#: of it sends the PPD's page size as a media-col, which the printer checks against them.
FINISHER_ATTRIBUTES = """\
ATTR mimeMediaType document-format-supported application/pdf,image/pwg-raster,image/urf
ATTR text printer-make-and-model "Example Finisher 9000"
ATTR enum finishings-supported 3,4,13,14,20,21,22,23,28,74,75,93
ATTR enum finishings-default 3
ATTR keyword cover-type-supported no-cover,print-none,print-front,print-back,print-both
ATTR keyword cover-front-supported cover-type,media,media-col
ATTR keyword cover-back-supported cover-type,media,media-col
ATTR keyword media-source-supported auto,main,manual,by-pass-tray
ATTR keyword media-type-supported stationery,cardstock,labels
ATTR keyword media-supported iso_a4_210x297mm,iso_a3_297x420mm,iso_a5_148x210mm
ATTR collection media-size-supported {
  MEMBER integer x-dimension 21000
  MEMBER integer y-dimension 29700
},{
  MEMBER integer x-dimension 29700
  MEMBER integer y-dimension 42000
},{
  MEMBER integer x-dimension 14800
  MEMBER integer y-dimension 21000
}
ATTR integer media-bottom-margin-supported 635
ATTR integer media-left-margin-supported 635
ATTR integer media-right-margin-supported 635
ATTR integer media-top-margin-supported 635
ATTR collection media-col-default {
  MEMBER collection media-size {
    MEMBER integer x-dimension 21000
    MEMBER integer y-dimension 29700
  }
  MEMBER keyword media-source "main"
  MEMBER keyword media-type "stationery"
}
"""

#: The finisher as an office printer: it also prints two-sided (booklets need two sides) and
#: says which media, colour modes and orientations it has. The demo printer of `make run`.
OFFICE_FINISHER_ATTRIBUTES = (
    FINISHER_ATTRIBUTES
    + """\
ATTR keyword sides-supported one-sided,two-sided-long-edge,two-sided-short-edge
ATTR keyword sides-default one-sided
ATTR keyword media-default iso_a4_210x297mm
ATTR keyword print-color-mode-supported monochrome,color
ATTR keyword print-color-mode-default monochrome
ATTR enum orientation-requested-supported 3,4,5,6
ATTR integer number-up-supported 1,2,4,6,9,16
ATTR keyword number-up-layout-supported lrtb,lrbt,rltb,rlbt,tblr,tbrl,btlr,btrl
ATTR rangeOfInteger copies-supported 1-999
"""
)

CUPSD_TEST_USER = "printtester"
CUPSD_TEST_PASSWORD = "correct horse battery"  # noqa: S105 - a throwaway account of a private cupsd


class PeerError(RuntimeError):
    """A peer did not start; the message carries the tail of its log."""


class PeerKilled(PeerError):
    """A peer was killed by a signal while it started: not a port taken by another program,
    but (as a rule) a stop of the whole process group, so it is not started again."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_until_listening(
    port: int, process: subprocess.Popen[bytes], log: Path, what: str
) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            ended = PeerKilled if process.returncode < 0 else PeerError
            raise ended(f"{what} exited with {process.returncode}:\n{_log_tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise PeerError(f"{what} did not listen on port {port} in time:\n{_log_tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a peer we started, politely first."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextlib.contextmanager
def _private_temp_dir(prefix: str) -> Iterator[Path]:
    # Not pytest's tmp_path: cupsd runs filters as user lp, which must reach the spool,
    # and pytest's base directory is private to root.
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    directory.chmod(0o755)
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def run_private_dbus(directory: Path) -> Iterator[str]:
    """A session dbus-daemon on a socket in ``directory``; yields its address.

    ippeveprinter insists on reaching a D-Bus system bus even with DNS-SD turned off."""
    socket_path = directory / "bus"
    address = f"unix:path={socket_path}"
    log = directory / "dbus.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            ["dbus-daemon", "--session", f"--address={address}", "--nofork", "--nopidfile"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not socket_path.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise PeerError(f"dbus-daemon did not start:\n{_log_tail(log)}")
            time.sleep(0.02)
        yield address
    finally:
        _stop(process)


@dataclass(frozen=True)
class IppEvePrinter:
    """A running ippeveprinter."""

    name: str
    port: int
    directory: Path
    spool_dir: Path
    log: Path

    @property
    def uri(self) -> str:
        return f"ipp://127.0.0.1:{self.port}/ipp/print"

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextlib.contextmanager
def run_ippeveprinter(
    directory: Path | None = None,
    *,
    name: str = "Finisher",
    attributes: str | None = FINISHER_ATTRIBUTES,
    extra_args: Sequence[str] = (),
) -> Iterator[IppEvePrinter]:
    """Start ippeveprinter (and its private D-Bus) and stop both on exit.

    ``attributes`` is the text of an attributes file (``-a``); None starts the stock
    printer, which then takes ``-f``/``-M``/... options through ``extra_args``."""
    with contextlib.ExitStack() as stack:
        if directory is None:
            directory = stack.enter_context(_private_temp_dir("printmgmt-eve-"))
        directory.mkdir(parents=True, exist_ok=True)
        spool = directory / "spool"
        spool.mkdir(exist_ok=True)
        bus = stack.enter_context(run_private_dbus(directory))
        command = ["ippeveprinter", "-r", "off", "-c", "/bin/true", "-k", "-d", str(spool)]
        if attributes is not None:
            attributes_file = directory / "attributes.conf"
            attributes_file.write_text(attributes)
            command += ["-a", str(attributes_file)]
        environment = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus}
        log = directory / "ippeveprinter.log"
        for _attempt in range(3):  # a free port can be taken between probing and binding
            port = free_port()
            with log.open("wb") as log_file:
                process = subprocess.Popen(
                    [*command, "-n", "localhost", "-p", str(port), *extra_args, name],
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    env=environment,
                    cwd=directory,
                )
            stack.callback(_stop, process)
            try:
                _wait_until_listening(port, process, log, "ippeveprinter")
            except PeerKilled:
                raise
            except PeerError:
                _stop(process)
                continue
            yield IppEvePrinter(name, port, directory, spool, log)
            return
        raise PeerError(f"ippeveprinter did not start:\n{_log_tail(log)}")


@dataclass
class Cupsd:
    """A running private cupsd."""

    port: int
    directory: Path
    auth_user: str | None = None
    auth_password: str | None = None
    queues: list[str] = field(default_factory=list)

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def uri(self) -> str:
        return f"ipp://{self.host_port}/"

    def queue_uri(self, name: str) -> str:
        return f"ipp://{self.host_port}/printers/{name}"

    @property
    def environment(self) -> dict[str, str]:
        """Environment for CUPS command-line tools that talk to this cupsd."""
        return {**os.environ, "CUPS_SERVER": self.host_port}

    def add_queue(
        self,
        name: str,
        device_uri: str,
        *,
        model: str = "raw",
        ppd: Path | None = None,
        requires_auth: bool = False,
    ) -> str:
        """Add an enabled queue (raw by default, driverless with ``model="everywhere"``, or
        from a PPD); returns its URI once the queue is ready to print.

        A driverless queue needs a device cupsd can make a PPD for (the stock ippeveprinter,
        not the finishers: "Printer does not support required IPP attributes or document
        formats"); PeerError says why it could not.
        ``requires_auth`` gives the queue the policy that wants Basic authentication for
        every operation."""
        command = ["lpadmin", "-h", self.host_port, "-p", name, "-E", "-v", device_uri]
        command += ["-P", str(ppd)] if ppd is not None else ["-m", model]
        if requires_auth:
            command += ["-o", "printer-op-policy=authenticated"]
        log_start = self._log.stat().st_size
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0:
            raise PeerError(f"lpadmin failed: {result.stderr.strip()}")
        if ppd is None and model == "everywhere":
            self._wait_for_driverless_ppd(name, log_start)
        self.queues.append(name)
        return self.queue_uri(name)

    @property
    def _log(self) -> Path:
        return self.directory / "log" / "error_log"

    def _wait_for_driverless_ppd(self, name: str, log_start: int) -> None:
        """Wait until cupsd has made and loaded the queue's PPD, or say why it could not.

        lpadmin -m everywhere returns as soon as cupsd has added a raw queue; cupsd then asks
        the device for its attributes and installs the PPD made from them in a background
        thread. A job sent before that prints raw, and one sent while the thread installs
        the PPD finds no filters and is aborted ("Unable to convert file 0 to printable
        format"). cupsd logs the thread's outcome, after the PPD is in place; the log is the
        only place it tells it."""
        available = f'Printer "{name}" is now available.'
        failed = f"] {name}: "  # the thread's errors: "E [date] NAME: reason"
        deadline = time.monotonic() + DRIVERLESS_PPD_TIMEOUT
        while True:
            with self._log.open("rb") as log:
                log.seek(log_start)
                lines = log.read().decode(errors="replace").splitlines()
            for line in lines:
                if line.endswith(available):
                    return
                if line.startswith("E ") and failed in line:
                    reason = line.split(failed, 1)[1]
                    raise PeerError(f"cupsd could not make a driverless queue {name}: {reason}")
            if time.monotonic() > deadline:
                raise PeerError(
                    f"cupsd did not make the PPD of queue {name} within "
                    f"{DRIVERLESS_PPD_TIMEOUT:.0f} s:\n{_log_tail(self._log)}"
                )
            time.sleep(0.05)

    def lp(self, queue: str, path: Path, *options: str) -> int:
        """Print a file with lp; returns the CUPS job id."""
        command = ["lp", "-d", queue]
        for option in options:
            command += ["-o", option]
        result = subprocess.run(
            [*command, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            env=self.environment,
            check=False,
        )
        found = re.search(r"request id is \S+-(\d+)", result.stdout)
        if result.returncode != 0 or found is None:
            raise PeerError(f"lp failed: {result.stderr.strip() or result.stdout.strip()}")
        return int(found.group(1))


_CUPS_FILES_CONF = """\
ServerRoot {root}/etc
RequestRoot {root}/spool
TempDir {root}/tmp
CacheDir {root}/cache
StateDir {root}/state
ServerKeychain {root}/ssl
Printcap {root}/printcap
AccessLog {root}/log/access_log
ErrorLog {root}/log/error_log
PageLog {root}/log/page_log
User lp
Group lp
"""

# The default policy lets loopback clients do everything without a password, so that the
# fixtures can add queues; queues with the "authenticated" policy want Basic auth. The log
# is never rotated: add_queue reads what cupsd logged after a given offset.
_CUPSD_CONF = """\
Listen 127.0.0.1:{port}
Browsing No
WebInterface No
LogLevel info
MaxLogSize 0
DefaultAuthType Basic
<Location />
  Order allow,deny
  Allow from 127.0.0.1
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
<Policy authenticated>
  <Limit All>
    AuthType Basic
    Require valid-user
    Order deny,allow
  </Limit>
</Policy>
"""

# cupsd checks Basic passwords with PAM service "cups". A private PAM file, bind-mounted
# over /etc/pam.d/cups in a mount namespace only cupsd sees, checks one test account with
# pam_exec, so no system account or system file is touched.
_PAM_CONF = """\
auth required pam_exec.so expose_authtok quiet {checker}
account required pam_permit.so
session required pam_permit.so
"""

_PAM_CHECKER = """\
#!/bin/sh
# pam_exec passes the password on standard input, terminated by a NUL byte.
password=$(tr -d '\\000')
[ "$PAM_USER" = '{user}' ] && [ "$password" = '{password}' ]
"""


def _namespaces_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "true"], capture_output=True, timeout=10, check=False
    )
    return probe.returncode == 0


@contextlib.contextmanager
def run_cupsd(*, with_auth: bool = True) -> Iterator[Cupsd]:
    """Start a private cupsd on a free loopback port; stop it and remove its files on exit.

    With ``with_auth`` (and when mount namespaces are available, as for root in a
    container) the test account CUPSD_TEST_USER / CUPSD_TEST_PASSWORD works for Basic
    authentication on queues added with ``requires_auth=True``."""
    with contextlib.ExitStack() as stack:
        root = stack.enter_context(_private_temp_dir("printmgmt-cupsd-"))
        for sub in ("etc", "spool", "tmp", "cache", "state", "ssl", "log"):
            (root / sub).mkdir()
        (root / "tmp").chmod(0o1777)
        (root / "cups-files.conf").write_text(_CUPS_FILES_CONF.format(root=root))
        command = [
            "cupsd",
            "-f",
            "-c",
            str(root / "cupsd.conf"),
            "-s",
            str(root / "cups-files.conf"),
        ]
        auth_ready = with_auth and _namespaces_available()
        if auth_ready:
            checker = root / "check-password.sh"
            checker.write_text(
                _PAM_CHECKER.format(user=CUPSD_TEST_USER, password=CUPSD_TEST_PASSWORD)
            )
            checker.chmod(0o755)
            pam_file = root / "pam-cups"
            pam_file.write_text(_PAM_CONF.format(checker=checker))
            command = [
                "unshare",
                "--mount",
                "sh",
                "-c",
                'mount --bind "$0" /etc/pam.d/cups && exec "$@"',
                str(pam_file),
                *command,
            ]
        log = root / "log" / "cupsd.out"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CUPS_")}
        for _attempt in range(3):
            port = free_port()
            (root / "cupsd.conf").write_text(_CUPSD_CONF.format(port=port))
            with log.open("wb") as log_file:
                process = subprocess.Popen(
                    command, stdout=log_file, stderr=subprocess.STDOUT, env=environment
                )
            stack.callback(_stop, process)
            try:
                _wait_until_listening(port, process, root / "log" / "error_log", "cupsd")
            except PeerKilled:
                raise
            except PeerError:
                _stop(process)
                continue
            yield Cupsd(
                port,
                root,
                auth_user=CUPSD_TEST_USER if auth_ready else None,
                auth_password=CUPSD_TEST_PASSWORD if auth_ready else None,
            )
            return
        raise PeerError(f"cupsd did not start:\n{_log_tail(root / 'log' / 'error_log')}")
