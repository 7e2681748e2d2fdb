"""Prices per spec §4: media per side, sheet, copy, set; Decimal only, rounded once.

sides per copy = ceil(pages / number-up), after taking away the pages printed on covers. A
booklet's pages are first padded with blanks to whole folded sheets of four: a 6-page booklet
prints four sides, not the three its pages fill.
Two-sided: 2 × floor(sides / 2) sides at the two-sided price and (sides mod 2) at the
one-sided price. Media rules are evaluated with the job's own `sides` for the two-sided
price and with `sides=one-sided` for the one-sided price.

A job whose documents the printer prints separately (several documents in one job, each
starting on a sheet of its own and finished as a set of its own) is counted document by
document: sides, sheets, covers and booklet padding per document, copy rules once for every
set (copies × documents), set rules once for the job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from printmgmt.digits import whole_number
from printmgmt.ppde.index import RuleIndex
from printmgmt.ppde.model import (
    COVER_BACK_TYPE,
    COVER_FRONT_TYPE,
    FINISHINGS_BOOKLET,
    CostRule,
    CostScope,
    JobAttributes,
    Refusal,
    job_values,
)
from printmgmt.ppde.nup import MAX_NUMBER_UP

#: Pages of the document that a cover takes, by cover type (PWG 5100.3 cover-type).
_PAGES_ON_COVER = {"print-front": 1, "print-back": 1, "print-both": 2}
#: Values that mean "no such finishing or cover was chosen".
_NOT_CHOSEN = frozenset({"none", "no-cover", "3"})
_MONOCHROME = frozenset({"monochrome", "auto-monochrome", "process-monochrome", "bi-level"})
#: The pages of one booklet sheet, folded in two and printed on both sides.
BOOKLET_SHEET_PAGES = 4


@dataclass(frozen=True, slots=True)
class SidePrices:
    one_sided: Decimal
    two_sided: Decimal


@dataclass(frozen=True, slots=True)
class SidePriceTable:
    """A printer's own per-side prices, used when its rule file has no media rules.

    Keys are (media size, colour?, media-source or None); a tray-specific entry wins over
    the entry for any tray.
    """

    entries: Mapping[tuple[str, bool, str | None], SidePrices] = field(default_factory=dict)

    def lookup(self, media: str, color: bool, source: str | None) -> SidePrices | None:
        if source is not None:
            found = self.entries.get((media, color, source))
            if found is not None:
                return found
        return self.entries.get((media, color, None))


@dataclass(frozen=True, slots=True)
class PricedPart:
    """One charged amount and the rule that produced it (line 0: the printer's table)."""

    scope: str
    mnemonic: str
    line: int
    unit_price: Decimal
    quantity: int
    amount: Decimal
    note: str = ""


@dataclass(frozen=True, slots=True)
class Price:
    """`total` is None when the job is refused: a refused price must never be charged.

    `sides_per_copy` are the media sides the cost rules count; `cover_sides_per_copy` the
    document pages printed on covers, which a printer counts among its impressions too."""

    total: Decimal | None
    exact_total: Decimal
    parts: tuple[PricedPart, ...]
    refusal: Refusal | None
    sides_per_copy: int
    sheets_per_copy: int
    cover_sides_per_copy: int = 0


@dataclass(frozen=True, slots=True)
class _DocumentSides:
    sides: int
    two_sided_sides: int
    sheets: int
    cover_sides: int


def _document_sides(
    attributes: Mapping[str, str | tuple[str, ...]], pages: int, number_up: int
) -> _DocumentSides:
    """The sides and sheets one copy of one document takes, its covers apart."""
    if (_first(attributes, FINISHINGS_BOOKLET) or "none") != "none":
        # By our imposition or the printer's booklet maker alike.
        pages = max(BOOKLET_SHEET_PAGES, -(-pages // BOOKLET_SHEET_PAGES) * BOOKLET_SHEET_PAGES)
    cover_pages = sum(
        _PAGES_ON_COVER.get(_first(attributes, name) or "", 0)
        for name in (COVER_FRONT_TYPE, COVER_BACK_TYPE)
    )
    media_pages = max(0, pages - cover_pages)
    two_sided = (_first(attributes, "sides") or "one-sided").startswith("two-sided")
    sides = -(-media_pages // number_up) if number_up else 0
    two_sided_sides = 2 * (sides // 2) if two_sided else 0
    sheets = two_sided_sides // 2 + sides - two_sided_sides
    return _DocumentSides(sides, two_sided_sides, sheets, min(pages, cover_pages))


class _Refused(Exception):
    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.refusal = Refusal(option, message)


def _first(attributes: JobAttributes, name: str) -> str | None:
    values = job_values(attributes, name)
    return values[0] if values else None


def round_money(amount: Decimal, minor_unit_exponent: int) -> Decimal:
    """Half-up to the currency's minor unit (2 for cents, 0 for yen, 3 for fils)."""
    return amount.quantize(Decimal(1).scaleb(-minor_unit_exponent), rounding=ROUND_HALF_UP)


def compute_price(
    attributes: Mapping[str, str | tuple[str, ...]],
    indexes: Mapping[CostScope, RuleIndex[CostRule]],
    *,
    pages: int,
    copies: int,
    fallback: SidePriceTable | None,
    minor_unit_exponent: int,
    documents: Sequence[int] = (),
) -> Price:
    """`documents`, when given, are the page counts of documents printed separately (their sum
    is `pages`); otherwise the job is one document of `pages` pages."""
    if pages < 0 or copies < 0 or any(count < 0 for count in documents):
        raise ValueError("pages and copies cannot be negative")
    if documents and sum(documents) != pages:
        raise ValueError("the documents' pages do not add up to the job's")
    number_up_text = _first(attributes, "number-up") or "1"
    number_up = whole_number(number_up_text, MAX_NUMBER_UP) or 0
    counts = [
        _document_sides(attributes, document_pages, number_up)
        for document_pages in (documents or (pages,))
    ]
    sides = sum(count.sides for count in counts)
    two_sided_sides = sum(count.two_sided_sides for count in counts)
    one_sided_sides = sides - two_sided_sides
    sheets = sum(count.sheets for count in counts)
    cover_sides = sum(count.cover_sides for count in counts)
    sets = copies * len(counts)
    parts: list[PricedPart] = []
    try:
        if number_up == 0:
            raise _Refused("number-up", f"number-up {number_up_text} is not a positive number")
        if len(indexes[CostScope.MEDIA]):
            _media_from_rules(
                attributes,
                indexes[CostScope.MEDIA],
                one_sided_sides,
                two_sided_sides,
                copies,
                parts,
            )
        elif fallback is not None:
            _media_from_table(attributes, fallback, one_sided_sides, two_sided_sides, copies, parts)
        _first_match(attributes, indexes[CostScope.SHEET], "sheet", sheets * copies, parts)
        _copy_rules(attributes, indexes, sets, parts)
        for rule in indexes[CostScope.SET].candidates(attributes):
            if rule.matches(attributes):
                parts.append(_part("set", rule, 1))
    except _Refused as refused:
        exact = sum((p.amount for p in parts), Decimal(0))
        return Price(None, exact, tuple(parts), refused.refusal, sides, sheets, cover_sides)
    exact = sum((p.amount for p in parts), Decimal(0))
    # Discounts lower a price down to nothing: printing never pays its owner.
    total = max(round_money(exact, minor_unit_exponent), Decimal(0))
    return Price(total, exact, tuple(parts), None, sides, sheets, cover_sides)


def _part(scope: str, rule: CostRule, quantity: int, note: str = "") -> PricedPart:
    return PricedPart(
        scope, rule.mnemonic, rule.line, rule.price, quantity, rule.price * quantity, note
    )


def _find_first(attributes: JobAttributes, index: RuleIndex[CostRule]) -> CostRule | None:
    for rule in index.candidates(attributes):
        if rule.matches(attributes):
            return rule
    return None


def _first_match(
    attributes: JobAttributes,
    index: RuleIndex[CostRule],
    scope: str,
    quantity: int,
    parts: list[PricedPart],
) -> None:
    rule = _find_first(attributes, index)
    if rule is not None and quantity:
        parts.append(_part(scope, rule, quantity))


def _media_from_rules(
    attributes: Mapping[str, str | tuple[str, ...]],
    index: RuleIndex[CostRule],
    one_sided_sides: int,
    two_sided_sides: int,
    copies: int,
    parts: list[PricedPart],
) -> None:
    if two_sided_sides:
        rule = _find_first(attributes, index)
        if rule is None:
            raise _Refused("media", _no_media_price(attributes, index, "two-sided"))
        parts.append(_part("media", rule, two_sided_sides * copies, "two-sided sides"))
    if one_sided_sides:
        single = {**attributes, "sides": "one-sided"}
        rule = _find_first(single, index)
        if rule is None:
            raise _Refused("media", _no_media_price(single, index, "one-sided"))
        parts.append(_part("media", rule, one_sided_sides * copies, "one-sided sides"))


def _no_media_price(attributes: JobAttributes, index: RuleIndex[CostRule], kind: str) -> str:
    named = sorted(index.named_attributes | {"media", "sides"})
    described = ", ".join(f"{name}={_first(attributes, name) or '(none)'}" for name in named)
    return f"no media cost rule prices {kind} sides of {described}"


def _media_from_table(
    attributes: JobAttributes,
    table: SidePriceTable,
    one_sided_sides: int,
    two_sided_sides: int,
    copies: int,
    parts: list[PricedPart],
) -> None:
    media = _first(attributes, "media") or ""
    color = (_first(attributes, "print-color-mode") or "color") not in _MONOCHROME
    prices = table.lookup(media, color, _first(attributes, "media-source"))
    if prices is None:
        kind = "colour" if color else "grey"
        raise _Refused("media", f"the printer has no {kind} price for media {media or '(none)'}")
    for count, unit, note in (
        (two_sided_sides, prices.two_sided, "two-sided sides"),
        (one_sided_sides, prices.one_sided, "one-sided sides"),
    ):
        if count:
            quantity = count * copies
            parts.append(
                PricedPart("media", "printer price table", 0, unit, quantity, unit * quantity, note)
            )


def _copy_rules(
    attributes: JobAttributes,
    indexes: Mapping[CostScope, RuleIndex[CostRule]],
    copies: int,
    parts: list[PricedPart],
) -> None:
    """Sum every matching copy rule; refuse a chosen cover or finishing the rules cannot price.

    A file with copy rules must price every cover and finishing a job asks for (a fold the
    file never names would otherwise be done for free); a file without any prices none, as
    a printer without rules does.
    """
    priced: set[str] = set()
    named: set[str] = set()
    for scope in (CostScope.JOB_COPY, CostScope.TICKET_COPY):
        index = indexes[scope]
        named.update(index.named_attributes)
        for rule in index.candidates(attributes):
            if rule.matches(attributes):
                parts.append(_part("copy", rule, copies))
                priced.update(c.attribute for c in rule.conditions)
    if not named:
        return
    for name in sorted(set(attributes) - priced):
        value = _first(attributes, name)
        if value is not None and is_chosen_finishing(name, value):
            raise _Refused(name, f"no copy cost rule prices {name}={value} for this job")


def is_finishing_name(name: str) -> bool:
    """Whether attribute `name` carries a finishing or a cover."""
    return "finishings" in name or (name.startswith("org.savapage-cover") and name.endswith("type"))


def is_chosen_finishing(name: str, value: str) -> bool:
    """Whether attribute `name` = `value` asks for a finishing or a cover (not "none")."""
    return is_finishing_name(name) and value not in _NOT_CHOSEN
