"""IPP clients configured for our printers: timeouts, a trusted certificate where set."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from django.conf import settings

from apps.printers.models import Printer
from printmgmt.ipp.client import IppClient


def _certificate_file(pem: str) -> Path:
    """The PEM written once to the data dir, named by its digest (the ssl module wants a file)."""
    digest = hashlib.sha256(pem.encode()).hexdigest()[:32]
    folder = Path(settings.DATA_DIR) / "certs"
    path = folder / f"{digest}.pem"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a refresh asks printers at once, and another thread must
        # never read it half-written.
        partial = folder / f"{digest}.{threading.get_ident()}.partial"
        partial.write_text(pem)
        partial.replace(path)
    return path


def client_for_uri(
    uri: str, *, trusted_certificate: str = "", timeout: float | None = None
) -> IppClient:
    """A client with the site's timeout (IPP_TIMEOUT_SECONDS unless given)."""
    timeout = settings.IPP_TIMEOUT_SECONDS if timeout is None else timeout
    ca_file = _certificate_file(trusted_certificate) if trusted_certificate.strip() else None
    return IppClient(uri, timeout=timeout, ca_file=ca_file, user_name="printmgmt")


def client_for(printer: Printer, *, timeout: float | None = None) -> IppClient:
    return client_for_uri(
        printer.uri, trusted_certificate=printer.trusted_certificate, timeout=timeout
    )
