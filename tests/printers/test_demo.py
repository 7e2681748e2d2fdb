"""The demo printers of `make run`: both targets registered, the same records on every run, and
a stop asked for while they start acted on after the step under way."""

from __future__ import annotations

import subprocess
from contextlib import suppress
from pathlib import Path

import pytest

from apps.printers.choices import PrinterKind, PrinterState
from apps.printers.demo import DemoStopped, demo_printers_running
from apps.printers.editing import printer_disable
from apps.printers.models import Printer
from apps.printers.peers import PeerError, PeerKilled, _wait_until_listening, free_port

pytestmark = [pytest.mark.django_db, pytest.mark.peers]


def test_demo_printers_start_register_and_keep_their_records() -> None:
    with demo_printers_running() as (finisher, office):
        assert finisher.kind == PrinterKind.DRIVERLESS
        assert finisher.state == PrinterState.IDLE
        assert 13 in finisher.capabilities["finishings-supported"]
        assert finisher.rule_file is not None
        assert finisher.side_prices.count() == 6
        assert office.kind == PrinterKind.CUPS_QUEUE
        assert office.rule_file is not None
        assert office.rule_file.name == "office-mfp-ppd"
        first_uris = {finisher.uri, office.uri}
    with demo_printers_running() as (finisher_again, office_again):
        assert (finisher_again.pk, office_again.pk) == (finisher.pk, office.pk)
        assert {finisher_again.uri, office_again.uri} != first_uris
    assert Printer.objects.count() == 2
    assert Printer.objects.get(name="demo-finisher").rule_file.versions.count() == 1  # type: ignore[union-attr]


def test_demo_printers_an_administrator_disabled_stay_disabled() -> None:
    with demo_printers_running() as printers:
        for printer in printers:
            printer_disable(printer.pk)
    with demo_printers_running() as printers_again:
        assert [printer.enabled for printer in printers_again] == [False, False]


def peer_processes() -> set[int]:
    """The peers (ippeveprinter, cupsd, their D-Bus) this process has running."""
    children = [
        int(pid)
        for task in Path("/proc/self/task").iterdir()
        for pid in (task / "children").read_text().split()
    ]
    found = set()
    for pid in children:
        with suppress(FileNotFoundError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            if any(peer in command for peer in (b"ippeveprinter", b"cupsd", b"dbus-daemon")):
                found.add(pid)
    return found


#: What is registered when a stop is found asked for after each step of the start: both
#: peers started, the finisher registered, the office queue added to cupsd, and registered.
REGISTERED_AFTER_STEP = {
    1: set(),
    2: set(),
    3: {"demo-finisher"},
    4: {"demo-finisher"},
    5: {"demo-finisher", "office-mfp"},
}


@pytest.mark.parametrize("asked_after", sorted(REGISTERED_AFTER_STEP))
def test_a_stop_asked_for_while_the_demo_printers_start_ends_the_start_after_its_step(
    asked_after: int,
) -> None:
    """The start went on to its end, however long a loaded machine took: `make run` stopped
    while it started left the demo printers running past the time it was given to end."""
    steps_done = 0

    def stopping() -> bool:
        nonlocal steps_done
        steps_done += 1
        return steps_done >= asked_after

    peers_before = peer_processes()  # other tests' peers
    with pytest.raises(DemoStopped), demo_printers_running(stopping):
        pytest.fail("the demo printers started though a stop was asked for")
    assert steps_done == asked_after
    assert peer_processes() == peers_before
    assert set(Printer.objects.values_list("name", flat=True)) == REGISTERED_AFTER_STEP[asked_after]


def test_a_peer_killed_while_it_starts_is_not_taken_for_one_whose_port_was_taken(
    tmp_path: Path,
) -> None:
    """A peer that ended while it started was started again on another port, in case another
    program took its port: one killed by the stop of the process group came back after it."""
    killed = subprocess.Popen(["sleep", "60"])
    killed.terminate()
    killed.wait()
    with pytest.raises(PeerKilled):
        _wait_until_listening(free_port(), killed, tmp_path / "log", "sleep")
    failed = subprocess.Popen(["false"])
    failed.wait()
    with pytest.raises(PeerError) as ended:
        _wait_until_listening(free_port(), failed, tmp_path / "log", "false")
    assert not isinstance(ended.value, PeerKilled)
