"""The rules engine: what a user may choose, what cannot be combined, and what is sent.

`RuleEngine` is built once per activated rule file (it indexes the rules) and is then
asked about jobs. A job is a mapping of attribute name → value or tuple of values; page
geometry, pages and copies are passed separately. Printer capabilities are a plain mapping
of the printer's IPP attributes (`sides-supported`, `finishings-supported`, ...).

The engine is the one place callers go to; the work is done by `offers` (the print dialog),
`translation` (what is sent) and `pricing`. Constraints are checked here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from printmgmt.ppde.index import RuleIndex
from printmgmt.ppde.model import (
    COVER_BACK_SOURCE,
    COVER_BACK_TYPE,
    COVER_FRONT_SOURCE,
    COVER_FRONT_TYPE,
    FINISHINGS_BOOKLET,
    ROTATE180,
    Condition,
    Constraint,
    CostScope,
    JobAttributes,
    LandscapeOrientation,
    RuleFile,
    first_job_value,
    job_values,
)
from printmgmt.ppde.nup import PageGeometry
from printmgmt.ppde.offers import Capabilities, OfferedOption, device_capabilities, offered_options
from printmgmt.ppde.pricing import Price, SidePriceTable, compute_price
from printmgmt.ppde.printer import PrinterAttributes, Target
from printmgmt.ppde.translation import Translation, Translator


def booklet_constraints() -> tuple[Constraint, ...]:
    """The optional built-in set: a booklet cannot be combined with these (line 0)."""
    booklet = Condition(FINISHINGS_BOOKLET, "none", True, 0)
    # Every number-up the product offers but 2: a booklet prints two pages a side whatever
    # number-up says, and the price counts sides by number-up (16-up was charged 1 side of 4).
    others = [Condition("number-up", n, False, 0) for n in ("1", "4", "6", "9", "16")]
    others.append(Condition("sides", "one-sided", False, 0))
    others.append(Condition(ROTATE180, "1", False, 0))
    return tuple(
        Constraint(f"booklet-{other.attribute}-{other.value}", booklet, other, 0)
        for other in others
    )


_BOOKLET_CONSTRAINTS = booklet_constraints()


@dataclass(frozen=True, slots=True)
class Violation:
    constraint: Constraint
    first_value: str
    second_value: str

    @property
    def message(self) -> str:
        c = self.constraint
        where = f"line {c.line}" if c.line else "built-in booklet constraint"
        return (
            f"{c.first.attribute}={self.first_value} cannot be combined with "
            f"{c.second.attribute}={self.second_value} ({c.mnemonic}, {where})"
        )


def effective_attributes(attributes: JobAttributes) -> dict[str, str | tuple[str, ...]]:
    """The job as rules see it: a cover's media source is dropped without a cover (spec §3)."""
    effective = dict(attributes)
    for type_name, source_name in (
        (COVER_FRONT_TYPE, COVER_FRONT_SOURCE),
        (COVER_BACK_TYPE, COVER_BACK_SOURCE),
    ):
        if first_job_value(effective, type_name) in (None, "no-cover"):
            effective.pop(source_name, None)
    return effective


class RuleEngine:
    """Answers questions about jobs for one rule file (or none: printer defaults only)."""

    def __init__(self, rules: RuleFile | None = None, *, booklet_constraints: bool = True) -> None:
        self.rules = rules if rules is not None else empty_rule_file()
        self.booklet_constraints = booklet_constraints
        self._translator = Translator(self.rules)
        self._constraints = RuleIndex(self.rules.constraints, lambda c: (c.first, c.second))
        self._cost_index = {
            scope: RuleIndex(
                [r for r in self.rules.cost_rules if r.scope is scope], lambda r: r.conditions
            )
            for scope in CostScope
        }

    # ------------------------------------------------------------------ options

    def capabilities(self, printer: PrinterAttributes) -> Capabilities:
        """What the mappings and the printer's own lists say the device can do."""
        return device_capabilities(self.rules.mappings, printer)

    def user_options(
        self, printer: PrinterAttributes, *, target: Target, operator: bool = False
    ) -> tuple[OfferedOption, ...]:
        """The options of the print dialog: mapped, declared, then the printer's own."""
        return offered_options(self.rules, printer, target=target, operator=operator)

    # ------------------------------------------------------------------ constraints

    def violations(self, attributes: JobAttributes) -> tuple[Violation, ...]:
        """Every SPConstraint (and built-in booklet constraint, if enabled) the job breaks."""
        effective = effective_attributes(attributes)
        constraints = list(self._constraints.candidates(effective))
        if self.booklet_constraints:
            constraints.extend(_BOOKLET_CONSTRAINTS)
        found = []
        for constraint in constraints:
            if constraint.violated_by(effective):
                found.append(
                    Violation(
                        constraint,
                        _condition_value(constraint.first, effective),
                        _condition_value(constraint.second, effective),
                    )
                )
        return tuple(found)

    # ------------------------------------------------------------------ translation

    def translate(
        self,
        attributes: JobAttributes,
        *,
        target: Target,
        printer: PrinterAttributes | None = None,
        geometry: PageGeometry | None = None,
    ) -> Translation:
        """The attributes to send for `target`, or a refusal naming the option at fault."""
        return self._translator.translate(
            effective_attributes(attributes),
            target=target,
            printer=printer or {},
            geometry=geometry or PageGeometry(),
        )

    # ------------------------------------------------------------------ prices

    def price(
        self,
        attributes: JobAttributes,
        *,
        pages: int,
        copies: int = 1,
        fallback: SidePriceTable | None = None,
        minor_unit_exponent: int = 2,
        documents: Sequence[int] = (),
    ) -> Price:
        """The job's price per spec §4, with a breakdown naming each rule that charged;
        `documents` are the page counts of documents the printer prints separately."""
        return compute_price(
            effective_attributes(attributes),
            self._cost_index,
            pages=pages,
            copies=copies,
            fallback=fallback,
            minor_unit_exponent=minor_unit_exponent,
            documents=documents,
        )


def _condition_value(condition: Condition, attributes: JobAttributes) -> str:
    values = job_values(attributes, condition.attribute) or ()
    if condition.negated:
        return next((v for v in values if v != condition.value), "")
    return condition.value


def empty_rule_file(filename: str = "") -> RuleFile:
    """A rule file that says nothing: printer defaults, no rules."""
    return RuleFile(
        filename=filename,
        landscape_orientation=LandscapeOrientation.PLUS90,
        local_booklet=False,
        raw_print_mime_type=None,
        mappings=(),
        job_options=(),
        cost_rules=(),
        constraints=(),
        extras=(),
        substs=(),
        nup_rules=(),
    )
