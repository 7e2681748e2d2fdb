"""What our printer says it can do (job_template.py: what a job's template attributes become).

The capabilities are the union of what the enabled printers can do (their
Printer.capabilities snapshots), so a desktop offers every option that some printer can
honour at release.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from apps.ippserver.protocol import ADVERTISED_VERSIONS
from apps.jobs.convert import ACCEPTED_FORMATS, OCTET_STREAM
from printmgmt.ipp import (
    Attribute,
    Collection,
    DateTime,
    Operation,
    RangeOfInteger,
    Resolution,
    ValueTag,
)
from printmgmt.ppde.model import (
    COVER_TYPES,
    FINISHING_ENUM_RANGES,
)

MAX_COPIES = 999
FINISHINGS_NONE = 3
BOOKLET_MAKER = 13
#: The booklet value our rule files use (SavaPage's).
BOOKLET_VALUE = "toleft-totop"
DEFAULT_MEDIA = ("iso_a4_210x297mm", "na_letter_8.5x11in")
NUMBER_UP = (1, 2, 4, 6, 9, 16)  # laid out by the n-up table at release when a printer cannot
SAVAPAGE_PREFIX = "org.savapage-"
#: The longest page selection a held job keeps (its column's length).
PAGE_RANGES_LENGTH = 200
#: How long a job made by Create-Job waits for its first document (then it is aborted), and
#: for each next one (then it is held with those it has).
DOCUMENT_TIME_OUT_SECONDS = 60

#: The highest job-priority (job-priority-supported): 1 to it is accepted.
MAX_JOB_PRIORITY = 100
#: Options kept as the job's presets, with the values we advertise (output-bin's come from the
#: printers): the release dialog starts from them where the printer offers them.
PRINT_SCALING = ("auto", "fit", "fill", "none")

# Raster resolutions we ask phones for; the decoder takes any, these are what printers print.
RASTER_RESOLUTIONS = (300, 600)
# Margins phones leave when they render a page to raster, in hundredths of a millimetre
# (1/6 inch): what the printers behind us can reach, not a borderless promise.
MEDIA_MARGIN = 423
MARGIN_EDGES = ("bottom", "left", "right", "top")
#: Largest JPEG side we advertise (the JPEG format's own limit).
JPEG_MAX_SIDE = 65535

_PWG_SIZE = re.compile(r"_(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)(mm|in)$")


@dataclass(frozen=True)
class Capabilities:
    """What the product's printers can do, together."""

    media: tuple[str, ...]
    media_default: str
    sides: tuple[str, ...]
    color_modes: tuple[str, ...]
    finishings: tuple[int, ...]
    cover_types: tuple[str, ...]
    output_bins: tuple[str, ...]
    number_up: tuple[int, ...] = NUMBER_UP
    document_formats: tuple[str, ...] = ACCEPTED_FORMATS

    @property
    def color(self) -> bool:
        return any(mode != "monochrome" for mode in self.color_modes)

    @property
    def duplex(self) -> bool:
        return any(side != "one-sided" for side in self.sides)


def _strings(values: Iterable[Any]) -> list[str]:
    return [value for value in values if isinstance(value, str)]


def capabilities_of(snapshots: Sequence[Mapping[str, list[Any]]]) -> Capabilities:
    """The union of printers' capability snapshots, with defaults when there are none."""

    def union(name: str) -> list[Any]:
        merged: dict[Any, None] = {}
        for snapshot in snapshots:
            for value in snapshot.get(name, []):
                if isinstance(value, str | int):
                    merged[value] = None
        return list(merged)

    media = [m for m in _strings(union("media-supported")) if media_size(m)] or list(DEFAULT_MEDIA)
    defaults = [m for m in _strings(union("media-default")) if m in media]
    sides = ["one-sided", *(s for s in _strings(union("sides-supported")) if s != "one-sided")]
    modes = ["monochrome", *(m for m in _strings(union("print-color-mode-supported")) if m in (
        "auto", "color"))]  # fmt: skip
    mappable = {BOOKLET_MAKER}.union(*FINISHING_ENUM_RANGES.values())
    finishings = sorted(
        {FINISHINGS_NONE}
        | {f for f in union("finishings-supported") if isinstance(f, int) and f in mappable}
    )
    covers = [c for c in _strings(union("cover-type-supported")) if c in COVER_TYPES]
    return Capabilities(
        media=tuple(media),
        media_default=defaults[0] if defaults else media[0],
        sides=tuple(sides),
        color_modes=tuple(modes),
        finishings=tuple(finishings),
        cover_types=tuple(covers),
        output_bins=tuple(_strings(union("output-bin-supported"))) or ("auto",),
    )


def media_size(name: str) -> tuple[int, int] | None:
    """Width and height in hundredths of millimetres of a PWG self-describing media name."""
    found = _PWG_SIZE.search(name)
    if found is None:
        return None
    scale = 2540 if found.group(3) == "in" else 100
    return round(float(found.group(1)) * scale), round(float(found.group(2)) * scale)


def _media_size(name: str) -> Collection:
    width, height = media_size(name) or (21000, 29700)
    return Collection(
        (Attribute.integer("x-dimension", width), Attribute.integer("y-dimension", height))
    )


def _media_col(name: str) -> Collection:
    return Collection(
        (
            Attribute.keyword("media-key", name),
            Attribute.collection("media-size", _media_size(name)),
            Attribute.keyword("media-size-name", name),
            *(Attribute.integer(f"media-{edge}-margin", MEDIA_MARGIN) for edge in MARGIN_EDGES),
        )
    )


def urf_supported(c: Capabilities) -> list[str]:
    """Apple raster capabilities (the URF TXT key and urf-supported): version, copies,
    quality, resolutions, 8-bit grey, 24-bit sRGB when colour, duplex when two-sided."""
    keywords = ["V1.4", "CP1", "PQ3-4-5", "RS" + "-".join(map(str, RASTER_RESOLUTIONS)), "W8"]
    if c.color:
        keywords.append("SRGB24")
    if c.duplex:
        keywords.append("DM1")
    return keywords


def pwg_raster_types(c: Capabilities) -> list[str]:
    return ["black_1", "sgray_8", *(["srgb_8"] if c.color else [])]


def printer_attributes(
    capabilities: Capabilities,
    *,
    printer_uris: Sequence[str],
    uri_security: str,
    printer_uuid: str,
    more_info: str,
    icon: str,
    up_time: int,
    queued_job_count: int,
    name: str,
    location: str,
    max_document_kb: int,
    now: DateTime,
    dns_sd_name: str = "",
) -> list[Attribute]:
    """Every printer attribute we answer Get-Printer-Attributes with, in a stable order."""
    c = capabilities
    operations = sorted(int(operation) for operation in SUPPORTED_OPERATIONS)
    job_creation = [
        "copies", "finishings", "media", "media-col", "page-ranges", "print-color-mode",
        "sides", "number-up", "ipp-attribute-fidelity", "job-name", "job-hold-until",
        "orientation-requested", "print-quality", "printer-resolution", "output-bin",
        "print-scaling", "print-content-optimize", "print-rendering-intent", "job-priority",
        "job-sheets", "multiple-document-handling",
    ]  # fmt: skip
    if c.cover_types:
        job_creation += ["cover-front", "cover-back"]
    attributes = [
        Attribute.uri("printer-uri-supported", *printer_uris),
        Attribute.keyword("uri-security-supported", *([uri_security] * len(printer_uris))),
        Attribute.keyword("uri-authentication-supported", *(["basic"] * len(printer_uris))),
        Attribute.name_("printer-name", name),
        Attribute.text("printer-info", "Hold queue: documents wait here until you release them"),
        Attribute.text("printer-location", location[:127]),
        Attribute.text("printer-make-and-model", "printmgmt hold queue"),
        Attribute.uri("printer-more-info", more_info),
        Attribute.uri("printer-icons", icon),
        Attribute.uri("printer-supply-info-uri", more_info),
        Attribute.of("printer-uuid", ValueTag.URI, f"urn:uuid:{printer_uuid}"),
        Attribute.text(
            "printer-device-id", "MFG:printmgmt;MDL:hold queue;CMD:PDF,PS,URF,PWGRaster,JPEG,PNG;"
        ),
        Attribute.text("printer-organization", ""),
        Attribute.text("printer-organizational-unit", ""),
        Attribute.out_of_band("printer-geo-location", ValueTag.UNKNOWN),
        Attribute.date_time("printer-current-time", now),
        # The configuration is the union of the printers, re-read on every request.
        Attribute.integer("printer-config-change-time", up_time),
        Attribute.date_time("printer-config-change-date-time", now),
        Attribute.integer("printer-state-change-time", up_time),
        Attribute.date_time("printer-state-change-date-time", now),
        Attribute.boolean("preferred-attributes-supported", False),
        Attribute.keyword("printer-get-attributes-supported", "document-format"),
        Attribute.keyword("printer-kind", "document", "envelope", "photo"),
        *([Attribute.name_("printer-dns-sd-name", dns_sd_name)] if dns_sd_name else []),
        Attribute.enum("printer-state", 3),
        Attribute.keyword("printer-state-reasons", "none"),
        Attribute.text("printer-state-message", "ready"),
        Attribute.boolean("printer-is-accepting-jobs", True),
        Attribute.integer("printer-up-time", up_time),
        Attribute.integer("queued-job-count", queued_job_count),
        Attribute.keyword(
            "ipp-versions-supported", *(f"{major}.{minor}" for major, minor in ADVERTISED_VERSIONS)
        ),
        Attribute.keyword("ipp-features-supported", "ipp-everywhere"),
        Attribute.enum("operations-supported", *operations),
        Attribute.charset("charset-configured", "utf-8"),
        Attribute.charset("charset-supported", "utf-8", "us-ascii"),
        Attribute.natural_language("natural-language-configured", "en"),
        Attribute.natural_language("generated-natural-language-supported", "en"),
        # A request without document-format is detected by content, as octet-stream is.
        Attribute.mime_media_type("document-format-default", OCTET_STREAM),
        Attribute.mime_media_type("document-format-supported", *c.document_formats),
        Attribute.keyword("compression-supported", "none"),
        Attribute.keyword("urf-supported", *urf_supported(c)),
        Attribute.resolution(
            "pwg-raster-document-resolution-supported",
            *(Resolution(dpi, dpi, 3) for dpi in RASTER_RESOLUTIONS),
        ),
        Attribute.keyword("pwg-raster-document-type-supported", *pwg_raster_types(c)),
        # Back sides are printed as sent: we never turn a page.
        Attribute.keyword("pwg-raster-document-sheet-back", "normal"),
        Attribute.range_of_integer("jpeg-k-octets-supported", RangeOfInteger(0, max_document_kb)),
        Attribute.range_of_integer("jpeg-x-dimension-supported", RangeOfInteger(1, JPEG_MAX_SIDE)),
        Attribute.range_of_integer("jpeg-y-dimension-supported", RangeOfInteger(1, JPEG_MAX_SIDE)),
        Attribute.boolean("job-ids-supported", True),
        Attribute.keyword("pdl-override-supported", "attempted"),
        Attribute.boolean("multiple-document-jobs-supported", True),
        Attribute.integer("multiple-operation-time-out", DOCUMENT_TIME_OUT_SECONDS),
        # A job whose next document is late is held with those it has (one with none ends).
        Attribute.keyword("multiple-operation-time-out-action", "process-job"),
        Attribute.keyword(
            "multiple-document-handling-supported", "separate-documents-collated-copies"
        ),
        Attribute.keyword("job-creation-attributes-supported", *job_creation),
        Attribute.boolean("color-supported", c.color),
        Attribute.integer("pages-per-minute", 60),
        *([Attribute.integer("pages-per-minute-color", 60)] if c.color else []),
        Attribute.integer("copies-default", 1),
        Attribute.range_of_integer("copies-supported", RangeOfInteger(1, MAX_COPIES)),
        Attribute.enum("finishings-default", FINISHINGS_NONE),
        Attribute.enum("finishings-supported", *c.finishings),
        Attribute.keyword("job-hold-until-default", "indefinite"),
        Attribute.keyword("job-hold-until-supported", "no-hold", "indefinite"),
        Attribute.integer("job-priority-default", 50),
        Attribute.integer("job-priority-supported", MAX_JOB_PRIORITY),
        Attribute.keyword("job-sheets-default", "none"),
        Attribute.keyword("job-sheets-supported", "none"),
        Attribute.keyword("media-default", c.media_default),
        Attribute.keyword("media-ready", c.media_default),
        Attribute.keyword("media-supported", *c.media),
        Attribute.collection("media-col-default", _media_col(c.media_default)),
        Attribute.collection("media-col-ready", _media_col(c.media_default)),
        Attribute.collection("media-col-database", *(_media_col(m) for m in c.media)),
        Attribute.keyword(
            "media-col-supported",
            "media-key",
            "media-size",
            "media-size-name",
            *(f"media-{edge}-margin" for edge in MARGIN_EDGES),
        ),
        *(
            Attribute.integer(f"media-{edge}-margin-supported", MEDIA_MARGIN)
            for edge in MARGIN_EDGES
        ),
        Attribute.keyword("media-source-supported", "auto"),
        Attribute.keyword("media-type-supported", "stationery"),
        Attribute.keyword("media-key-supported", *c.media),
        Attribute.collection("media-size-supported", *(_media_size(m) for m in c.media)),
        Attribute.integer("number-up-default", 1),
        Attribute.integer("number-up-supported", *c.number_up),
        Attribute.enum("orientation-requested-default", 3),
        Attribute.enum("orientation-requested-supported", 3, 4, 5, 6),
        Attribute.keyword("output-bin-default", c.output_bins[0]),
        Attribute.keyword("output-bin-supported", *c.output_bins),
        Attribute.boolean("page-ranges-supported", True),
        Attribute.keyword("print-color-mode-default", "monochrome"),
        Attribute.keyword("print-color-mode-supported", *c.color_modes),
        Attribute.keyword("print-content-optimize-default", "auto"),
        Attribute.keyword("print-content-optimize-supported", "auto"),
        Attribute.keyword("print-rendering-intent-default", "auto"),
        Attribute.keyword("print-rendering-intent-supported", "auto"),
        Attribute.keyword("print-scaling-default", "auto"),
        Attribute.keyword("print-scaling-supported", *PRINT_SCALING),
        Attribute.enum("print-quality-default", 4),
        Attribute.enum("print-quality-supported", 3, 4, 5),
        Attribute.resolution("printer-resolution-default", Resolution(600, 600, 3)),
        Attribute.resolution(
            "printer-resolution-supported", *(Resolution(dpi, dpi, 3) for dpi in RASTER_RESOLUTIONS)
        ),
        Attribute.keyword("sides-default", "one-sided"),
        Attribute.keyword("sides-supported", *c.sides),
        Attribute.keyword("which-jobs-supported", "completed", "not-completed", "all"),
    ]
    if c.cover_types:
        attributes += [
            Attribute.keyword("cover-type-supported", *c.cover_types),
            Attribute.keyword("cover-back-supported", "cover-type"),
            Attribute.keyword("cover-front-supported", "cover-type"),
        ]
    return attributes


SUPPORTED_OPERATIONS = frozenset(
    {
        Operation.PRINT_JOB,
        Operation.VALIDATE_JOB,
        Operation.CREATE_JOB,
        Operation.SEND_DOCUMENT,
        Operation.CANCEL_JOB,
        Operation.GET_JOB_ATTRIBUTES,
        Operation.GET_JOBS,
        Operation.GET_PRINTER_ATTRIBUTES,
        Operation.HOLD_JOB,
        Operation.RELEASE_JOB,
        Operation.CANCEL_MY_JOBS,
        Operation.CLOSE_JOB,
    }
)
