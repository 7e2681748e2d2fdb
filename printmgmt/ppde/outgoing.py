"""A typed, codec-free description of the attributes we send to a printer.

The print pipeline turns each `OutValue` into an IPP attribute with the tag its `syntax`
names; keeping this module free of the IPP codec lets the rules engine stand alone.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

#: JSON-friendly form of an outgoing value, used by "explain" and the portal.
PlainValue = str | int | bool | dict[str, "PlainValue"] | list["PlainValue"]


class Syntax(enum.Enum):
    KEYWORD = "keyword"
    ENUM = "enum"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    TEXT = "text"
    NAME = "name"
    RESOLUTION = "resolution"  # written like "600x600dpi"
    COLLECTION = "collection"


@dataclass(frozen=True, slots=True)
class OutCollection:
    """An IPP collection: members in the order they are sent."""

    members: tuple[tuple[str, OutValue], ...]

    def plain(self) -> dict[str, PlainValue]:
        return {name: value.plain() for name, value in self.members}


@dataclass(frozen=True, slots=True)
class OutValue:
    """One outgoing attribute's value(s); more than one value makes a 1setOf."""

    syntax: Syntax
    values: tuple[str | int | bool | OutCollection, ...]

    def plain(self) -> PlainValue:
        plain = [v.plain() if isinstance(v, OutCollection) else v for v in self.values]
        return plain[0] if len(plain) == 1 else list(plain)


def keyword(*values: str) -> OutValue:
    return OutValue(Syntax.KEYWORD, values)


def text(value: str) -> OutValue:
    return OutValue(Syntax.TEXT, (value,))


def enum_value(*values: int) -> OutValue:
    return OutValue(Syntax.ENUM, values)


def collection(*members: tuple[str, OutValue]) -> OutValue:
    return OutValue(Syntax.COLLECTION, (OutCollection(members),))
