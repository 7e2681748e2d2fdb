"""The codec, tag by tag and error by error, on hand-made bytes."""

from __future__ import annotations

import datetime as dt

import pytest

from printmgmt.ipp import (
    Attribute,
    AttributeGroup,
    Collection,
    DateTime,
    DecodeLimits,
    GroupTag,
    IppAttributesTooLarge,
    IppDecodeError,
    IppEncodeError,
    Message,
    OutOfBand,
    RangeOfInteger,
    RawValue,
    Resolution,
    TextWithLanguage,
    Value,
    ValueTag,
    decode,
    encode,
)
from tests.ipp.wire import HEADER, int32, item, message, with_language

DATE_BYTES = b"\x07\xea\x0b\x15\x17\x2a\x09\x03-\x05\x1e"  # 2026-11-21 23:42:09.3 -05:30


def round_trip(data: bytes) -> Message:
    decoded = decode(data)
    assert encode(decoded) == data
    return decoded


def only_value(data: bytes) -> Value:
    attribute = round_trip(data).groups[0].attributes[0]
    assert len(attribute.values) == 1
    return attribute.values[0]


# ---------------------------------------------------------------- header and groups


def test_header_fields_and_document_offset() -> None:
    data = message(item(0x47, "attributes-charset", "utf-8")) + b"%PDF-1.7 document"
    decoded = decode(data)
    assert decoded.version == (2, 0)
    assert decoded.operation_id == 0x000B
    assert decoded.status_code == 0x000B
    assert decoded.request_id == 42
    assert data[decoded.data_offset :] == b"%PDF-1.7 document"
    assert encode(decoded) == data[: decoded.data_offset]


@pytest.mark.parametrize(
    "tag", [0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0F]
)
def test_every_group_delimiter_is_kept(tag: int) -> None:
    decoded = round_trip(message(item(0x44, "x", "y"), group=tag))
    assert decoded.groups[0].tag == tag


def test_empty_groups_and_group_order_are_kept() -> None:
    data = HEADER + b"\x01\x04\x02" + item(0x21, "job-id", int32(7)) + b"\x02\x05\x03"
    decoded = round_trip(data)
    assert [g.tag for g in decoded.groups] == [0x01, 0x04, 0x02, 0x02, 0x05]
    assert decoded.groups[1].attributes == ()
    assert [len(g.attributes) for g in decoded.groups_of(GroupTag.JOB)] == [1, 0]
    assert decoded.groups[0].name == "operation-attributes-tag"
    assert AttributeGroup(0x0E).name == "group-0x0E"


def test_message_without_groups() -> None:
    decoded = round_trip(HEADER + b"\x03")
    assert decoded.groups == ()
    assert decoded.operation_attributes.attributes == ()


# ---------------------------------------------------------------- value syntaxes


@pytest.mark.parametrize(
    ("tag", "raw", "expected"),
    [
        (0x21, int32(-5), -5),
        (0x21, int32(2**31 - 1), 2**31 - 1),
        (0x23, int32(20), 20),
        (0x22, b"\x01", True),
        (0x22, b"\x00", False),
        (0x30, b"\x00\xff binary", b"\x00\xff binary"),
        (0x32, b"\x00\x00\x02\x58\x00\x00\x04\xb0\x03", Resolution(600, 1200, 3)),
        (0x33, int32(1) + int32(999), RangeOfInteger(1, 999)),
        (0x41, "Grüße from the printer", "Grüße from the printer"),
        (0x42, "Ωffice", "Ωffice"),
        (0x44, "staple-top-left", "staple-top-left"),
        (0x45, "ipp://printer.example/ipp/print", "ipp://printer.example/ipp/print"),
        (0x46, "ipps", "ipps"),
        (0x47, "utf-8", "utf-8"),
        (0x48, "de-ch", "de-ch"),
        (0x49, "application/pdf", "application/pdf"),
        (0x41, "", ""),
    ],
)
def test_value_syntaxes(tag: int, raw: bytes | str, expected: object) -> None:
    value = only_value(message(item(tag, "a", raw)))
    assert value.tag == tag
    assert value.value == expected
    assert type(value.value) is type(expected)


def test_date_time() -> None:
    value = only_value(message(item(0x31, "printer-current-time", DATE_BYTES))).value
    assert value == DateTime(2026, 11, 21, 23, 42, 9, 3, "-", 5, 30)
    moment = value.to_datetime()
    assert moment.utcoffset() == -dt.timedelta(hours=5, minutes=30)
    assert moment.microsecond == 300_000
    assert str(value) == "2026-11-21T23:42:09.3-0530"


def test_date_time_from_aware_datetime_round_trips() -> None:
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert DateTime.from_datetime(moment) == DateTime(2026, 1, 2, 3, 4, 5, 6, "+", 2, 0)
    assert DateTime.from_datetime(moment).to_datetime() == moment
    west = moment.replace(tzinfo=dt.timezone(-dt.timedelta(hours=3, minutes=30)))
    assert DateTime.from_datetime(west).utc_direction == "-"
    assert DateTime.from_datetime(west).utc_minutes == 30
    with pytest.raises(ValueError, match="timezone-aware"):
        DateTime.from_datetime(dt.datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


@pytest.mark.parametrize(("tag", "name"), [(0x35, "textWithLanguage"), (0x36, "nameWithLanguage")])
def test_with_language(tag: int, name: str) -> None:
    value = only_value(message(item(tag, "job-name", with_language("fr", "Édition"))))
    assert value.value == TextWithLanguage("Édition", "fr")
    assert value.syntax == name
    assert str(value) == "Édition"


@pytest.mark.parametrize("tag", [0x10, 0x11, 0x12, 0x13, 0x15, 0x16, 0x17, 0x1F])
def test_out_of_band(tag: int) -> None:
    value = only_value(message(item(tag, "printer-alert", b"")))
    assert value.value == OutOfBand(tag)


def test_out_of_band_names() -> None:
    names = [str(OutOfBand(t)) for t in (0x10, 0x12, 0x13, 0x15, 0x16, 0x17, 0x11)]
    assert names == [
        "unsupported",
        "unknown",
        "no-value",
        "not-settable",
        "delete-attribute",
        "admin-define",
        "tag-0x11",
    ]


@pytest.mark.parametrize(
    ("tag", "raw"),
    [
        (0x13, b"odd"),  # out-of-band with a value: not ours to judge, keep it
        (0x20, b"\x01\x02"),
        (0x38, b"vendor octets"),
        (0x40, b"\xff\xfe not even utf-8"),
        (0x4B, b"future string"),
        (0x60, b""),
        (0x7F, b"\x40\x00\x00\x01payload"),
    ],
)
def test_unknown_syntaxes_are_kept_raw(tag: int, raw: bytes) -> None:
    value = only_value(message(item(tag, "com.vendor-thing", raw)))
    assert value.value == RawValue(raw)
    assert value.tag == tag


def test_syntax_names_for_display() -> None:
    attribute = Attribute("mixed", (Value(0x44, "none"), Value(0x42, "custom")))
    assert attribute.syntax == "1setOf keyword | nameWithoutLanguage"
    assert attribute.tag == ValueTag.KEYWORD
    assert Attribute.keyword("k", "a").syntax == "keyword"
    assert Attribute.of("v", 0x60, RawValue(b"\x01")).syntax == "tag-0x60"
    assert str(Value(0x60, RawValue(b"\x01\xab"))) == "0x01AB"
    assert str(Value(0x30, b"\x0f")) == "0x0F"
    assert str(Value(0x22, False)) == "false"


# ---------------------------------------------------------------- 1setOf, repeats, collections


def test_additional_values_form_a_set() -> None:
    data = message(
        item(0x44, "sides-supported", "one-sided"),
        item(0x44, "", "two-sided-long-edge"),
        item(0x42, "", "mixed syntax"),
    )
    attribute = round_trip(data).groups[0].attributes[0]
    assert attribute.python_values == ("one-sided", "two-sided-long-edge", "mixed syntax")
    assert attribute.display() == "one-sided,two-sided-long-edge,mixed syntax"


def test_repeated_attribute_is_kept_and_lookup_returns_the_first() -> None:
    data = message(
        item(0x49, "document-format-supported", "application/pdf"),
        item(0x44, "other", "x"),
        item(0x49, "document-format-supported", "image/urf"),
    )
    decoded = round_trip(data)
    names = [a.name for a in decoded.groups[0]]
    assert names == ["document-format-supported", "other", "document-format-supported"]
    assert "other" in decoded.groups[0]
    assert "missing" not in decoded.groups[0]
    found = decoded.get("document-format-supported")
    assert found is not None
    assert found.value == "application/pdf"
    assert decoded.groups[0].as_dict()["document-format-supported"].value == "application/pdf"


def _media_col(source: str) -> bytes:
    return (
        item(0x34, "", b"")
        + item(0x4A, "", "media-size")
        + item(0x34, "", b"")
        + item(0x4A, "", "x-dimension")
        + item(0x21, "", int32(21000))
        + item(0x4A, "", "y-dimension")
        + item(0x21, "", int32(29700))
        + item(0x37, "", b"")
        + item(0x4A, "", "media-source")
        + item(0x44, "", source)
        + item(0x4A, "", "media-type-supported-here")
        + item(0x44, "", "stationery")
        + item(0x44, "", "cardstock")
        + item(0x37, "", b"")
    )


def test_nested_collections_and_sets_of_collections() -> None:
    first = _media_col("main")
    second = _media_col("by-pass-tray")
    # The first collection carries the attribute name; the second is an additional value.
    data = message(b"\x34\x00\x0fmedia-col-ready" + first[3:] + second)
    attribute = round_trip(data).groups[0].attributes[0]
    assert attribute.name == "media-col-ready"
    assert attribute.syntax == "1setOf collection"
    main, bypass = attribute.python_values
    assert isinstance(main, Collection)
    assert isinstance(bypass, Collection)
    size = main["media-size"]
    assert isinstance(size, Collection)
    assert size["x-dimension"] == 21000
    assert bypass["media-source"] == "by-pass-tray"
    types = main.get("media-type-supported-here")
    assert types is not None
    assert types.python_values == ("stationery", "cardstock")
    assert "media-size" in main
    assert "nothing" not in main
    assert [m.name for m in main] == [
        "media-size",
        "media-source",
        "media-type-supported-here",
    ]
    with pytest.raises(KeyError):
        main["nothing"]
    assert str(size) == "{x-dimension=21000 y-dimension=29700}"


def test_empty_collection() -> None:
    data = message(item(0x34, "cover-front", b""), item(0x37, "", b""))
    assert only_value(data).value == Collection()


# ---------------------------------------------------------------- malformed input


MALFORMED = [
    pytest.param(b"\x02\x00\x00", 0, "8-byte header runs past the end", id="short-header"),
    pytest.param(HEADER, 8, "tag runs past the end", id="no-end-tag"),
    pytest.param(HEADER + b"\x01\x44\x00", 10, "name length runs past", id="cut-name-length"),
    pytest.param(HEADER + b"\x01\x44\x00\x05ab", 12, "name length 5 runs past", id="cut-name"),
    pytest.param(
        HEADER + b"\x01\x44\x00\x01a\x00", 13, "value length runs past", id="cut-value-length"
    ),
    pytest.param(
        HEADER + b"\x01\x44\x00\x01a\x00\x09abc",
        13,
        "value length 9 runs past the end of the message",
        id="value-past-end",
    ),
    pytest.param(message(item(0x44, "a", "b"))[:-1], 16, "tag runs past the end", id="missing-end"),
    pytest.param(
        HEADER + item(0x44, "a", "b") + b"\x03", 8, "before the first group", id="no-group"
    ),
    pytest.param(message(item(0x44, "", "b")), 9, "additional value without", id="orphan-value"),
    pytest.param(message(item(0x21, "n", b"\x00\x01")), 13, "integer value length 2", id="int"),
    pytest.param(message(item(0x23, "n", b"\x00" * 5)), 13, "enum value length 5", id="enum"),
    pytest.param(message(item(0x22, "b", b"")), 13, "boolean value length 0", id="bool-len"),
    pytest.param(message(item(0x22, "b", b"\x02")), 15, "neither 0 nor 1", id="bool-value"),
    pytest.param(message(item(0x31, "d", b"\x00" * 10)), 13, "dateTime value length", id="date"),
    pytest.param(
        message(item(0x31, "d", DATE_BYTES[:8] + b"*" + DATE_BYTES[9:])),
        23,
        "direction from UTC",
        id="date-direction",
    ),
    pytest.param(message(item(0x32, "r", b"\x00" * 8)), 13, "resolution value len", id="res"),
    pytest.param(message(item(0x33, "r", b"\x00" * 9)), 13, "rangeOfInteger value", id="range"),
    pytest.param(message(item(0x7F, "x", b"\x00\x00")), 13, "extension value shorter", id="ext"),
    pytest.param(message(item(0x35, "t", b"\x00\x01")), 13, "too short", id="lang-short"),
    pytest.param(
        message(item(0x35, "t", b"\x00\x09en\x00\x00")), 15, "language length 9", id="lang-long"
    ),
    pytest.param(
        message(item(0x35, "t", b"\x00\x02en\x00\x05ab")), 19, "text length 5", id="text-len"
    ),
    pytest.param(message(item(0x41, "t", b"ok\xff")), 17, "invalid UTF-8 in textWith", id="utf8"),
    pytest.param(message(item(0x44, b"n\xe9", "v")), 13, "invalid UTF-8 in attribute", id="u8n"),
    pytest.param(
        message(item(0x35, "t", b"\x00\x01\xff\x00\x01x")),
        17,
        "invalid UTF-8 in textWithLanguage language",
        id="utf8-language",
    ),
    pytest.param(
        message(item(0x34, "c", b""), item(0x4A, "", "m"), item(0x21, "", int32(1))),
        9,
        "collection never ends",
        id="open-collection",
    ),
    pytest.param(
        message(item(0x34, "c", b""), item(0x21, "", int32(1)), item(0x37, "", b"")),
        15,
        "member without a name",
        id="nameless-member",
    ),
    pytest.param(
        message(item(0x34, "c", b""), item(0x21, "x", int32(1))),
        18,
        "named attribute inside a collection",
        id="named-member",
    ),
    pytest.param(
        message(item(0x34, "c", b""), item(0x4A, "", "m"), item(0x37, "", b"")),
        21,
        "member 'm' has no value",
        id="member-without-value",
    ),
    pytest.param(
        message(item(0x34, "c", b""), item(0x4A, "", ""), item(0x37, "", b"")),
        20,
        "empty member name",
        id="empty-member-name",
    ),
    pytest.param(
        message(item(0x34, "c", b""), item(0x4A, "", b"\xc3"), item(0x37, "", b"")),
        20,
        "invalid UTF-8 in member name",
        id="member-name-utf8",
    ),
    pytest.param(message(item(0x34, "c", b"x")), 15, "begCollection with a value", id="beg-val"),
    pytest.param(
        message(item(0x34, "c", b""), item(0x37, "", b"x")), 20, "endCollection with", id="end-v"
    ),
    pytest.param(message(item(0x37, "", b"")), 9, "endCollection outside", id="stray-end"),
    pytest.param(message(item(0x4A, "", "m")), 9, "memberAttrName outside", id="stray-member"),
]


@pytest.mark.parametrize(("data", "offset", "reason"), MALFORMED)
def test_malformed_input_is_reported_with_its_offset(data: bytes, offset: int, reason: str) -> None:
    with pytest.raises(IppDecodeError) as caught:
        decode(data)
    assert reason in caught.value.reason
    assert caught.value.offset == offset
    assert str(caught.value) == f"offset {offset}: {caught.value.reason}"


def test_error_message_reads_like_the_spec() -> None:
    data = HEADER + b"\x01\x44\x00\x01a\x00\x09abc"
    with pytest.raises(IppDecodeError, match=r"^offset 13: value length 9 runs past the end"):
        decode(data)


# ---------------------------------------------------------------- limits


def test_limit_on_attribute_bytes() -> None:
    data = message(item(0x41, "a", "x" * 100))
    assert decode(data, DecodeLimits(max_attribute_bytes=len(data))).groups
    with pytest.raises(IppAttributesTooLarge, match="runs past the 50-byte limit"):
        decode(data, DecodeLimits(max_attribute_bytes=50))
    with pytest.raises(IppAttributesTooLarge, match="header runs past the 4-byte limit"):
        decode(data, DecodeLimits(max_attribute_bytes=4))
    # Cut short within the limit: truncated, not too large.
    with pytest.raises(IppDecodeError, match="past the end of the message") as truncated:
        decode(data[:50], DecodeLimits(max_attribute_bytes=len(data)))
    assert not isinstance(truncated.value, IppAttributesTooLarge)


def test_limit_does_not_count_document_data() -> None:
    data = message(item(0x41, "a", "x")) + b"D" * 10_000
    assert decode(data, DecodeLimits(max_attribute_bytes=100)).data_offset == 17


def test_limit_on_name_length() -> None:
    with pytest.raises(IppDecodeError, match="name length 11 exceeds the limit of 10") as caught:
        decode(message(item(0x44, "n" * 11, "v")), DecodeLimits(max_name_length=10))
    assert caught.value.offset == 10


def test_limit_on_value_length() -> None:
    with pytest.raises(IppDecodeError, match="value length 6 exceeds the limit of 5"):
        decode(message(item(0x44, "n", "v" * 6)), DecodeLimits(max_value_length=5))


def test_limit_on_value_count() -> None:
    data = message(*[item(0x44, "k", "v") for _ in range(4)])
    assert decode(data, DecodeLimits(max_values=4))
    with pytest.raises(IppDecodeError, match="more than 3 values"):
        decode(data, DecodeLimits(max_values=3))


def _nested(depth: int) -> bytes:
    opening = item(0x34, "c", b"") + (item(0x4A, "", "m") + item(0x34, "", b"")) * (depth - 1)
    return message(opening + item(0x37, "", b"") * depth)


def test_limit_on_collection_depth() -> None:
    assert round_trip(_nested(4))
    with pytest.raises(IppDecodeError, match="nested deeper than 3"):
        decode(_nested(4), DecodeLimits(max_depth=3))


# ---------------------------------------------------------------- encoding and builders


def test_request_builder_puts_the_required_attributes_first() -> None:
    request = Message.request(
        0x0002,
        7,
        target_uri="ipp://p/ipp/print",
        operation_attributes=[Attribute.name_("job-name", "report")],
        groups=[AttributeGroup(GroupTag.JOB, (Attribute.enum("finishings", 4),))],
        natural_language="de",
    )
    names = [a.name for a in request.operation_attributes]
    assert names == ["attributes-charset", "attributes-natural-language", "printer-uri", "job-name"]
    assert request.get("attributes-natural-language", GroupTag.OPERATION) is not None
    assert request.get("finishings", GroupTag.OPERATION) is None
    assert request.get("finishings") == Attribute.enum("finishings", 4)
    assert round_trip(encode(request)) == request


def test_response_builder() -> None:
    response = Message.response(0x0400, 3, status_message="bad", version=(1, 1))
    status = response.get("status-message")
    assert status is not None
    assert status.value == "bad"
    assert encode(response)[:4] == b"\x01\x01\x04\x00"
    assert len(Message.response(0, 3).operation_attributes.attributes) == 2


def test_every_constructor_round_trips() -> None:
    moment = DateTime(2026, 11, 21, 10, 0, 0, 0, "+", 0, 0)
    attributes = (
        Attribute.integer("copies", 2),
        Attribute.boolean("last-document", True),
        Attribute.enum("finishings", 20, 74),
        Attribute.keyword("sides", "two-sided-long-edge"),
        Attribute.text("job-message", "hello"),
        Attribute.name_("job-name", "report"),
        Attribute.uri("printer-uri", "ipp://x/"),
        Attribute.charset("attributes-charset", "utf-8"),
        Attribute.natural_language("attributes-natural-language", "en"),
        Attribute.mime_media_type("document-format", "application/pdf"),
        Attribute.octet_string("job-password", b"\x00secret"),
        Attribute.date_time("printer-current-time", moment),
        Attribute.resolution("printer-resolution", Resolution(300, 300, Resolution.DPI)),
        Attribute.range_of_integer("copies-supported", RangeOfInteger(1, 99)),
        Attribute.out_of_band("printer-alert", ValueTag.NO_VALUE),
        Attribute.of("job-name", ValueTag.NAME_WITH_LANGUAGE, TextWithLanguage("x", "en")),
        Attribute.collection(
            "cover-front",
            [Attribute.keyword("cover-type", "print-front")],
            Collection((Attribute.keyword("media", "iso_a4_210x297mm"),)),
        ),
    )
    message_ = Message((2, 0), 2, 1, (AttributeGroup(GroupTag.JOB, attributes),))
    assert decode(encode(message_)) == message_


def test_display_of_values() -> None:
    assert str(Resolution(600, 600, 3)) == "600dpi"
    assert str(Resolution(600, 1200, 4)) == "600x1200dpcm"
    assert str(Resolution(1, 2, 9)) == "1x2units-9"
    assert str(RangeOfInteger(1, 5)) == "1-5"


ENCODE_ERRORS = [
    pytest.param(Attribute("a", ()), "has no value", id="no-values"),
    pytest.param(Attribute.of("a", ValueTag.INTEGER, "1"), "a str cannot be sent as integer"),
    pytest.param(Attribute.of("a", ValueTag.INTEGER, True), "bool cannot be sent as integer"),
    pytest.param(Attribute.of("a", ValueTag.KEYWORD, 1), "int cannot be sent as keyword"),
    pytest.param(Attribute.integer("a", 2**31), "cannot encode", id="int-range"),
    pytest.param(Attribute.keyword("a", "\udcff"), "cannot encode", id="surrogate"),
    pytest.param(Attribute.of("a", 0x05, "x"), "not a value tag", id="delimiter-as-value"),
    pytest.param(Attribute.of("a", ValueTag.BEG_COLLECTION, "x"), "cannot be sent as collection"),
    pytest.param(Attribute.of("a", 0x13, OutOfBand(0x12)), "cannot be sent as no-value"),
    pytest.param(Attribute.keyword("a", "x" * 70_000), "longer than 65535", id="long"),
    pytest.param(
        Attribute.collection("c", [Attribute("m", ())]), "member 'm' has no value", id="member"
    ),
]


@pytest.mark.parametrize(("attribute", "reason"), ENCODE_ERRORS)
def test_encode_refuses_what_cannot_go_on_the_wire(attribute: Attribute, reason: str) -> None:
    with pytest.raises(IppEncodeError, match=reason):
        encode(Message((2, 0), 2, 1, (AttributeGroup(GroupTag.JOB, (attribute,)),)))


def test_encode_refuses_bad_groups_and_headers() -> None:
    with pytest.raises(IppEncodeError, match="0x03 cannot open"):
        encode(Message((2, 0), 2, 1, (AttributeGroup(GroupTag.END),)))
    with pytest.raises(IppEncodeError, match="0x44 cannot open"):
        encode(Message((2, 0), 2, 1, (AttributeGroup(0x44),)))
    with pytest.raises(IppEncodeError, match="header field out of range"):
        encode(Message((2, 0), 0x1_0000, 1))


def test_constructors_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="at least one value"):
        Attribute.keyword("k")
    with pytest.raises(ValueError, match="not an out-of-band tag"):
        Attribute.out_of_band("k", ValueTag.KEYWORD)
