"""Get-Printer-Attributes: what our printer tells clients about itself. It offers what the
enabled printers behind it can do, so job creation checks requests against the same figures.
"""

from __future__ import annotations

import logging
import time
import uuid

from django.conf import settings
from django.utils import timezone

from apps.accounts.models import User
from apps.ippserver.attributes import (
    SAVAPAGE_PREFIX,
    Capabilities,
    capabilities_of,
    printer_attributes,
)
from apps.ippserver.job_template import ExtensionOffers
from apps.ippserver.models import IppJob
from apps.ippserver.protocol import Endpoint, requested_attributes, respond, select_attributes
from apps.jobs.choices import JobState
from apps.jobs.release import offered_options
from apps.printers.models import Printer
from printmgmt.ipp import AttributeGroup, DateTime, GroupTag, Message, Status

logger = logging.getLogger(__name__)


def product_capabilities() -> Capabilities:
    snapshots = [
        printer.capabilities
        for printer in Printer.objects.filter(enabled=True).only("capabilities")
        if isinstance(printer.capabilities, dict)
    ]
    return capabilities_of(snapshots)


def product_extension_offers() -> ExtensionOffers:
    """What the enabled printers offer of our org.savapage-* options, asked only of a job that
    sends one (it reads every printer's rule file). A printer whose active rule file cannot
    serve (engine_for_version) offers none: every release to it is refused."""
    offers = []
    for printer in Printer.objects.filter(enabled=True).select_related("rule_file"):
        try:
            offered = offered_options(printer, operator=True)
        except ValueError as error:
            logger.error("printer %s offers no options to IPP jobs: %s", printer.name, error)
            continue
        offers.append(tuple(o for o in offered if o.attribute.startswith(SAVAPAGE_PREFIX)))
    return ExtensionOffers(tuple(offers))


def printer_uuid() -> str:
    """Stable for a site (derived from SECRET_KEY), so clients recognise the printer."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"printmgmt-ipp-printer:{settings.SECRET_KEY}"))


_JOB_TEMPLATE_NAMES = {
    "copies", "finishings", "media", "media-col", "page-ranges", "print-color-mode", "sides",
    "number-up", "orientation-requested", "print-quality", "printer-resolution", "output-bin",
    "job-hold-until", "job-priority", "job-sheets", "multiple-document-handling",
    "cover-front", "cover-back", "cover-type", "print-scaling", "print-content-optimize",
    "print-rendering-intent",
}  # fmt: skip


def get_printer_attributes(request: Message, user: User | None, endpoint: Endpoint) -> Message:
    capabilities = product_capabilities()
    attributes = printer_attributes(
        capabilities,
        printer_uris=[endpoint.printer_uri],
        uri_security="tls" if endpoint.secure else "none",
        printer_uuid=printer_uuid(),
        more_info=endpoint.portal_url,
        icon=f"{endpoint.portal_url}static/ippserver/printer-icon.png",
        up_time=int(time.time()),
        queued_job_count=held_job_count(),
        name="hold-queue",
        location="",
        max_document_kb=settings.MAX_DOCUMENT_MB * 1024,
        now=DateTime.from_datetime(timezone.now()),
        dns_sd_name=settings.DNSSD.name if settings.DNSSD.enabled else "",
    )
    template_names = {
        a.name
        for a in attributes
        if a.name.endswith(("-default", "-supported", "-ready", "-database"))
        and a.name.rsplit("-", 1)[0] in _JOB_TEMPLATE_NAMES | {"media-col"}
    }
    groups = {
        "job-template": template_names,
        "printer-description": {a.name for a in attributes} - template_names,
    }
    selected = select_attributes(attributes, requested_attributes(request), groups)
    return respond(
        request, Status.SUCCESSFUL_OK, groups=[AttributeGroup(GroupTag.PRINTER, selected)]
    )


def held_job_count() -> int:
    return IppJob.objects.filter(job__state=JobState.HELD).count()
