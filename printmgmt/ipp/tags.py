"""Delimiter and value tags of the IPP wire format (RFC 8010 section 3.5)."""

from __future__ import annotations

from enum import IntEnum


class GroupTag(IntEnum):
    """Delimiter tags that open an attribute group (0x00-0x0F are all delimiters)."""

    OPERATION = 0x01
    JOB = 0x02
    END = 0x03
    PRINTER = 0x04
    UNSUPPORTED = 0x05
    SUBSCRIPTION = 0x06
    EVENT_NOTIFICATION = 0x07
    RESOURCE = 0x08
    DOCUMENT = 0x09
    SYSTEM = 0x0A


class ValueTag(IntEnum):
    """Value tags with a defined syntax; any other tag value is kept as raw bytes."""

    UNSUPPORTED = 0x10
    UNKNOWN = 0x12
    NO_VALUE = 0x13
    NOT_SETTABLE = 0x15
    DELETE_ATTRIBUTE = 0x16
    ADMIN_DEFINE = 0x17
    INTEGER = 0x21
    BOOLEAN = 0x22
    ENUM = 0x23
    OCTET_STRING = 0x30
    DATE_TIME = 0x31
    RESOLUTION = 0x32
    RANGE_OF_INTEGER = 0x33
    BEG_COLLECTION = 0x34
    TEXT_WITH_LANGUAGE = 0x35
    NAME_WITH_LANGUAGE = 0x36
    END_COLLECTION = 0x37
    TEXT = 0x41
    NAME = 0x42
    KEYWORD = 0x44
    URI = 0x45
    URI_SCHEME = 0x46
    CHARSET = 0x47
    NATURAL_LANGUAGE = 0x48
    MIME_MEDIA_TYPE = 0x49
    MEMBER_ATTR_NAME = 0x4A
    EXTENSION = 0x7F


#: Last tag value that is a group delimiter rather than a value tag.
MAX_DELIMITER_TAG = 0x0F
#: Out-of-band tags carry no value; the whole range is reserved for them.
OUT_OF_BAND_TAGS = range(0x10, 0x20)

#: The character-string syntaxes that hold plain UTF-8 text.
STRING_TAGS = frozenset(
    {
        ValueTag.TEXT,
        ValueTag.NAME,
        ValueTag.KEYWORD,
        ValueTag.URI,
        ValueTag.URI_SCHEME,
        ValueTag.CHARSET,
        ValueTag.NATURAL_LANGUAGE,
        ValueTag.MIME_MEDIA_TYPE,
    }
)

#: Syntax names as ipptool and RFC 8011 spell them.
_SYNTAX_NAMES: dict[int, str] = {
    ValueTag.UNSUPPORTED: "unsupported",
    ValueTag.UNKNOWN: "unknown",
    ValueTag.NO_VALUE: "no-value",
    ValueTag.NOT_SETTABLE: "not-settable",
    ValueTag.DELETE_ATTRIBUTE: "delete-attribute",
    ValueTag.ADMIN_DEFINE: "admin-define",
    ValueTag.INTEGER: "integer",
    ValueTag.BOOLEAN: "boolean",
    ValueTag.ENUM: "enum",
    ValueTag.OCTET_STRING: "octetString",
    ValueTag.DATE_TIME: "dateTime",
    ValueTag.RESOLUTION: "resolution",
    ValueTag.RANGE_OF_INTEGER: "rangeOfInteger",
    ValueTag.BEG_COLLECTION: "collection",
    ValueTag.TEXT_WITH_LANGUAGE: "textWithLanguage",
    ValueTag.NAME_WITH_LANGUAGE: "nameWithLanguage",
    ValueTag.END_COLLECTION: "endCollection",
    ValueTag.TEXT: "textWithoutLanguage",
    ValueTag.NAME: "nameWithoutLanguage",
    ValueTag.KEYWORD: "keyword",
    ValueTag.URI: "uri",
    ValueTag.URI_SCHEME: "uriScheme",
    ValueTag.CHARSET: "charset",
    ValueTag.NATURAL_LANGUAGE: "naturalLanguage",
    ValueTag.MIME_MEDIA_TYPE: "mimeMediaType",
    ValueTag.MEMBER_ATTR_NAME: "memberAttrName",
    ValueTag.EXTENSION: "extension",
}

_GROUP_NAMES: dict[int, str] = {
    GroupTag.OPERATION: "operation-attributes-tag",
    GroupTag.JOB: "job-attributes-tag",
    GroupTag.END: "end-of-attributes-tag",
    GroupTag.PRINTER: "printer-attributes-tag",
    GroupTag.UNSUPPORTED: "unsupported-attributes-tag",
    GroupTag.SUBSCRIPTION: "subscription-attributes-tag",
    GroupTag.EVENT_NOTIFICATION: "event-notification-attributes-tag",
    GroupTag.RESOURCE: "resource-attributes-tag",
    GroupTag.DOCUMENT: "document-attributes-tag",
    GroupTag.SYSTEM: "system-attributes-tag",
}


def syntax_name(tag: int) -> str:
    """The RFC 8011 name of a value syntax, or ``tag-0xNN`` for one we do not know."""
    return _SYNTAX_NAMES.get(tag, f"tag-0x{tag:02X}")


def group_name(tag: int) -> str:
    """The RFC 8010 name of a delimiter tag, or ``group-0xNN`` for an unassigned one."""
    return _GROUP_NAMES.get(tag, f"group-0x{tag:02X}")
