"""Bridges between the IPP codec and the rule engine, which know nothing of each other.

- A printer's Get-Printer-Attributes answer becomes a JSON snapshot we store, and the snapshot
  becomes the plain attribute map the rule engine reads.
- The engine's typed outgoing values become IPP attributes for the job we send.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from printmgmt.ipp import (
    Attribute,
    AttributeGroup,
    Collection,
    Operation,
    OutOfBand,
    RangeOfInteger,
    Resolution,
    TextWithLanguage,
)
from printmgmt.ppde import OutCollection, OutValue, PrinterAttributes, Syntax

JsonValue = Any

_RESOLUTION = re.compile(r"^(\d+)(?:x(\d+))?(dpi|dpcm)$")


def snapshot(attributes: Iterable[Attribute]) -> dict[str, list[JsonValue]]:
    """JSON-friendly copy of printer attributes: name → list of values.

    Ranges become {"lower", "upper"}, collections nested objects, everything else its plain
    value or its text; out-of-band values (no-value, unknown) are left out.
    """
    result: dict[str, list[JsonValue]] = {}
    for attribute in attributes:
        values = [_json(v.value) for v in attribute.values if not isinstance(v.value, OutOfBand)]
        if values and attribute.name not in result:
            result[attribute.name] = values
    return result


def _json(value: object) -> JsonValue:
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, RangeOfInteger):
        return {"lower": value.lower, "upper": value.upper}
    if isinstance(value, Collection):
        return {
            name: values[0] if len(values) == 1 else values
            for name, values in snapshot(value.members).items()
        }
    if isinstance(value, TextWithLanguage):
        return value.text
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def snapshot_of_group(group: AttributeGroup) -> dict[str, list[JsonValue]]:
    return snapshot(group.attributes)


def engine_view(capabilities: Mapping[str, list[JsonValue]]) -> PrinterAttributes:
    """The stored snapshot as the rule engine reads it (collections are not needed there)."""
    view: dict[str, Any] = {}
    for name, values in capabilities.items():
        plain = []
        for value in values:
            if isinstance(value, dict):
                if set(value) == {"lower", "upper"}:
                    plain.append(range(value["lower"], value["upper"] + 1))
                continue
            plain.append(value)
        if plain:
            view[name] = plain[0] if len(plain) == 1 else tuple(plain)
    return view


def ipp_attributes(outgoing: Mapping[str, OutValue]) -> list[Attribute]:
    """The rule engine's outgoing values as job-template attributes to send."""
    return [_attribute(name, value) for name, value in outgoing.items()]


def _attribute(name: str, value: OutValue) -> Attribute:
    values = value.values
    match value.syntax:
        case Syntax.KEYWORD:
            return Attribute.keyword(name, *map(str, values))
        case Syntax.TEXT:
            return Attribute.text(name, *map(str, values))
        case Syntax.NAME:
            return Attribute.name_(name, *map(str, values))
        case Syntax.ENUM:
            return Attribute.enum(name, *(int(str(v)) for v in values))
        case Syntax.INTEGER:
            return Attribute.integer(name, *(int(str(v)) for v in values))
        case Syntax.BOOLEAN:
            return Attribute.boolean(name, *(bool(v) for v in values))
        case Syntax.RESOLUTION:
            return Attribute.resolution(name, *(_resolution(str(v)) for v in values))
        case Syntax.COLLECTION:
            return Attribute.collection(
                name,
                *(
                    Collection(tuple(_attribute(n, m) for n, m in v.members))
                    for v in values
                    if isinstance(v, OutCollection)
                ),
            )
    raise ValueError(f"{name}: no IPP syntax for {value.syntax}")


def _resolution(text: str) -> Resolution:
    match = _RESOLUTION.match(text.strip().lower())
    if match is None:
        raise ValueError(f"{text!r} is not a resolution such as 600dpi or 600x1200dpi")
    cross_feed = int(match.group(1))
    feed = int(match.group(2) or cross_feed)
    units = Resolution.DPI if match.group(3) == "dpi" else Resolution.DPCM
    return Resolution(cross_feed, feed, units)


#: The value that makes a printer print each document of a job as a set of its own, copies
#: collated (RFC 8011 5.2.4).
SEPARATE_DOCUMENTS = "separate-documents-collated-copies"


def takes_several_documents(capabilities: Mapping[str, list[JsonValue]]) -> bool:
    """Whether the printer takes jobs of several documents (Create-Job, then a Send-Document
    for each) and prints them as separate sets (CUPS queues do; ippeveprinter and many
    driverless printers take one document per job)."""
    operations = set(capabilities.get("operations-supported", []))
    handling = capabilities.get("multiple-document-handling-supported", [])
    return (
        capabilities.get("multiple-document-jobs-supported") == [True]
        and {int(Operation.CREATE_JOB), int(Operation.SEND_DOCUMENT)} <= operations
        and SEPARATE_DOCUMENTS in handling
    )


PDF = "application/pdf"
OCTET_STREAM = "application/octet-stream"


def pdf_sent_as(capabilities: Mapping[str, list[JsonValue]], *, cups_queue: bool) -> str | None:
    """The document-format our PDFs are sent to a printer with, or None when it takes no PDF.

    `application/pdf` when the printer lists it (or lists no formats: asked, it says). A CUPS
    queue listing `application/octet-stream` but not PDF (a raw queue) passes the document on
    to a printer that reads it itself, if told it is octet-stream. A driverless printer lists
    octet-stream for the formats it detects, and lists PDF when it reads PDF: without it, it
    would refuse each job after its charge."""
    formats = capabilities.get("document-format-supported")
    if not formats or PDF in formats:
        return PDF
    if cups_queue and OCTET_STREAM in formats:
        return OCTET_STREAM
    return None
