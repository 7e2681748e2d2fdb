"""What a printer says about itself, as the engine reads it.

A printer is either driven through a PPD (`"ppd"`) or spoken to directly over IPP
(`"ipp"`, driverless). Its capabilities are a plain mapping of its IPP attributes
(`sides-supported`, `finishings-supported`, ...); both the options offered to users and the
translation of jobs consult them, so the lookups live here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from printmgmt.digits import integer

Target = Literal["ppd", "ipp"]
CapabilityScalar = str | int | bool | range
CapabilityValue = CapabilityScalar | tuple[CapabilityScalar, ...]
PrinterAttributes = Mapping[str, CapabilityValue]


def supported(printer: PrinterAttributes, name: str, value: str) -> bool | None:
    """Whether `<name>-supported` lists `value`; None when the printer does not say."""
    listed = printer.get(f"{name}-supported")
    if listed is None:
        return None
    for item in listed if isinstance(listed, tuple) else (listed,):
        if isinstance(item, range):
            number = integer(value)
            if number is not None and number in item:
                return True
        elif str(item).lower() == value.lower():
            return True
    return False


def listed_values(printer: PrinterAttributes, name: str) -> tuple[str, ...]:
    """The values of attribute `name`, lower-cased; ranges (which list nothing) are left out."""
    listed = printer.get(name)
    if listed is None:
        return ()
    items = listed if isinstance(listed, tuple) else (listed,)
    return tuple(str(item).lower() for item in items if not isinstance(item, range))
