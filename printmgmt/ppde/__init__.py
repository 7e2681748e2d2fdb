"""Rule files (`.ppde`): parser, model and engine. Pure Python, no Django.

Typical use::

    result = parse_bytes(data, filename="office.ppde")        # strict by default
    if result.rules is None: show(result.diagnostics)
    engine = RuleEngine(result.rules)                         # build once per active version
    engine.user_options(printer_attributes, target="ppd")
    engine.violations(job_attributes)
    engine.translate(job_attributes, target="ipp", printer=printer_attributes)
    engine.price(job_attributes, pages=12, copies=3)
"""

from printmgmt.ppde.diagnostics import Diagnostic, Severity
from printmgmt.ppde.engine import RuleEngine, Violation, empty_rule_file
from printmgmt.ppde.model import JobAttributes, Refusal, RuleFile
from printmgmt.ppde.nup import NupDecision, PageGeometry
from printmgmt.ppde.offers import Capabilities, OfferedChoice, OfferedOption
from printmgmt.ppde.outgoing import OutCollection, OutValue, Syntax
from printmgmt.ppde.parser import MAX_FILE_BYTES, ParseResult, parse, parse_bytes
from printmgmt.ppde.pricing import (
    Price,
    PricedPart,
    SidePrices,
    SidePriceTable,
    is_chosen_finishing,
    is_finishing_name,
)
from printmgmt.ppde.printer import PrinterAttributes, Target
from printmgmt.ppde.translation import FiredRule, Translation

__all__ = [
    "MAX_FILE_BYTES",
    "Capabilities",
    "Diagnostic",
    "FiredRule",
    "JobAttributes",
    "NupDecision",
    "OfferedChoice",
    "OfferedOption",
    "OutCollection",
    "OutValue",
    "PageGeometry",
    "ParseResult",
    "Price",
    "PricedPart",
    "PrinterAttributes",
    "Refusal",
    "RuleEngine",
    "RuleFile",
    "Severity",
    "SidePriceTable",
    "SidePrices",
    "Syntax",
    "Target",
    "Translation",
    "Violation",
    "empty_rule_file",
    "is_chosen_finishing",
    "is_finishing_name",
    "parse",
    "parse_bytes",
]
