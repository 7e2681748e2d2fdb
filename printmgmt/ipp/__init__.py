"""The IPP protocol layer: a sans-IO codec (no Django, no sockets) and an HTTP client.

from printmgmt.ipp import decode, encode, Message, Attribute, Operation
"""

from printmgmt.ipp.codec import DEFAULT_LIMITS, DecodeLimits, decode, encode
from printmgmt.ipp.errors import (
    IppAttributesTooLarge,
    IppDecodeError,
    IppEncodeError,
    IppError,
    IppStatusError,
    IppTransportError,
)
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
from printmgmt.ipp.names import (
    Finishing,
    JobState,
    Operation,
    PrinterState,
    Status,
    StatusClass,
    effective_status,
    enum_keyword,
    is_successful,
    operation_name,
    status_class,
    status_name,
)
from printmgmt.ipp.tags import GroupTag, ValueTag, group_name, syntax_name

__all__ = [
    "DEFAULT_LIMITS",
    "Attribute",
    "AttributeGroup",
    "Collection",
    "DateTime",
    "DecodeLimits",
    "Finishing",
    "GroupTag",
    "IppAttributesTooLarge",
    "IppDecodeError",
    "IppEncodeError",
    "IppError",
    "IppStatusError",
    "IppTransportError",
    "JobState",
    "Message",
    "Operation",
    "OutOfBand",
    "PrinterState",
    "PyValue",
    "RangeOfInteger",
    "RawValue",
    "Resolution",
    "Status",
    "StatusClass",
    "TextWithLanguage",
    "Value",
    "ValueTag",
    "decode",
    "effective_status",
    "encode",
    "enum_keyword",
    "group_name",
    "is_successful",
    "operation_name",
    "status_class",
    "status_name",
    "syntax_name",
]
