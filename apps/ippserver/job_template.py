"""What a job's template attributes become: the held job's preset options, in the names the
rest of the product uses (our org.savapage-* extension attributes for finishings and covers).
Whatever the product cannot honour is reported back as unsupported.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from apps.ippserver.attributes import (
    BOOKLET_MAKER,
    BOOKLET_VALUE,
    FINISHINGS_NONE,
    MAX_COPIES,
    MAX_JOB_PRIORITY,
    PAGE_RANGES_LENGTH,
    PRINT_SCALING,
    RASTER_RESOLUTIONS,
    SAVAPAGE_PREFIX,
    Capabilities,
    media_size,
)
from apps.ippserver.protocol import IppRefusal
from apps.jobs.option_checks import not_offered
from printmgmt.ipp import (
    Attribute,
    Collection,
    OutOfBand,
    RangeOfInteger,
    Resolution,
    Status,
)
from printmgmt.ppde import OfferedOption
from printmgmt.ppde.model import (
    COVER_BACK_TYPE,
    COVER_FRONT_TYPE,
    FINISHING_ENUM_RANGES,
    FINISHINGS_BOOKLET,
)

#: Attributes a client may send that need nothing from us: the printer's defaults apply, which
#: is what a held PDF prints with anyway. They are accepted with a value the printer's
#: attributes advertise (any other is reported unsupported) and not stored.
RENDERING_HINTS: dict[str, frozenset[object]] = {
    "job-hold-until": frozenset({"no-hold", "indefinite"}),
    "job-sheets": frozenset({"none"}),
    "multiple-document-handling": frozenset({"separate-documents-collated-copies"}),
    "orientation-requested": frozenset({3, 4, 5, 6}),
    "print-quality": frozenset({3, 4, 5}),
    "print-content-optimize": frozenset({"auto"}),
    "print-rendering-intent": frozenset({"auto"}),
    "sheet-collate": frozenset({"collated"}),
}


#: The job template attributes that take several values (1setOf); every other one takes one,
#: and several cannot be honoured (which one was meant?). job-sheets: CUPS's start and end sheet.
SEVERAL_VALUES = frozenset({"finishings", "page-ranges", "job-sheets"})


@dataclass(frozen=True)
class ExtensionOffers:
    """What the enabled printers offer of our org.savapage-* extension options: each one's
    options as a release to it offers them (its rule file's mappings and job options, checked
    against what it says it can do), choices for operators included. Like Capabilities, the
    union: the printer advertises what some printer behind it can do, whoever sends the job."""

    printers: tuple[tuple[OfferedOption, ...], ...]

    def take(self, name: str, value: str) -> bool:
        """Whether a release to some printer would take `name`=`value` as offered (the
        release's own check, not_offered): a value its rule file offers, or one asking for
        nothing (a finishing's "none") of an option it does not have."""
        return any(
            name not in not_offered(offered, {name: value}, operator=True)
            for offered in self.printers
        )


@dataclass
class JobTemplate:
    """What a client asked for: the held job's preset options, and what we cannot honour."""

    options: dict[str, str] = field(default_factory=dict)
    copies: int = 1
    page_ranges: str = ""
    unsupported: list[Attribute] = field(default_factory=list)


def job_template(
    attributes: Iterable[Attribute],
    capabilities: Callable[[], Capabilities],
    extensions: Callable[[], ExtensionOffers],
) -> JobTemplate:
    """Map the job group of a Print-Job / Create-Job / Validate-Job onto our job options.

    `capabilities` and `extensions` (database queries; the second also reads rule files) are
    each called once, and only for an attribute checked against them: a job sending only
    hints, copies or page ranges costs neither, one without org.savapage-* options the second."""
    template = JobTemplate()
    asked = functools.cache(capabilities)
    offers = functools.cache(extensions)
    for attribute in attributes:
        if not _apply(template, attribute, asked, offers):
            template.unsupported.append(attribute)
    return template


def _apply(
    template: JobTemplate,
    attribute: Attribute,
    capabilities: Callable[[], Capabilities],
    extensions: Callable[[], ExtensionOffers],
) -> bool:
    """Record one attribute; False when the product cannot honour it."""
    name = attribute.name
    values = attribute.python_values
    if any(isinstance(value, OutOfBand) for value in values):
        return False
    if len(values) > 1 and name not in SEVERAL_VALUES:
        return False
    first = values[0]
    if name in RENDERING_HINTS:
        return all(_is_one_of(value, RENDERING_HINTS[name]) for value in values)
    if name == "job-priority":
        priority = first if _is_int(first) else None
        return isinstance(priority, int) and 1 <= priority <= MAX_JOB_PRIORITY
    if name == "printer-resolution":
        # What phones send with a raster they rendered at one of the resolutions asked for.
        return first in {Resolution(dpi, dpi, 3) for dpi in RASTER_RESOLUTIONS}
    if name == "output-bin" or name == "print-scaling":
        allowed = capabilities().output_bins if name == "output-bin" else PRINT_SCALING
        if first not in allowed:
            return False
        template.options[name] = str(first)
        return True
    if name == "copies":
        if not _is_int(first):
            return False
        assert isinstance(first, int)
        if not 1 <= first <= MAX_COPIES:
            return False
        template.copies = first
        return True
    if name == "sides" or name == "print-color-mode" or name == "media":
        c = capabilities()
        allowed = {"sides": c.sides, "print-color-mode": c.color_modes, "media": c.media}[name]
        if first not in allowed:
            return False
        template.options[name] = str(first)
        return True
    if name == "media-col":
        media = _media_from_col(first, capabilities()) if isinstance(first, Collection) else None
        if media is None:
            return False
        template.options["media"] = media
        return True
    if name == "number-up":
        if first not in capabilities().number_up or not _is_int(first):
            return False
        template.options[name] = str(first)
        return True
    if name == "page-ranges":
        ranges = [v for v in values if isinstance(v, RangeOfInteger)]
        if len(ranges) != len(values) or any(r.lower < 1 or r.upper < r.lower for r in ranges):
            return False
        if any(later.lower <= earlier.upper for earlier, later in itertools.pairwise(ranges)):
            # RFC 8011 (5.2.7): so that a printer can print them in one pass.
            raise IppRefusal(
                Status.CLIENT_ERROR_BAD_REQUEST,
                "page-ranges must be in ascending order and must not overlap",
                [attribute],
            )
        written = ",".join(
            str(r.lower) if r.lower == r.upper else f"{r.lower}-{r.upper}" for r in ranges
        )
        if len(written) > PAGE_RANGES_LENGTH:
            return False  # more than a held job keeps (and than anyone types)
        template.page_ranges = written
        return True
    if name == "finishings":
        return _apply_finishings(template, values, capabilities())
    if name in ("cover-front", "cover-back"):
        cover_type = first.get("cover-type") if isinstance(first, Collection) else None
        if cover_type is None or cover_type.value not in capabilities().cover_types:
            return False
        template.options[COVER_FRONT_TYPE if name == "cover-front" else COVER_BACK_TYPE] = str(
            cover_type.value
        )
        return True
    if name.startswith(SAVAPAGE_PREFIX):
        # One value (SEVERAL_VALUES): a release sends one finishing, cover or tray (and
        # refuses several), and a job's presets are single choices.
        if not (isinstance(first, str) or _is_int(first)):
            return False
        text = str(first)
        # Control characters are in no option's values (and PostgreSQL stores no NUL).
        if not text.isprintable():
            return False
        # A value no printer offers could never be released as sent (and one of an option no
        # printer has would be dropped unseen).
        if not extensions().take(name, text):
            return False
        template.options[name] = text
        return True
    return False


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_one_of(value: object, allowed: frozenset[object]) -> bool:
    # An integer hint is never a boolean (True == 1 in Python); a keyword is a plain string.
    return (_is_int(value) or isinstance(value, str)) and value in allowed


def _apply_finishings(template: JobTemplate, values: Sequence[object], c: Capabilities) -> bool:
    chosen: dict[str, str] = {}
    for value in values:
        if not _is_int(value) or value not in c.finishings:
            return False
        assert isinstance(value, int)
        if value == FINISHINGS_NONE:
            continue
        if value == BOOKLET_MAKER:
            target, shown = FINISHINGS_BOOKLET, BOOKLET_VALUE
        else:
            target = next(n for n, allowed in FINISHING_ENUM_RANGES.items() if value in allowed)
            shown = str(value)
        if target in chosen:
            return False  # two staplings (or two punchings) at once cannot be honoured
        chosen[target] = shown
    template.options.update(chosen)
    return True


def _media_from_col(collection: Collection, c: Capabilities) -> str | None:
    """The supported media a media-col names: by media-key / media-size-name, or by size."""
    for key in ("media-key", "media-size-name"):
        member = collection.get(key)
        if member is not None and member.value in c.media:
            return str(member.value)
    size = collection.get("media-size")
    if size is None or not isinstance(size.value, Collection):
        return None
    x, y = size.value.get("x-dimension"), size.value.get("y-dimension")
    if x is None or y is None or not isinstance(x.value, int) or not isinstance(y.value, int):
        return None
    width, height = x.value, y.value
    for media in c.media:
        dimensions = media_size(media)
        # Sizes sent in inches and stored in millimetres differ by rounding: allow 1 mm.
        if dimensions and abs(dimensions[0] - width) <= 100 and abs(dimensions[1] - height) <= 100:
            return media
    return None
