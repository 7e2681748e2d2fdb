"""Bounded fuzzing: mutated messages either decode (and then re-encode exactly) or raise
IppDecodeError; no other exception may escape the decoder."""

from __future__ import annotations

import random
import zlib

import pytest

from printmgmt.ipp import (
    Attribute,
    AttributeGroup,
    DateTime,
    DecodeLimits,
    GroupTag,
    IppDecodeError,
    Message,
    RangeOfInteger,
    RawValue,
    Resolution,
    TextWithLanguage,
    ValueTag,
    decode,
    encode,
)

MUTATIONS_PER_MESSAGE = 3000
# Small limits so that the limit checks are fuzzed too.
TIGHT = DecodeLimits(max_attribute_bytes=4096, max_values=200, max_name_length=40, max_depth=3)


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to three random edits: flipped bits, random bytes, cuts, insertions, copies,
    and length fields set to awkward values."""
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        position = rng.randrange(len(buffer)) if buffer else 0
        kind = rng.randrange(6)
        if kind == 0 and buffer:
            buffer[position] ^= 1 << rng.randrange(8)
        elif kind == 1 and buffer:
            buffer[position] = rng.randrange(256)
        elif kind == 2:
            del buffer[position:]
        elif kind == 3:
            buffer[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        elif kind == 4 and buffer:
            start = rng.randrange(len(buffer))
            buffer[position:position] = buffer[start : start + rng.randint(1, 32)]
        else:
            awkward = rng.choice([0, 1, 3, 4, 5, 8, 9, 11, 0x7FFF, 0xFFFF])
            buffer[position : position + 2] = awkward.to_bytes(2, "big")
    return bytes(buffer)


def check_decoder_on_mutations(seed_message: bytes, seed: int) -> int:
    """Feed mutations to decode; returns how many of them still decoded."""
    rng = random.Random(seed)
    accepted = 0
    misplaced: list[str] = []  # errors whose offset lies outside the input
    for _ in range(MUTATIONS_PER_MESSAGE):
        data = mutate(seed_message, rng)
        for limits in (None, TIGHT):
            try:
                decoded = decode(data) if limits is None else decode(data, limits)
            except IppDecodeError as error:
                if not 0 <= error.offset <= len(data):
                    misplaced.append(f"{error} for {data.hex()}")
                continue
            accepted += 1
            assert decoded.data_offset is not None
            assert encode(decoded) == data[: decoded.data_offset]
    assert misplaced == []
    return accepted


def rich_message() -> bytes:
    """A synthetic message with every syntax, for runs without the peers."""
    attributes = (
        Attribute.integer("copies", 3),
        Attribute.boolean("page-ranges-supported", True),
        Attribute.enum("finishings", 4, 20, 74),
        Attribute.octet_string("vendor-blob", b"\x00\x01\x02"),
        Attribute.date_time("printer-current-time", DateTime(2026, 1, 2, 3, 4, 5, 6, "+", 1, 0)),
        Attribute.resolution("printer-resolution", Resolution(600, 600, 3)),
        Attribute.range_of_integer("copies-supported", RangeOfInteger(1, 99)),
        Attribute.of("job-name", ValueTag.NAME_WITH_LANGUAGE, TextWithLanguage("Bericht", "de")),
        Attribute.keyword("sides-supported", "one-sided", "two-sided-long-edge"),
        Attribute.out_of_band("printer-alert", ValueTag.NO_VALUE),
        Attribute.of("com.vendor-raw", 0x60, RawValue(b"raw")),
        Attribute.collection(
            "media-col",
            [
                Attribute.collection(
                    "media-size",
                    [Attribute.integer("x-dimension", 21000), Attribute.integer("y-dimension", 1)],
                ),
                Attribute.keyword("media-source", "main"),
            ],
        ),
    )
    message = Message.request(
        0x0002,
        1,
        target_uri="ipp://printer/ipp/print",
        groups=[AttributeGroup(GroupTag.JOB, attributes)],
    )
    return encode(message) + b"%PDF-1.7"


def test_mutated_synthetic_message() -> None:
    accepted = check_decoder_on_mutations(rich_message(), seed=1)
    # Both outcomes must occur, or the mutations are not reaching the interesting paths.
    assert 0 < accepted < 2 * MUTATIONS_PER_MESSAGE


@pytest.mark.peers
@pytest.mark.parametrize("key", ["eve-printer", "eve-job", "cupsd-printer", "cupsd-printers"])
def test_mutated_real_answers(captured_answers: dict[str, bytes], key: str) -> None:
    accepted = check_decoder_on_mutations(captured_answers[key], seed=zlib.crc32(key.encode()))
    assert 0 < accepted < 2 * MUTATIONS_PER_MESSAGE
