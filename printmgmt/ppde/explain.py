""" "Explain": everything the rules decide about one job, as plain data.

The management command prints it and the portal renders it; both get the same dictionary,
whose values are JSON types only (money as decimal strings, never floats).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from printmgmt.ppde.engine import RuleEngine, Violation
from printmgmt.ppde.model import JobAttributes
from printmgmt.ppde.nup import PageGeometry
from printmgmt.ppde.outgoing import PlainValue
from printmgmt.ppde.pricing import Price, SidePriceTable
from printmgmt.ppde.printer import PrinterAttributes, Target
from printmgmt.ppde.translation import Translation

Json: TypeAlias = str | int | bool | list["Json"] | dict[str, "Json"] | None


@dataclass(frozen=True, slots=True)
class Explanation:
    options: Json
    violations: tuple[Violation, ...]
    translation: Translation
    price: Price

    @property
    def refusals(self) -> tuple[str, ...]:
        """Every reason the job cannot go ahead, most basic first."""
        reasons = [v.message for v in self.violations]
        if self.translation.refusal is not None:
            reasons.append(self.translation.refusal.message)
        if self.price.refusal is not None:
            reasons.append(self.price.refusal.message)
        return tuple(reasons)

    def as_dict(self) -> dict[str, Json]:
        data: dict[str, Json] = {
            "target": self.translation.target,
            "options": self.options,
            "violations": [
                {
                    "constraint": v.constraint.mnemonic,
                    "line": v.constraint.line,
                    "options": [
                        {"attribute": v.constraint.first.attribute, "value": v.first_value},
                        {"attribute": v.constraint.second.attribute, "value": v.second_value},
                    ],
                    "message": v.message,
                }
                for v in self.violations
            ],
            "outgoing": {
                name: _json(value.plain()) for name, value in self.translation.attributes.items()
            },
            "fired": [
                {"kind": f.kind, "rule": f.name, "line": f.line, "effect": f.effect}
                for f in self.translation.fired
            ],
            "withheld": list(self.translation.withheld),
            "breakdown": [
                {
                    "scope": p.scope,
                    "rule": p.mnemonic,
                    "line": p.line,
                    "unit_price": str(p.unit_price),
                    "quantity": p.quantity,
                    "amount": str(p.amount),
                    "note": p.note,
                }
                for p in self.price.parts
            ],
            "sides_per_copy": self.price.sides_per_copy,
            "sheets_per_copy": self.price.sheets_per_copy,
            "exact_total": str(self.price.exact_total),
            "total": None if self.price.total is None else str(self.price.total),
        }
        if self.refusals:
            data["refused"] = self.refusals[0]
            data["refusals"] = list(self.refusals)
        return data


def _json(value: PlainValue) -> Json:
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def explain(
    engine: RuleEngine,
    attributes: JobAttributes,
    *,
    pages: int,
    copies: int = 1,
    target: Target = "ppd",
    printer: PrinterAttributes | None = None,
    geometry: PageGeometry | None = None,
    fallback: SidePriceTable | None = None,
    minor_unit_exponent: int = 2,
) -> Explanation:
    printer = printer or {}
    options: Json = [
        {
            "attribute": o.attribute,
            "choices": [c.value for c in o.choices],
            "operator_only": [c.value for c in o.choices if c.operator_only],
            "default": o.default,
            "source": o.source,
            "line": o.line,
        }
        for o in engine.user_options(printer, target=target, operator=True)
    ]
    return Explanation(
        options=options,
        violations=engine.violations(attributes),
        translation=engine.translate(attributes, target=target, printer=printer, geometry=geometry),
        price=engine.price(
            attributes,
            pages=pages,
            copies=copies,
            fallback=fallback,
            minor_unit_exponent=minor_unit_exponent,
        ),
    )
