"""The readable, immutable model of an IPP message.

A message holds ordered groups; a group holds ordered attributes (a repeated attribute is
kept as often as it was sent, so that re-encoding is lossless); an attribute holds values,
each with its own syntax tag because one attribute may mix syntaxes (``keyword | name``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from printmgmt.ipp.tags import OUT_OF_BAND_TAGS, GroupTag, ValueTag, group_name, syntax_name


@dataclass(frozen=True, slots=True)
class Resolution:
    """A resolution value; ``units`` 3 is dots per inch, 4 dots per centimetre."""

    cross_feed: int
    feed: int
    units: int

    DPI = 3
    DPCM = 4

    def __str__(self) -> str:
        unit = {self.DPI: "dpi", self.DPCM: "dpcm"}.get(self.units, f"units-{self.units}")
        if self.cross_feed == self.feed:
            return f"{self.cross_feed}{unit}"
        return f"{self.cross_feed}x{self.feed}{unit}"


@dataclass(frozen=True, slots=True)
class RangeOfInteger:
    """An inclusive integer range such as ``copies-supported``."""

    lower: int
    upper: int

    def __str__(self) -> str:
        return f"{self.lower}-{self.upper}"


@dataclass(frozen=True, slots=True)
class DateTime:
    """An RFC 2579 DateAndTime exactly as sent (fields are not range-checked, so that an
    odd value from a printer still re-encodes byte for byte)."""

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    deciseconds: int
    utc_direction: str  # "+" or "-"
    utc_hours: int
    utc_minutes: int

    @classmethod
    def from_datetime(cls, moment: dt.datetime) -> DateTime:
        """Build from a timezone-aware datetime (a naive one is refused)."""
        offset = moment.utcoffset()
        if offset is None:
            raise ValueError("dateTime values need a timezone-aware datetime")
        minutes = int(offset.total_seconds()) // 60
        direction = "-" if minutes < 0 else "+"
        minutes = abs(minutes)
        return cls(
            moment.year,
            moment.month,
            moment.day,
            moment.hour,
            moment.minute,
            moment.second,
            moment.microsecond // 100_000,
            direction,
            minutes // 60,
            minutes % 60,
        )

    def to_datetime(self) -> dt.datetime:
        """The aware datetime; raises ValueError if the printer sent an impossible date."""
        sign = -1 if self.utc_direction == "-" else 1
        zone = dt.timezone(sign * dt.timedelta(hours=self.utc_hours, minutes=self.utc_minutes))
        return dt.datetime(
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.deciseconds * 100_000,
            tzinfo=zone,
        )

    def __str__(self) -> str:
        return (
            f"{self.year:04d}-{self.month:02d}-{self.day:02d}T{self.hour:02d}:"
            f"{self.minute:02d}:{self.second:02d}.{self.deciseconds}"
            f"{self.utc_direction}{self.utc_hours:02d}{self.utc_minutes:02d}"
        )


@dataclass(frozen=True, slots=True)
class TextWithLanguage:
    """A text or name value that names its natural language."""

    text: str
    language: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class OutOfBand:
    """An out-of-band value (unsupported, unknown, no-value, ...): the tag is the value."""

    tag: int

    def __str__(self) -> str:
        return syntax_name(self.tag)


@dataclass(frozen=True, slots=True)
class RawValue:
    """A value whose syntax we do not know, kept byte for byte so it can be sent back."""

    data: bytes

    def __str__(self) -> str:
        return "0x" + self.data.hex().upper()


@dataclass(frozen=True, slots=True)
class Collection:
    """A collection value: ordered members, each an attribute."""

    members: tuple[Attribute, ...] = ()

    def get(self, name: str) -> Attribute | None:
        """The first member called ``name``."""
        for member in self.members:
            if member.name == name:
                return member
        return None

    def __getitem__(self, name: str) -> PyValue:
        member = self.get(name)
        if member is None:
            raise KeyError(name)
        return member.value

    def __contains__(self, name: object) -> bool:
        return any(member.name == name for member in self.members)

    def __iter__(self) -> Iterator[Attribute]:
        return iter(self.members)

    def __str__(self) -> str:
        return "{" + " ".join(f"{m.name}={m.display()}" for m in self.members) + "}"


#: What a decoded value can be; the syntax tag beside it says how it was encoded.
PyValue = (
    int
    | bool
    | str
    | bytes
    | TextWithLanguage
    | DateTime
    | Resolution
    | RangeOfInteger
    | Collection
    | OutOfBand
    | RawValue
)


class Value(NamedTuple):
    """One value of an attribute together with its syntax tag.

    A named tuple rather than a dataclass: the decoder makes one per value, and a tuple
    is the cheapest immutable object to create."""

    tag: int
    value: PyValue

    @property
    def syntax(self) -> str:
        return syntax_name(self.tag)

    def __str__(self) -> str:
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        if isinstance(self.value, bytes):
            return "0x" + self.value.hex().upper()
        return str(self.value)


@dataclass(frozen=True, slots=True)
class Attribute:
    """A named attribute with one or more values (1setOf when there are several)."""

    name: str
    values: tuple[Value, ...]

    @property
    def tag(self) -> int:
        """The syntax tag of the first value."""
        return self.values[0].tag

    @property
    def syntax(self) -> str:
        """The syntax as ipptool shows it, e.g. ``1setOf keyword``."""
        names = list(dict.fromkeys(v.syntax for v in self.values))
        joined = " | ".join(names)
        return f"1setOf {joined}" if len(self.values) > 1 else joined

    @property
    def value(self) -> PyValue:
        """The first value (most attributes are single-valued)."""
        return self.values[0].value

    @property
    def python_values(self) -> tuple[PyValue, ...]:
        return tuple(v.value for v in self.values)

    def display(self) -> str:
        return ",".join(str(v) for v in self.values)

    # ---- constructors, one per syntax, so that callers never handle raw tags
    @classmethod
    def of(cls, name: str, tag: int, *values: PyValue) -> Attribute:
        if not values:
            raise ValueError(f"attribute {name!r} needs at least one value")
        return cls(name, tuple(Value(tag, v) for v in values))

    @classmethod
    def integer(cls, name: str, *values: int) -> Attribute:
        return cls.of(name, ValueTag.INTEGER, *values)

    @classmethod
    def boolean(cls, name: str, *values: bool) -> Attribute:
        return cls.of(name, ValueTag.BOOLEAN, *values)

    @classmethod
    def enum(cls, name: str, *values: int) -> Attribute:
        return cls.of(name, ValueTag.ENUM, *values)

    @classmethod
    def keyword(cls, name: str, *values: str) -> Attribute:
        return cls.of(name, ValueTag.KEYWORD, *values)

    @classmethod
    def text(cls, name: str, *values: str) -> Attribute:
        return cls.of(name, ValueTag.TEXT, *values)

    @classmethod
    def name_(cls, name: str, *values: str) -> Attribute:
        """A nameWithoutLanguage attribute (``name`` is taken by the attribute's name)."""
        return cls.of(name, ValueTag.NAME, *values)

    @classmethod
    def uri(cls, name: str, *values: str) -> Attribute:
        return cls.of(name, ValueTag.URI, *values)

    @classmethod
    def charset(cls, name: str, *values: str) -> Attribute:
        return cls.of(name, ValueTag.CHARSET, *values)

    @classmethod
    def natural_language(cls, name: str, *values: str) -> Attribute:
        return cls.of(name, ValueTag.NATURAL_LANGUAGE, *values)

    @classmethod
    def mime_media_type(cls, name: str, *values: str) -> Attribute:
        return cls.of(name, ValueTag.MIME_MEDIA_TYPE, *values)

    @classmethod
    def octet_string(cls, name: str, *values: bytes) -> Attribute:
        return cls.of(name, ValueTag.OCTET_STRING, *values)

    @classmethod
    def date_time(cls, name: str, *values: DateTime) -> Attribute:
        return cls.of(name, ValueTag.DATE_TIME, *values)

    @classmethod
    def resolution(cls, name: str, *values: Resolution) -> Attribute:
        return cls.of(name, ValueTag.RESOLUTION, *values)

    @classmethod
    def range_of_integer(cls, name: str, *values: RangeOfInteger) -> Attribute:
        return cls.of(name, ValueTag.RANGE_OF_INTEGER, *values)

    @classmethod
    def out_of_band(cls, name: str, tag: int) -> Attribute:
        if tag not in OUT_OF_BAND_TAGS:
            raise ValueError(f"0x{tag:02X} is not an out-of-band tag")
        return cls.of(name, tag, OutOfBand(tag))

    @classmethod
    def collection(cls, name: str, *values: Collection | Iterable[Attribute]) -> Attribute:
        collections = [v if isinstance(v, Collection) else Collection(tuple(v)) for v in values]
        return cls.of(name, ValueTag.BEG_COLLECTION, *collections)


@dataclass(frozen=True, slots=True)
class AttributeGroup:
    """One attribute group: its delimiter tag and its attributes in wire order."""

    tag: int
    attributes: tuple[Attribute, ...] = ()

    @property
    def name(self) -> str:
        return group_name(self.tag)

    def get(self, name: str) -> Attribute | None:
        """The first attribute called ``name`` (as libcups does for repeats)."""
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute
        return None

    def __contains__(self, name: object) -> bool:
        return any(attribute.name == name for attribute in self.attributes)

    def __iter__(self) -> Iterator[Attribute]:
        return iter(self.attributes)

    def repeated_names(self) -> tuple[str, ...]:
        """Names that occur more than once in this group (a printer quirk worth logging)."""
        seen: set[str] = set()
        repeated: dict[str, None] = {}
        for attribute in self.attributes:
            if attribute.name in seen:
                repeated[attribute.name] = None
            seen.add(attribute.name)
        return tuple(repeated)

    def as_dict(self) -> dict[str, Attribute]:
        """Name to first attribute; repeats are dropped."""
        result: dict[str, Attribute] = {}
        for attribute in self.attributes:
            result.setdefault(attribute.name, attribute)
        return result


@dataclass(frozen=True, slots=True)
class Message:
    """An IPP request or response.

    ``data_offset`` is where the document data starts in the decoded bytes (just after
    end-of-attributes); it is ``None`` for a message built in code. The data itself is
    never copied into the message.
    """

    version: tuple[int, int]
    operation_or_status: int
    request_id: int
    groups: tuple[AttributeGroup, ...] = ()
    data_offset: int | None = field(default=None, compare=False)

    @classmethod
    def request(
        cls,
        operation: int,
        request_id: int,
        *,
        target_uri: str | None = None,
        target_name: str = "printer-uri",
        operation_attributes: Sequence[Attribute] = (),
        groups: Sequence[AttributeGroup] = (),
        natural_language: str = "en",
        version: tuple[int, int] = (2, 0),
    ) -> Message:
        """A request whose operation group starts with attributes-charset,
        attributes-natural-language and the target URI, in the order RFC 8011 demands."""
        first = [
            Attribute.charset("attributes-charset", "utf-8"),
            Attribute.natural_language("attributes-natural-language", natural_language),
        ]
        if target_uri is not None:
            first.append(Attribute.uri(target_name, target_uri))
        operation_group = AttributeGroup(GroupTag.OPERATION, (*first, *operation_attributes))
        return cls(version, operation, request_id, (operation_group, *groups))

    @classmethod
    def response(
        cls,
        status: int,
        request_id: int,
        *,
        status_message: str | None = None,
        groups: Sequence[AttributeGroup] = (),
        natural_language: str = "en",
        version: tuple[int, int] = (2, 0),
    ) -> Message:
        """A response whose operation group starts as RFC 8011 section 4.1.4 demands."""
        first = [
            Attribute.charset("attributes-charset", "utf-8"),
            Attribute.natural_language("attributes-natural-language", natural_language),
        ]
        if status_message is not None:
            first.append(Attribute.text("status-message", status_message))
        return cls(
            version, status, request_id, (AttributeGroup(GroupTag.OPERATION, tuple(first)), *groups)
        )

    @property
    def status_code(self) -> int:
        """The status code of a response (same field as the operation id of a request)."""
        return self.operation_or_status

    @property
    def operation_id(self) -> int:
        return self.operation_or_status

    def group(self, tag: int) -> AttributeGroup | None:
        """The first group with this delimiter tag."""
        for group in self.groups:
            if group.tag == tag:
                return group
        return None

    def groups_of(self, tag: int) -> list[AttributeGroup]:
        """Every group with this tag, e.g. one job group per job in a Get-Jobs answer."""
        return [group for group in self.groups if group.tag == tag]

    def get(self, name: str, group_tag: int | None = None) -> Attribute | None:
        """The first attribute called ``name``, in one kind of group or in any."""
        for group in self.groups:
            if group_tag is not None and group.tag != group_tag:
                continue
            found = group.get(name)
            if found is not None:
                return found
        return None

    @property
    def operation_attributes(self) -> AttributeGroup:
        return self.group(GroupTag.OPERATION) or AttributeGroup(GroupTag.OPERATION)
