"""Sans-IO encoder and decoder of IPP messages (RFC 8010).

``decode`` accepts any bytes and either returns a Message or raises IppDecodeError, never
another exception. Decoding is lossless: ``encode(decode(b)) == b[:message.data_offset]``
for every well-formed message, vendor attributes and unknown tags included, because every
accepted encoding has exactly one form (fixed-size values must have their exact size,
strings must be valid UTF-8, which re-encodes identically) and anything we cannot interpret
is kept as raw bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from printmgmt.ipp.errors import IppAttributesTooLarge, IppDecodeError, IppEncodeError
from printmgmt.ipp.model import (
    Attribute,
    AttributeGroup,
    Collection,
    DateTime,
    Message,
    OutOfBand,
    PyValue,
    RangeOfInteger,
    RawValue,
    Resolution,
    TextWithLanguage,
    Value,
)
from printmgmt.ipp.tags import MAX_DELIMITER_TAG, STRING_TAGS, GroupTag, ValueTag, syntax_name


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """Bounds that keep a hostile message from exhausting memory or time.

    ``max_attribute_bytes`` bounds the header and attributes only; document data after
    end-of-attributes is never looked at.
    """

    max_attribute_bytes: int = 8 * 1024 * 1024
    max_values: int = 100_000
    max_name_length: int = 1024
    max_value_length: int = 65535
    max_depth: int = 16


DEFAULT_LIMITS = DecodeLimits()

_HEADER = struct.Struct(">BBHi")
_RESOLUTION = struct.Struct(">iib")
_RANGE = struct.Struct(">ii")
_DATE_TIME = struct.Struct(">HBBBBBBcBB")
_INT = struct.Struct(">i")
_INT_TAGS = frozenset((int(ValueTag.INTEGER), int(ValueTag.ENUM)))
# Plain ints for the decode loop: comparing with IntEnum members costs attribute look-ups.
_STRING_TAGS = frozenset(int(tag) for tag in STRING_TAGS)
_END = int(GroupTag.END)
_BEG_COLLECTION = int(ValueTag.BEG_COLLECTION)
_END_COLLECTION = int(ValueTag.END_COLLECTION)
_MEMBER_ATTR_NAME = int(ValueTag.MEMBER_ATTR_NAME)
_FIXED_SIZES: dict[int, int] = {
    int(ValueTag.INTEGER): 4,
    int(ValueTag.ENUM): 4,
    int(ValueTag.BOOLEAN): 1,
    int(ValueTag.DATE_TIME): 11,
    int(ValueTag.RESOLUTION): 9,
    int(ValueTag.RANGE_OF_INTEGER): 8,
}


class _CollectionFrame:
    """A collection being decoded: its members so far and where its value goes."""

    __slots__ = ("member_name", "member_values", "members", "start", "target")

    def __init__(self, target: list[Value], start: int) -> None:
        self.target = target
        self.start = start
        self.members: list[Attribute] = []
        self.member_name: str | None = None
        self.member_values: list[Value] = []

    def close_member(self, offset: int) -> None:
        if self.member_name is None:
            return
        if not self.member_values:
            raise IppDecodeError(offset, f"collection member {self.member_name!r} has no value")
        self.members.append(Attribute(self.member_name, tuple(self.member_values)))
        self.member_values = []


def decode(data: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> Message:
    """Decode one IPP message; the document data (if any) starts at ``data_offset``."""
    total = len(data)
    # Reading stops at the limit; running into it is reported as a limit, not truncation.
    end = min(total, limits.max_attribute_bytes)
    max_name_length = limits.max_name_length
    max_value_length = limits.max_value_length
    max_values = limits.max_values
    string_tags = _STRING_TAGS
    # Value is a named tuple; tuple.__new__ skips its Python-level constructor.
    new_value = tuple.__new__

    if end < _HEADER.size:
        raise _past_end(0, "8-byte header", end, total, limits)
    major, minor, code, request_id = _HEADER.unpack_from(data, 0)
    pos = _HEADER.size

    groups: list[AttributeGroup] = []
    group_tag: int | None = None
    attributes: list[Attribute] = []
    name: str | None = None  # the top-level attribute whose values are being read
    values: list[Value] = []
    stack: list[_CollectionFrame] = []
    value_count = 0

    while True:
        if pos >= end:
            raise _past_end(pos, "tag", end, total, limits)
        tag = data[pos]
        tag_offset = pos

        if tag <= MAX_DELIMITER_TAG:
            pos += 1
            if stack:
                raise IppDecodeError(
                    stack[-1].start, "collection never ends (endCollection missing)"
                )
            if name is not None:
                attributes.append(Attribute(name, tuple(values)))
                name = None
            if group_tag is not None:
                groups.append(AttributeGroup(group_tag, tuple(attributes)))
                attributes = []
            if tag == _END:
                return Message((major, minor), code, request_id, tuple(groups), pos)
            group_tag = tag
            continue

        if pos + 3 > end:
            raise _past_end(pos + 1, "name length", end, total, limits)
        name_length = data[pos + 1] << 8 | data[pos + 2]
        name_offset = pos + 3
        if name_length > max_name_length:
            raise IppDecodeError(
                pos + 1, f"name length {name_length} exceeds the limit of {max_name_length}"
            )
        pos = name_offset + name_length
        if pos + 2 > end:
            what = f"name length {name_length}" if pos > end else "value length"
            raise _past_end(name_offset if pos > end else pos, what, end, total, limits)
        value_length = data[pos] << 8 | data[pos + 1]
        if value_length > max_value_length:
            raise IppDecodeError(
                pos, f"value length {value_length} exceeds the limit of {max_value_length}"
            )
        value_offset = pos + 2
        pos = value_offset + value_length
        if pos > end:
            raise _past_end(value_offset - 2, f"value length {value_length}", end, total, limits)

        value_count += 1
        if value_count > max_values:
            raise IppDecodeError(tag_offset, f"more than {max_values} values")

        if stack:
            frame = stack[-1]
            if name_length:
                raise IppDecodeError(
                    name_offset, "named attribute inside a collection (memberAttrName missing)"
                )
            if tag == _END_COLLECTION:
                if value_length:
                    raise IppDecodeError(value_offset, "endCollection with a value")
                frame.close_member(tag_offset)
                stack.pop()
                collection = Collection(tuple(frame.members))
                frame.target.append(Value(_BEG_COLLECTION, collection))
                continue
            if tag == _MEMBER_ATTR_NAME:
                frame.close_member(tag_offset)
                frame.member_name = _text(data, value_offset, value_length, "member name")
                if not frame.member_name:
                    raise IppDecodeError(value_offset, "empty member name")
                continue
            if frame.member_name is None:
                raise IppDecodeError(tag_offset, "collection member without a name")
            target = frame.member_values
        else:
            if tag in (_END_COLLECTION, _MEMBER_ATTR_NAME):
                raise IppDecodeError(tag_offset, f"{syntax_name(tag)} outside a collection")
            if name_length:
                # Checked here only: values without a name need a named one before them,
                # and collections open with a named value at the top level.
                if group_tag is None:
                    raise IppDecodeError(tag_offset, "attribute before the first group delimiter")
                if name is not None:
                    attributes.append(Attribute(name, tuple(values)))
                try:
                    name = data[name_offset : name_offset + name_length].decode("utf-8")
                except UnicodeDecodeError as error:
                    raise IppDecodeError(
                        name_offset + error.start, "invalid UTF-8 in attribute name"
                    ) from None
                values = []
            elif name is None:
                raise IppDecodeError(tag_offset, "additional value without an attribute before it")
            target = values

        if tag in string_tags:
            # The common case, kept inline because decoding speed matters here.
            try:
                target.append(new_value(Value, (tag, data[value_offset:pos].decode("utf-8"))))
            except UnicodeDecodeError as error:
                raise IppDecodeError(
                    value_offset + error.start, f"invalid UTF-8 in {syntax_name(tag)} value"
                ) from None
        elif tag == _BEG_COLLECTION:
            if value_length:
                raise IppDecodeError(value_offset, "begCollection with a value")
            if len(stack) >= limits.max_depth:
                raise IppDecodeError(
                    tag_offset, f"collections nested deeper than {limits.max_depth}"
                )
            stack.append(_CollectionFrame(target, tag_offset))
        else:
            target.append(new_value(Value, (tag, _value(data, tag, value_offset, value_length))))


def _past_end(offset: int, what: str, end: int, total: int, limits: DecodeLimits) -> IppDecodeError:
    if end < total:
        return IppAttributesTooLarge(
            offset, f"{what} runs past the {limits.max_attribute_bytes}-byte limit for attributes"
        )
    return IppDecodeError(offset, f"{what} runs past the end of the message")


def _text(data: bytes, offset: int, length: int, what: str) -> str:
    try:
        return data[offset : offset + length].decode("utf-8")
    except UnicodeDecodeError as error:
        raise IppDecodeError(offset + error.start, f"invalid UTF-8 in {what}") from None


def _integer(data: bytes, tag: int, offset: int, length: int) -> PyValue:
    return int(_INT.unpack_from(data, offset)[0])


def _boolean(data: bytes, tag: int, offset: int, length: int) -> PyValue:
    byte = data[offset]
    if byte > 1:
        raise IppDecodeError(offset, f"boolean value 0x{byte:02X} is neither 0 nor 1")
    return byte == 1


def _octets(data: bytes, tag: int, offset: int, length: int) -> PyValue:
    return data[offset : offset + length]


def _date_time(data: bytes, tag: int, offset: int, length: int) -> PyValue:
    year, month, day, hour, minute, second, deciseconds, direction, utc_hours, utc_minutes = (
        _DATE_TIME.unpack_from(data, offset)
    )
    if direction not in (b"+", b"-"):
        raise IppDecodeError(offset + 8, "dateTime direction from UTC is neither + nor -")
    return DateTime(
        year,
        month,
        day,
        hour,
        minute,
        second,
        deciseconds,
        direction.decode("ascii"),
        utc_hours,
        utc_minutes,
    )


def _resolution(data: bytes, tag: int, offset: int, length: int) -> PyValue:
    return Resolution(*_RESOLUTION.unpack_from(data, offset))


def _range(data: bytes, tag: int, offset: int, length: int) -> PyValue:
    return RangeOfInteger(*_RANGE.unpack_from(data, offset))


def _extension(data: bytes, tag: int, offset: int, length: int) -> PyValue:
    if length < 4:
        raise IppDecodeError(offset - 2, "extension value shorter than its 4-byte type")
    return RawValue(data[offset : offset + length])


def _with_language(data: bytes, tag: int, offset: int, length: int) -> PyValue:
    what = syntax_name(tag)
    if length < 4:
        raise IppDecodeError(offset - 2, f"{what} value length {length} is too short")
    language_length = data[offset] << 8 | data[offset + 1]
    text_length_at = offset + 2 + language_length
    if text_length_at + 2 > offset + length:
        raise IppDecodeError(offset, f"{what} language length {language_length} is too long")
    text_length = data[text_length_at] << 8 | data[text_length_at + 1]
    if 4 + language_length + text_length != length:
        raise IppDecodeError(
            text_length_at, f"{what} text length {text_length} does not fill the value"
        )
    language = _text(data, offset + 2, language_length, f"{what} language")
    text = _text(data, text_length_at + 2, text_length, f"{what} text")
    return TextWithLanguage(text, language)


_ValueParser = Callable[[bytes, int, int, int], PyValue]

#: Parsers of the value syntaxes that are neither strings nor collections, by tag (plain
#: ints, because looking up IntEnum members in the decode loop is measurably slow).
_PARSERS: dict[int, _ValueParser] = {
    int(ValueTag.INTEGER): _integer,
    int(ValueTag.ENUM): _integer,
    int(ValueTag.BOOLEAN): _boolean,
    int(ValueTag.OCTET_STRING): _octets,
    int(ValueTag.DATE_TIME): _date_time,
    int(ValueTag.RESOLUTION): _resolution,
    int(ValueTag.RANGE_OF_INTEGER): _range,
    int(ValueTag.TEXT_WITH_LANGUAGE): _with_language,
    int(ValueTag.NAME_WITH_LANGUAGE): _with_language,
    int(ValueTag.EXTENSION): _extension,
}


def _value(data: bytes, tag: int, offset: int, length: int) -> PyValue:
    expected = _FIXED_SIZES.get(tag)
    if expected is not None and length != expected:
        raise IppDecodeError(
            offset - 2, f"{syntax_name(tag)} value length {length}, expected {expected}"
        )
    parser = _PARSERS.get(tag)
    if parser is not None:
        return parser(data, tag, offset, length)
    if 0x10 <= tag <= 0x1F and length == 0:
        return OutOfBand(tag)
    return RawValue(data[offset : offset + length])


# ---------------------------------------------------------------- encoding


def encode(message: Message) -> bytes:
    """The wire form of a message's header and attributes, ending with end-of-attributes.
    Document data is sent after it by the caller (the client streams it)."""
    major, minor = message.version
    out = bytearray()
    try:
        out += _HEADER.pack(major, minor, message.operation_or_status, message.request_id)
    except struct.error as error:
        raise IppEncodeError(f"header field out of range: {error}") from None
    for group in message.groups:
        if not 0 <= group.tag <= MAX_DELIMITER_TAG or group.tag == GroupTag.END:
            raise IppEncodeError(f"0x{group.tag:02X} cannot open an attribute group")
        out.append(group.tag)
        for attribute in group.attributes:
            _encode_attribute(out, attribute)
    out.append(GroupTag.END)
    return bytes(out)


def _encode_attribute(out: bytearray, attribute: Attribute) -> None:
    if not attribute.values:
        raise IppEncodeError(f"attribute {attribute.name!r} has no value")
    name = attribute.name.encode("utf-8")
    for value in attribute.values:
        _encode_value(out, name, value, attribute.name)
        name = b""


def _encode_value(out: bytearray, name: bytes, value: Value, attribute_name: str) -> None:
    tag = value.tag
    if not MAX_DELIMITER_TAG < tag <= 0xFF:
        raise IppEncodeError(f"{attribute_name}: 0x{tag:X} is not a value tag")
    if tag == ValueTag.BEG_COLLECTION:
        collection = value.value
        if not isinstance(collection, Collection):
            raise _wrong_type(attribute_name, tag, value.value)
        _put(out, tag, name, b"", attribute_name)
        for member in collection.members:
            _put(out, ValueTag.MEMBER_ATTR_NAME, b"", member.name.encode("utf-8"), attribute_name)
            if not member.values:
                raise IppEncodeError(f"{attribute_name}: member {member.name!r} has no value")
            for member_value in member.values:
                _encode_value(out, b"", member_value, f"{attribute_name}.{member.name}")
        _put(out, ValueTag.END_COLLECTION, b"", b"", attribute_name)
        return
    _put(out, tag, name, _value_bytes(tag, value.value, attribute_name), attribute_name)


def _put(out: bytearray, tag: int, name: bytes, data: bytes, attribute_name: str) -> None:
    if len(name) > 0xFFFF or len(data) > 0xFFFF:
        raise IppEncodeError(f"{attribute_name}: name or value longer than 65535 bytes")
    out.append(tag)
    out += len(name).to_bytes(2, "big")
    out += name
    out += len(data).to_bytes(2, "big")
    out += data


def _wrong_type(attribute_name: str, tag: int, value: object) -> IppEncodeError:
    return IppEncodeError(
        f"{attribute_name}: a {type(value).__name__} cannot be sent as {syntax_name(tag)}"
    )


def _value_bytes(tag: int, value: PyValue, attribute_name: str) -> bytes:
    try:
        if tag in STRING_TAGS and isinstance(value, str):
            return value.encode("utf-8")
        if tag in _INT_TAGS and isinstance(value, int) and not isinstance(value, bool):
            return _INT.pack(value)
        if tag == ValueTag.BOOLEAN and isinstance(value, bool):
            return b"\x01" if value else b"\x00"
        if tag == ValueTag.OCTET_STRING and isinstance(value, bytes):
            return value
        if tag == ValueTag.DATE_TIME and isinstance(value, DateTime):
            return _DATE_TIME.pack(
                value.year,
                value.month,
                value.day,
                value.hour,
                value.minute,
                value.second,
                value.deciseconds,
                value.utc_direction.encode("ascii"),
                value.utc_hours,
                value.utc_minutes,
            )
        if tag == ValueTag.RESOLUTION and isinstance(value, Resolution):
            return _RESOLUTION.pack(value.cross_feed, value.feed, value.units)
        if tag == ValueTag.RANGE_OF_INTEGER and isinstance(value, RangeOfInteger):
            return _RANGE.pack(value.lower, value.upper)
        if tag in (ValueTag.TEXT_WITH_LANGUAGE, ValueTag.NAME_WITH_LANGUAGE) and isinstance(
            value, TextWithLanguage
        ):
            language = value.language.encode("utf-8")
            text = value.text.encode("utf-8")
            return len(language).to_bytes(2, "big") + language + len(text).to_bytes(2, "big") + text
        if isinstance(value, OutOfBand) and value.tag == tag:
            return b""
        if isinstance(value, RawValue):
            return value.data
    except (struct.error, OverflowError, UnicodeEncodeError) as error:
        raise IppEncodeError(f"{attribute_name}: cannot encode {value!r}: {error}") from None
    raise _wrong_type(attribute_name, tag, value)
