from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.core.serve import ServeError, ServeOptions, serve


class Command(BaseCommand):
    help = (
        "Serve the product (portal and IPP printer) with uvicorn: WEB_WORKERS processes, each "
        "listening on its own socket on the same address, so that connections are spread "
        "evenly between them. Stops on SIGTERM or Ctrl-C."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers", type=int, help="web processes (default: WEB_WORKERS, one per CPU)"
        )
        parser.add_argument(
            "--log-level",
            default="warning",
            choices=["critical", "error", "warning", "info", "debug", "trace"],
        )
        parser.add_argument("--ssl-keyfile")
        parser.add_argument("--ssl-certfile")
        parser.add_argument(
            "--forwarded-allow-ips",
            help="addresses of proxies whose X-Forwarded-For and -Proto are believed "
            "(default: loopback)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workers = options["workers"] if options["workers"] is not None else settings.WEB_WORKERS
        if workers < 1:
            raise CommandError(f"--workers {workers}: at least 1")
        if not 0 < options["port"] < 65536:
            raise CommandError(f"--port {options['port']}: not a TCP port")
        if bool(options["ssl_keyfile"]) != bool(options["ssl_certfile"]):
            raise CommandError("--ssl-keyfile and --ssl-certfile go together")
        try:
            serve(
                ServeOptions(
                    host=options["host"],
                    port=options["port"],
                    workers=workers,
                    log_level=options["log_level"],
                    ssl_keyfile=options["ssl_keyfile"],
                    ssl_certfile=options["ssl_certfile"],
                    forwarded_allow_ips=options["forwarded_allow_ips"],
                )
            )
        except ServeError as error:
            raise CommandError(str(error)) from None
