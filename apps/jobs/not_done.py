"""What a job that printed did not get: an end sheet the printer refused, a finishing or cover
it ignored; and the part of the job's price that is theirs, given back when the job ends.

Pure: no database, no settings (Django's gettext_noop alone marks the words). The pipeline
records what was not done on the job when the printer takes it (`Job.not_done`: the end, maybe
in another process, reads no messages); the job's end prices it again with the rule file
version that priced it at its release, without what was not done, and refunds the
difference (endings.py).

How an attribute the printer ignored maps back to an option of ours (spec §3 translates ours
into what is sent):

- a driverless printer gets our extension finishings as standard `finishings` (or
  `finishings-col`) and our covers as `cover-front` / `cover-back`: `finishings` ignored with
  its values named means those finishings (by number), without values (or `finishings-col`)
  all the finishings sent; `cover-front` ignored means the front cover;
- a CUPS queue gets our finishings as the PPD options the rule file maps them to
  (`*StapleLocation org.savapage-finishings-staple`): such an option named as ignored maps
  back through its mapping (cupsd itself passes PPD options on to the filters without
  checking them, so it hardly ever names one). PPD options an SPExtra adds (the driver's
  cover switches) stand for a combination of options and map back to none of ours;
- a booklet the printer's booklet maker ignored prints its pages unfolded, one a side: more
  sides than the booklet was priced with, so nothing is given back for it;
- anything else (media-col, sides, a vendor attribute) maps to no option of ours: the user is
  told the printer ignored it, and nothing is refunded for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_noop

from printmgmt.ppde import RuleEngine, SidePriceTable, is_chosen_finishing
from printmgmt.ppde.finishings import finishing_number
from printmgmt.ppde.model import (
    COVER_BACK_TYPE,
    COVER_FRONT_TYPE,
    FINISHING_ENUM_RANGES,
    FINISHINGS_BOOKLET,
    OptionMapping,
)
from printmgmt.ppde.printer import Target
from printmgmt.translatable import Text

JOB_SHEETS = "org.savapage-job-sheets"
END_SHEET = "job-end-sheet"

JobOptions = Mapping[str, "str | Sequence[str]"]

#: The standard attributes a driverless printer gets our finishings and covers as.
_FINISHING_ATTRIBUTES = frozenset({"finishings", "finishings-col"})
_COVER_ATTRIBUTES = {"cover-front": COVER_FRONT_TYPE, "cover-back": COVER_BACK_TYPE}
#: What an option not done is priced as: nothing chosen.
_NOT_CHOSEN = {COVER_FRONT_TYPE: "no-cover", COVER_BACK_TYPE: "no-cover"}

#: What was not done, in words the reader's language translates.
_WHAT = {
    JOB_SHEETS: gettext_noop("the end sheet"),
    "org.savapage-finishings-staple": gettext_noop("staple"),
    "org.savapage-finishings-punch": gettext_noop("punch"),
    "org.savapage-finishings-fold": gettext_noop("fold"),
    "org.savapage-finishings-jog-offset": gettext_noop("jog offset"),
    COVER_FRONT_TYPE: gettext_noop("front cover"),
    COVER_BACK_TYPE: gettext_noop("back cover"),
}


@dataclass(frozen=True, slots=True)
class NotDone:
    """One thing a printed job did not get.

    `option` and `value` are the option of ours (as the job was priced) and its value not
    done; both empty when the printer ignored an attribute (`attribute`) that maps back to no
    option of ours, which costs nothing back. `attribute` is empty for the end sheet."""

    option: str = ""
    value: str = ""
    attribute: str = ""

    @property
    def refundable(self) -> bool:
        return bool(self.option and self.value)

    def to_json(self) -> dict[str, str]:
        return {
            name: value
            for name, value in (
                ("option", self.option),
                ("value", self.value),
                ("attribute", self.attribute),
            )
            if value
        }

    @classmethod
    def from_json(cls, data: object) -> NotDone | None:
        """One stored by `to_json`; None for anything else (a row edited by hand)."""
        if not isinstance(data, dict) or not data:
            return None
        fields = {name: data.get(name, "") for name in ("option", "value", "attribute")}
        if set(data) - set(fields) or not all(isinstance(v, str) for v in fields.values()):
            return None
        return cls(**fields)

    @property
    def words(self) -> Text | str:
        """What it was, for the reader: the end sheet, staple, front cover."""
        what = _WHAT.get(self.option)
        return Text(what) if what is not None else self.option


END_SHEET_NOT_PRINTED = NotDone(JOB_SHEETS, END_SHEET)


def stored(not_done: Iterable[NotDone]) -> list[dict[str, str]]:
    """As the job keeps them (Job.not_done), each once, in order."""
    return [item.to_json() for item in dict.fromkeys(not_done)]


def read(data: object) -> list[NotDone]:
    """What `stored` kept; what cannot be read is left out (and refunds nothing)."""
    if not isinstance(data, list):
        return []
    return [item for item in map(NotDone.from_json, data) if item is not None]


def ignored_options(
    ignored: Iterable[tuple[str, Sequence[Any]]],
    sent: JobOptions,
    *,
    target: Target,
    mappings: Sequence[OptionMapping] = (),
) -> list[NotDone]:
    """What the attributes the printer said it ignored (name and the values it named) were
    of the options `sent` (the job's options as they were translated for the printer)."""
    found: list[NotDone] = []
    for name, values in ignored:
        if target == "ipp" and name in _FINISHING_ATTRIBUTES:
            numbers = {v for v in values if isinstance(v, int) and not isinstance(v, bool)}
            behind = [
                NotDone(option, value, name)
                for option, value in _chosen_finishings(sent)
                if not numbers or finishing_number(option, value) in numbers
            ]
        elif target == "ipp" and name in _COVER_ATTRIBUTES:
            option = _COVER_ATTRIBUTES[name]
            value = _first(sent, option)
            behind = (
                [NotDone(option, value, name)]
                if value is not None and is_chosen_finishing(option, value)
                else []
            )
        elif target == "ppd":
            behind = [
                NotDone(mapping.attribute, value, name)
                for mapping in mappings
                if mapping.ppd_option.lower() == name.lower()
                and (value := _first(sent, mapping.attribute)) is not None
                and is_chosen_finishing(mapping.attribute, value)
            ]
        else:
            behind = []
        found.extend(
            # A booklet maker's: what printed instead costs more, not less (module docstring).
            NotDone(attribute=item.attribute) if item.option == FINISHINGS_BOOKLET else item
            for item in behind
        )
        if not behind:
            found.append(NotDone(attribute=name))
    return list(dict.fromkeys(found))


def _chosen_finishings(sent: JobOptions) -> list[tuple[str, str]]:
    chosen = []
    for option in (*FINISHING_ENUM_RANGES, FINISHINGS_BOOKLET):
        value = _first(sent, option)
        if value is not None and finishing_number(option, value) not in (None, 3):
            chosen.append((option, value))
    return chosen


def _first(options: JobOptions, name: str) -> str | None:
    value = options.get(name)
    if value is None or isinstance(value, str):
        return value
    return str(value[0]) if value else None


def without(options: JobOptions, not_done: Iterable[NotDone]) -> dict[str, str | tuple[str, ...]]:
    """The job's options as if what was not done had not been asked for."""
    result: dict[str, str | tuple[str, ...]] = {
        name: value if isinstance(value, str) else tuple(str(v) for v in value)
        for name, value in options.items()
    }
    for item in not_done:
        if not item.refundable or item.option not in result:
            continue
        if item.option == JOB_SHEETS:
            current = result[JOB_SHEETS]
            values = (current,) if isinstance(current, str) else current
            rest = tuple(value for value in values if value != item.value)
            result[JOB_SHEETS] = rest if len(rest) > 1 else (rest[0] if rest else "none")
        elif item.option == FINISHINGS_BOOKLET:
            result[item.option] = "none"
        else:
            result[item.option] = _NOT_CHOSEN.get(item.option, "3")
    return result


def not_done_price(
    engine: RuleEngine,
    options: JobOptions,
    not_done: Sequence[NotDone],
    *,
    pages: int,
    copies: int,
    fallback: SidePriceTable | None,
    minor_unit_exponent: int,
    documents: Sequence[int] = (),
) -> Decimal:
    """The part of the job's price that is what was not done: its price as it was asked for
    less its price without that, both by the same rules and prices. Never negative (a discount
    for not having it gives nothing back); 0 when either price is refused."""
    if not any(item.refundable for item in not_done):
        return Decimal(0)

    def priced(attributes: JobOptions) -> Decimal | None:
        return engine.price(
            without(attributes, ()),
            pages=pages,
            copies=copies,
            fallback=fallback,
            minor_unit_exponent=minor_unit_exponent,
            documents=documents,
        ).total

    asked = priced(options)
    done = priced(without(options, not_done))
    if asked is None or done is None:
        return Decimal(0)
    return max(asked - done, Decimal(0))


def reason(not_done: Sequence[NotDone]) -> Text | None:
    """Why the money goes back, for the ledger: "not printed: the end sheet", "not done by
    the printer: staple, front cover", or both. None when nothing of ours was not done."""
    refundable = [item for item in not_done if item.refundable]
    sheets = [item for item in refundable if item.option == JOB_SHEETS]
    ignored = [item for item in refundable if item.option != JOB_SHEETS]
    parts = []
    if sheets:
        parts.append(Text(gettext_noop("not printed: %(why)s"), {"why": _listed(sheets)}))
    if ignored:
        parts.append(
            Text(gettext_noop("not done by the printer: %(what)s"), {"what": _listed(ignored)})
        )
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return Text(gettext_noop("%(first)s; %(then)s"), {"first": parts[0], "then": parts[1]})


def refunded_message(not_done: Sequence[NotDone]) -> Text | None:
    """What the job's user is told when its end gave back the price of what was not done."""
    refundable = [item for item in not_done if item.refundable]
    if not refundable:
        return None
    return Text(
        gettext_noop("refunded for what was not done: %(what)s"), {"what": _listed(refundable)}
    )


def _listed(items: Sequence[NotDone]) -> Text | str:
    options = list(dict.fromkeys(item.option for item in items))
    words = [NotDone(option).words for option in options]
    listed = words[-1]
    for word in reversed(words[:-1]):
        listed = Text(gettext_noop("%(first)s, %(then)s"), {"first": word, "then": listed})
    return listed
