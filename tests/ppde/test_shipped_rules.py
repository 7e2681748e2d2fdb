"""The rule files we ship in ppdrules/ load cleanly and behave as their comments say."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from printmgmt.ppde import PrinterAttributes, RuleEngine, SidePrices, SidePriceTable, parse_bytes

RULES = Path(__file__).parents[2] / "ppdrules"
FILES = sorted(RULES.glob("*.ppde"))
A4 = "iso_a4_210x297mm"


def load(name: str) -> RuleEngine:
    result = parse_bytes((RULES / name).read_bytes(), filename=name)
    assert result.rules is not None
    return RuleEngine(result.rules)


def test_there_are_three_shipped_files() -> None:
    assert [p.name for p in FILES] == [
        "driverless-ipp-everywhere.ppde",
        "job-ticket-copy-shop.ppde",
        "office-mfp-ppd.ppde",
    ]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_shipped_file_has_no_diagnostics_at_all(path: Path) -> None:
    result = parse_bytes(path.read_bytes(), filename=path.name)
    assert result.rules is not None
    assert [d.format() for d in result.diagnostics] == []


def test_office_booklet_substitutes_and_folds() -> None:
    translation = load("office-mfp-ppd.ppde").translate(
        {"org.savapage-finishings-booklet": "toleft-totop", "number-up": "2"}, target="ppd"
    )
    assert translation.attributes["Booklet"].plain() == "Saddle"
    assert translation.attributes["FoldType"].plain() == "Half"


def test_office_punched_booklet_is_refused() -> None:
    job = {"org.savapage-finishings-booklet": "toleft-totop", "org.savapage-finishings-punch": "74"}
    (violation,) = load("office-mfp-ppd.ppde").violations(job)
    assert violation.constraint.mnemonic == "no-booklet-punch"


def test_driverless_prices_sides_from_the_printer_table() -> None:
    table = SidePriceTable({(A4, False, None): SidePrices(Decimal("0.03"), Decimal("0.025"))})
    job = {
        "media": A4,
        "print-color-mode": "monochrome",
        "sides": "two-sided-long-edge",
        "org.savapage-finishings-staple": "28",
        "org.savapage-cover-front-type": "print-front",
    }
    price = load("driverless-ipp-everywhere.ppde").price(job, pages=11, copies=2, fallback=table)
    # 11 pages, one on the cover: 10 sides = 10 two-sided; staple 0.07; cover 0.15 + 0.20.
    assert price.total == Decimal("20") * Decimal("0.025") + 2 * Decimal("0.42")


def test_job_ticket_prices_every_scope() -> None:
    job = {
        "media": A4,
        "print-color-mode": "monochrome",
        "sides": "two-sided-long-edge",
        "media-color": "yellow",
        "media-type": "stationery",
        "org.savapage-cover-type": "int.printfront",
        "org.savapage-cover-type-color": "blue",
        "org.savapage-finishings-ext": "bind",
        "org.savapage-job-sheets": "job-start-sheet",
    }
    price = load("job-ticket-copy-shop.ppde").price(job, pages=20, copies=5)
    assert [(p.scope, p.mnemonic, p.quantity) for p in price.parts] == [
        ("media", "a4-tinted-grey", 100),
        ("copy", "cover-printed-front", 5),
        ("copy", "cover-coloured", 5),
        ("copy", "comb-bind", 5),
        ("set", "ticket-handling-a4", 1),
        ("set", "start-sheet", 1),
    ]
    assert price.total == Decimal("3.50") + Decimal("2.00") + Decimal("0.50") + Decimal(
        "12.50"
    ) + Decimal("1.05")
    # Nothing of a job ticket is sent to a printer.
    translation = load("job-ticket-copy-shop.ppde").translate(job, target="ppd")
    assert "media-color" in translation.withheld
    assert "org.savapage-finishings-ext" in translation.withheld


def ppd_choices(path: Path) -> dict[str, set[str]]:
    """Option keyword → choice keywords, from `*Option Choice/Label: ...` lines of a PPD."""
    choices: dict[str, set[str]] = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        head, _, rest = line.partition(" ")
        if not head.startswith("*") or head.startswith(("*%", "*Default")) or ":" in head:
            continue
        choice = rest.partition(":")[0].partition("/")[0].strip()
        if choice:
            choices.setdefault(head[1:], set()).add(choice)
    return choices


def test_office_rule_file_sends_only_options_and_choices_its_ppd_has() -> None:
    ppd = RULES / "office-mfp.ppd"
    if not ppd.exists():
        pytest.skip("ppdrules/office-mfp.ppd is not in this checkout")
    choices = ppd_choices(ppd)
    rules = load("office-mfp-ppd.ppde").rules
    sent: list[tuple[str, str]] = []
    for mapping in rules.mappings:
        sent += [(mapping.ppd_option, c.ppd_choice or "") for c in mapping.choices]
    for extra in rules.extras:
        sent += [(d.name, d.value) for d in extra.dependents]
    booklet = next(m for m in rules.mappings if m.attribute == "org.savapage-finishings-booklet")
    sent += [(booklet.ppd_option, s.ppd_value) for s in rules.substs]
    missing = [(option, choice) for option, choice in sent if choice not in choices.get(option, ())]
    assert missing == []
    assert len(sent) > 30


DEMO_SIZES = (A4, "iso_a3_297x420mm", "iso_a5_148x210mm")
#: What the demo finisher (an ippeveprinter) says it supports, as the engine reads it.
DEMO_FINISHER: PrinterAttributes = {
    "finishings-supported": (3, 4, 13, 14, 20, 21, 22, 23, 28, 74, 75, 93),
    "media-supported": DEMO_SIZES,
    "media-source-supported": ("auto", "main", "alternate", "envelope"),
    "cover-front-supported": ("cover-type", "media", "media-col"),
    "cover-back-supported": ("cover-type", "media", "media-col"),
    "cover-type-supported": ("no-cover", "print-none", "print-front", "print-back", "print-both"),
}


def test_every_finishing_and_cover_the_demo_finisher_offers_has_a_price_on_every_size() -> None:
    # A file with copy rules refuses a chosen finishing or cover it does not price (spec §4):
    # everything the demo offers must be priced, on each paper size the printer has.
    rules = load("driverless-ipp-everywhere.ppde")
    table = SidePriceTable(
        {(size, False, None): SidePrices(Decimal("0.05"), Decimal("0.04")) for size in DEMO_SIZES}
    )
    offered = rules.user_options(DEMO_FINISHER, target="ipp", operator=True)
    finishing_options = [
        o for o in offered if "finishings" in o.attribute or "cover" in o.attribute
    ]
    assert {"org.savapage-finishings-fold", "org.savapage-finishings-booklet"} <= {
        o.attribute for o in finishing_options
    }
    for size in DEMO_SIZES:
        for option in finishing_options:
            for choice in option.choices:
                job = {
                    "media": size,
                    "print-color-mode": "monochrome",
                    option.attribute: choice.value,
                }
                price = rules.price(job, pages=4, fallback=table)
                assert price.refusal is None, (size, option.attribute, choice.value, price.refusal)
