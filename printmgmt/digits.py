"""Whole numbers typed by people and clients: only ASCII digits, and bounded.

str.isdigit() also accepts characters int() refuses ("²") and numbers no database column or
IPP integer holds; either used to end a request with an error instead of an answer.
"""

from __future__ import annotations

#: The largest IPP integer (RFC 8011 5.1.3), which every id and count we read fits in.
MAX_WHOLE_NUMBER = 2**31 - 1
#: The largest length in bytes we read (a declared Content-Length): beyond any disk.
MAX_BYTE_COUNT = 2**62


def integer(text: str, maximum: int = MAX_WHOLE_NUMBER) -> int | None:
    """`text` as a number when it is ASCII digits with an optional minus sign, at most
    `maximum` either way; else None."""
    negative = text.startswith("-")
    number = whole_number(text[1:] if negative else text, maximum)
    return -number if negative and number is not None else number


def whole_number(text: str, maximum: int = MAX_WHOLE_NUMBER) -> int | None:
    """`text` as a number when it is one or more ASCII digits, at most `maximum`; else None."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if number <= maximum else None
