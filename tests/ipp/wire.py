"""Hand-made wire bytes for codec tests, written independently of the encoder under test."""

from __future__ import annotations

import struct

HEADER = b"\x02\x00\x00\x0b\x00\x00\x00\x2a"  # IPP 2.0, Get-Printer-Attributes, request 42


def item(tag: int, name: bytes | str, value: bytes | str) -> bytes:
    """One tag / name-length / name / value-length / value item."""
    name_bytes = name.encode() if isinstance(name, str) else name
    value_bytes = value.encode() if isinstance(value, str) else value
    return (
        bytes([tag])
        + struct.pack(">H", len(name_bytes))
        + name_bytes
        + struct.pack(">H", len(value_bytes))
        + value_bytes
    )


def message(*items: bytes, group: int = 0x01, header: bytes = HEADER) -> bytes:
    """A message with one group holding ``items``, then end-of-attributes."""
    return header + bytes([group]) + b"".join(items) + b"\x03"


def int32(number: int) -> bytes:
    return struct.pack(">i", number)


def with_language(language: str, text: str) -> bytes:
    lang, body = language.encode(), text.encode()
    return struct.pack(">H", len(lang)) + lang + struct.pack(">H", len(body)) + body
