"""`manage.py demo_printers`: run the two demo printers until stopped (Ctrl-C or SIGTERM)."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.core.stop_flag import StopFlag
from apps.printers.demo import DemoStopped, demo_printers_running
from apps.printers.peers import PeerError
from apps.printers.services import PrinterError
from apps.rules.services import RuleFileError


class Command(BaseCommand):
    help = (
        "Start a demo finisher (ippeveprinter) and an office MFP queue on a private cupsd, "
        "register them as printers, and keep them running until stopped."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = StopFlag()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signal_number, lambda *_: stop.set())
        try:
            with demo_printers_running(stopping=stop.is_set) as printers:
                for printer in printers:
                    self.stdout.write(f"demo printer {printer.name}: {printer.uri}")
                self.stdout.flush()
                stop.wait()
        except (DemoStopped, PeerError, PrinterError, RuleFileError) as error:
            # A stop of the process group also ends the peers and commands being started.
            if not stop.is_set():
                raise CommandError(f"the demo printers could not start: {error}") from None
            self.stdout.write("stopped while the demo printers were starting")
