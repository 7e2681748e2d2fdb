"""Job attributes from ``name=value`` option strings, as ``lp -o`` and ipptool write them.

    finishings=staple-top-left,punch-dual-left   (enum keywords or numbers)
    copies=2   sides=two-sided-long-edge   print-color-mode=monochrome
    cover-front={cover-type=print-front media-col={media-source=by-pass-tray}}

Numbers become integers, true/false booleans, anything else keywords; enum attributes take
their numbers or keywords; ``{...}`` is a collection of space-separated members.
"""

from __future__ import annotations

from printmgmt.digits import integer
from printmgmt.ipp.model import Attribute, Collection, Value
from printmgmt.ipp.names import Finishing
from printmgmt.ipp.tags import ValueTag

#: Enum attributes and the keywords their values may be written as.
_ENUMS: dict[str, dict[str, int]] = {
    "finishings": {member.keyword: member.value for member in Finishing},
    "orientation-requested": {
        "portrait": 3,
        "landscape": 4,
        "reverse-landscape": 5,
        "reverse-portrait": 6,
        "none": 7,
    },
    "print-quality": {"draft": 3, "normal": 4, "high": 5},
}


class OptionError(ValueError):
    """An option string that cannot become an attribute."""


def attribute_from_option(option: str) -> Attribute:
    """``name=value[,value...]`` → Attribute."""
    name, separator, text = option.partition("=")
    name = name.strip()
    if not separator or not name:
        raise OptionError(f"option {option!r} is not name=value")
    return _attribute(name, text.strip())


def _attribute(name: str, text: str) -> Attribute:
    return Attribute(name, tuple(_value(name, part) for part in _split(text, ",")))


def _value(name: str, text: str) -> Value:
    if text.startswith("{"):
        if not text.endswith("}"):
            raise OptionError(f"{name}: collection {text!r} does not end with }}")
        members = []
        for member in _split(text[1:-1].strip(), " "):
            member_name, separator, member_text = member.partition("=")
            if not separator or not member_name:
                raise OptionError(f"{name}: member {member!r} is not name=value")
            members.append(_attribute(member_name, member_text))
        return Value(ValueTag.BEG_COLLECTION, Collection(tuple(members)))
    if not text:
        raise OptionError(f"{name}: empty value")
    number = _number(name, text)
    enum_keywords = _ENUMS.get(name)
    if enum_keywords is not None:
        if number is not None:
            return Value(ValueTag.ENUM, number)
        if text not in enum_keywords:
            raise OptionError(f"{name}: unknown value {text!r}")
        return Value(ValueTag.ENUM, enum_keywords[text])
    if number is not None:
        return Value(ValueTag.INTEGER, number)
    if text in ("true", "false"):
        return Value(ValueTag.BOOLEAN, text == "true")
    return Value(ValueTag.KEYWORD, text)


def _number(name: str, text: str) -> int | None:
    """The IPP integer `text` writes, None for a word; a number IPP cannot hold is an error."""
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        return None
    number = integer(text)
    if number is None:
        raise OptionError(f"{name}: {text} is out of range (IPP integers are 32-bit)")
    return number


def _split(text: str, separator: str) -> list[str]:
    """Split at ``separator`` outside braces; empty parts (repeated spaces) are dropped."""
    parts: list[str] = []
    depth = 0
    current = ""
    for character in text:
        if character == "{":
            depth += 1
        elif character == "}":
            depth -= 1
            if depth < 0:
                raise OptionError(f"unbalanced braces in {text!r}")
        if character == separator and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += character
    if depth:
        raise OptionError(f"unbalanced braces in {text!r}")
    parts.append(current)
    if separator == " ":
        return [part for part in parts if part]
    return parts
