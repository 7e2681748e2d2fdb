"""`manage.py dnssd`: advertise our IPP printer over DNS-SD (Bonjour) until stopped.

Run one per site, beside the web server (like Celery beat): phones and desktops then list the
printer by DNSSD_NAME. SIGTERM or Ctrl-C withdraws the advertisement (a DNS-SD goodbye).
"""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.core.stop_flag import StopFlag
from apps.ippserver.dnssd import AdvertiseError, Advertiser, advertise_until


class Command(BaseCommand):
    help = "Advertise the IPP printer over DNS-SD (Bonjour) until stopped."

    def handle(self, *args: Any, **options: Any) -> None:
        stop = StopFlag()
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signal_number, lambda *_: stop.set())

        def announce(advertiser: Advertiser) -> None:
            self.stdout.write(
                f"advertising {', '.join(advertiser.names)} on "
                f"{', '.join(advertiser.addresses)} port {advertiser.config.port}",
            )
            self.stdout.flush()

        try:
            advertise_until(stop, on_start=announce)
        except AdvertiseError as error:
            raise CommandError(str(error)) from None
        self.stdout.write("advertisement withdrawn")
