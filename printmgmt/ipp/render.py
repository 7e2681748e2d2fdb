"""Messages as text lines (ipptool style) and as JSON-ready data."""

from __future__ import annotations

from typing import Any

from printmgmt.ipp.model import (
    Attribute,
    Collection,
    DateTime,
    Message,
    OutOfBand,
    RangeOfInteger,
    RawValue,
    Resolution,
    TextWithLanguage,
    Value,
)
from printmgmt.ipp.names import enum_keyword, operation_name, status_name
from printmgmt.ipp.tags import ValueTag, group_name

#: What json.dumps accepts; Any because JSON is recursive.
Json = Any


def value_text(attribute_name: str, value: Value) -> str:
    """One value for people: enum keywords instead of numbers where registered."""
    if value.tag == ValueTag.ENUM and isinstance(value.value, int):
        keyword = enum_keyword(attribute_name, value.value)
        if keyword is not None:
            return keyword
    if isinstance(value.value, Collection):
        members = (
            f"{m.name}={','.join(value_text(m.name, v) for v in m.values)}"
            for m in value.value.members
        )
        return "{" + " ".join(members) + "}"
    return str(value)


def attribute_line(attribute: Attribute) -> str:
    """``name (syntax) = value,value`` as ipptool prints it."""
    values = ",".join(value_text(attribute.name, v) for v in attribute.values)
    return f"{attribute.name} ({attribute.syntax}) = {values}"


def message_lines(message: Message, *, is_request: bool) -> list[str]:
    major, minor = message.version
    code = message.operation_or_status
    what = operation_name(code) if is_request else status_name(code)
    lines = [f"version {major}.{minor}  {what}  request-id {message.request_id}"]
    for group in message.groups:
        lines.append(f"---- {group.name} ----")
        lines.extend(attribute_line(attribute) for attribute in group)
    return lines


def value_json(value: Value) -> Json:
    """A value as JSON: numbers, booleans and strings as themselves; structures as
    objects; collections as objects of their members."""
    data = value.value
    if isinstance(data, Collection):
        return {member.name: attribute_json(member) for member in data.members}
    if isinstance(data, TextWithLanguage):
        return {"text": data.text, "language": data.language}
    if isinstance(data, Resolution):
        return {"cross-feed": data.cross_feed, "feed": data.feed, "units": data.units}
    if isinstance(data, RangeOfInteger):
        return {"lower": data.lower, "upper": data.upper}
    if isinstance(data, DateTime):
        return str(data)
    if isinstance(data, OutOfBand):
        return None
    if isinstance(data, RawValue):
        return {"hex": data.data.hex()}
    if isinstance(data, bytes):
        return {"hex": data.hex()}
    return data


def attribute_json(attribute: Attribute) -> Json:
    return {
        "name": attribute.name,
        "syntax": attribute.syntax,
        "values": [value_json(value) for value in attribute.values],
    }


def message_json(message: Message) -> Json:
    major, minor = message.version
    return {
        "version": f"{major}.{minor}",
        "operation-or-status": message.operation_or_status,
        "request-id": message.request_id,
        "groups": [
            {
                "tag": group_name(group.tag),
                "attributes": [attribute_json(attribute) for attribute in group],
            }
            for group in message.groups
        ],
        "data-offset": message.data_offset,
    }
