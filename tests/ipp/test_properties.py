"""Property tests: any message we can build survives encode → decode → encode unchanged,
and any bytes at all either decode or raise IppDecodeError."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from printmgmt.ipp import (
    Attribute,
    AttributeGroup,
    Collection,
    DateTime,
    IppDecodeError,
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

int32 = st.integers(-(2**31), 2**31 - 1)
byte = st.integers(0, 255)
short_text = st.text(max_size=20)
names = st.text(min_size=1, max_size=12)

date_times = st.builds(
    DateTime,
    st.integers(0, 65535),
    byte,
    byte,
    byte,
    byte,
    byte,
    byte,
    st.sampled_from(["+", "-"]),
    byte,
    byte,
)

# (tag, value) pairs for every syntax with a readable form, plus unknown tags kept raw.
simple_values = st.one_of(
    st.tuples(st.sampled_from([ValueTag.INTEGER, ValueTag.ENUM]), int32),
    st.tuples(st.just(ValueTag.BOOLEAN), st.booleans()),
    st.tuples(st.just(ValueTag.OCTET_STRING), st.binary(max_size=20)),
    st.tuples(st.just(ValueTag.DATE_TIME), date_times),
    st.tuples(
        st.just(ValueTag.RESOLUTION),
        st.builds(Resolution, int32, int32, st.integers(-128, 127)),
    ),
    st.tuples(st.just(ValueTag.RANGE_OF_INTEGER), st.builds(RangeOfInteger, int32, int32)),
    st.tuples(
        st.sampled_from([ValueTag.TEXT_WITH_LANGUAGE, ValueTag.NAME_WITH_LANGUAGE]),
        st.builds(TextWithLanguage, short_text, short_text),
    ),
    st.tuples(
        st.sampled_from(
            [
                ValueTag.TEXT,
                ValueTag.NAME,
                ValueTag.KEYWORD,
                ValueTag.URI,
                ValueTag.URI_SCHEME,
                ValueTag.CHARSET,
                ValueTag.NATURAL_LANGUAGE,
                ValueTag.MIME_MEDIA_TYPE,
            ]
        ),
        short_text,
    ),
    st.integers(0x10, 0x1F).map(lambda tag: (tag, OutOfBand(tag))),
    st.tuples(
        st.sampled_from([0x20, 0x24, 0x38, 0x40, 0x43, 0x4B, 0x5F, 0x60, 0x7E]),
        st.binary(max_size=12).map(RawValue),
    ),
    st.binary(min_size=4, max_size=12).map(lambda data: (0x7F, RawValue(data))),
)


def _attribute(values: st.SearchStrategy[Value]) -> st.SearchStrategy[Attribute]:
    return st.builds(
        lambda name, vals: Attribute(name, tuple(vals)),
        names,
        st.lists(values, min_size=1, max_size=3),
    )


values: st.SearchStrategy[Value] = st.recursive(
    simple_values.map(lambda pair: Value(*pair)),
    lambda inner: st.lists(_attribute(inner), max_size=3).map(
        lambda members: Value(ValueTag.BEG_COLLECTION, Collection(tuple(members)))
    ),
    max_leaves=12,
)

groups = st.builds(
    lambda tag, attributes: AttributeGroup(tag, tuple(attributes)),
    st.integers(0, 0x0F).filter(lambda tag: tag != 0x03),
    st.lists(_attribute(values), max_size=4),
)

messages = st.builds(
    lambda version, code, request_id, gs: Message(version, code, request_id, tuple(gs)),
    st.tuples(byte, byte),
    st.integers(0, 0xFFFF),
    int32,
    st.lists(groups, max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(messages)
def test_encode_then_decode_gives_the_same_message(message: Message) -> None:
    wire = encode(message)
    decoded = decode(wire)
    assert decoded == message
    assert decoded.data_offset == len(wire)
    assert encode(decoded) == wire


@settings(max_examples=300, deadline=None)
@given(messages, st.binary(max_size=64))
def test_document_data_is_left_alone(message: Message, document: bytes) -> None:
    wire = encode(message)
    decoded = decode(wire + document)
    assert (wire + document)[decoded.data_offset :] == document


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_only_our_error(data: bytes) -> None:
    try:
        decoded = decode(data)
    except IppDecodeError:
        return
    assert decoded.data_offset is not None
    assert encode(decoded) == data[: decoded.data_offset]
