"""Which options a release refuses before it prices anything: what the product sets itself,
choices the printer does not offer, several values for an option that takes one, a printer's
own option names; and chosen values spelled as the printer offers them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from apps.jobs.parts import JOB_SHEETS, JOB_SHEETS_MEDIA
from printmgmt.ppde import OfferedOption, RuleEngine, is_chosen_finishing, is_finishing_name
from printmgmt.ppde.finishings import FINISHING_NAMES, finishing_number
from printmgmt.ppde.model import FINISHINGS_BOOKLET

#: An option's value as chosen: one, or several for the options that take several.
OptionValue = str | list[str]

#: Options the product carries out itself, offered or not.
_MADE_HERE = frozenset({JOB_SHEETS, JOB_SHEETS_MEDIA})
#: Where options come from that may take several values (job sheets at the start and end):
#: the rule file's job-ticket options, priced and never sent to the printer.
_TICKET_OPTIONS = "*SPJobTicket/"


def not_options() -> dict[str, str]:
    """Job attributes the product sets itself, each with what to do instead. Chosen among the
    options they would reach the printer as chosen but unpriced, or against the job's own
    handling: five copies for the price of one, banner pages nobody pays for, a job charged
    here and left held at the printer."""
    return {
        "copies": _("give it as the number of copies"),
        "page-ranges": _("give it as the pages to print"),
        "job-sheets": _("choose org.savapage-job-sheets"),
        "job-hold-until": _("jobs are held here, in the inbox, until released"),
        "job-hold-until-time": _("jobs are held here, in the inbox, until released"),
        # The name carries the marker that finds the job at the printer again.
        "job-name": _("give it as the title"),
    }


def as_offered(
    offered: tuple[OfferedOption, ...], attributes: dict[str, str | tuple[str, ...]]
) -> dict[str, str | tuple[str, ...]]:
    """Chosen values in the spelling the printer offers them. A choice is accepted whatever its
    case (`-o sides=Two-Sided-Long-Edge`), but the prices and the printer match it exactly: as
    typed, it was priced one-sided and sent as a keyword no printer knows."""
    spelling = {
        option.attribute: {choice.value.lower(): choice.value for choice in option.choices}
        for option in offered
    }
    written: dict[str, str | tuple[str, ...]] = {}
    for name, value in attributes.items():
        known = spelling.get(name, {})
        if isinstance(value, str):
            written[name] = known.get(value.lower(), value)
        else:
            written[name] = tuple(known.get(item.lower(), item) for item in value)
    return written


@dataclass(frozen=True)
class RefusedOption:
    """An option refused before pricing: its values (the one not offered, or all of several
    given where one is sent), and the message that names it as the printer does (for the
    command line and IPP clients; the portal names it in its dialog's words)."""

    option: str
    values: tuple[str, ...]
    several: bool
    message: str


def not_offered(
    offered: tuple[OfferedOption, ...],
    attributes: Mapping[str, str | tuple[str, ...]],
    operator: bool,
) -> dict[str, RefusedOption]:
    by_name = {option.attribute: option for option in offered}
    problems: dict[str, RefusedOption] = {}
    for name, value in attributes.items():
        option = by_name.get(name)
        if option is None:
            # A finishing or cover the printer does not offer at all would be dropped on the
            # way and the job printed without it: refused, so that follow-me picks a printer
            # that has it and a user is never told it was done. A booklet is the exception:
            # without a booklet maker, the pages are imposed here. Job sheets are made here
            # and always print: where the rule file does not offer (and price) them, they
            # would be sheets nobody pays for.
            # Any other option the printer does not offer would reach it unchecked and
            # unpriced (card stock charged as plain paper).
            asked = [
                item
                for item in _values(value)
                if (is_chosen_finishing(name, item) and name != FINISHINGS_BOOKLET)
                or (name == JOB_SHEETS and item.lower() != "none")
                or not (name in _MADE_HERE or is_finishing_name(name))
            ]
            if asked:
                problems.setdefault(
                    name,
                    RefusedOption(
                        name,
                        (asked[0],),
                        several=False,
                        message=_("%(option)s=%(value)s is not offered by this printer")
                        % {"option": name, "value": asked[0]},
                    ),
                )
            continue
        if not option.choices:
            continue
        values = _values(value)
        if len(values) > 1 and not option.source.startswith(_TICKET_OPTIONS):
            # One PPD choice, finishing or tray is sent (the first), but every value was
            # priced: a staple of "3,20" was charged and not done.
            problems.setdefault(
                name,
                RefusedOption(
                    name,
                    tuple(values),
                    several=True,
                    message=_("%(option)s takes one value, not %(values)s")
                    % {"option": name, "values": ",".join(values)},
                ),
            )
            continue
        allowed = {c.value.lower() for c in option.choices if operator or not c.operator_only}
        for item in values:
            if item.lower() not in allowed:
                problems.setdefault(
                    name,
                    RefusedOption(
                        name,
                        (item,),
                        several=False,
                        message=_(
                            "%(option)s=%(value)s is not offered by this printer "
                            "(choose one of: %(choices)s)"
                        )
                        % {
                            "option": name,
                            "value": item,
                            "choices": ", ".join(
                                _with_finishing_name(name, choice) for choice in sorted(allowed)
                            ),
                        },
                    ),
                )
    return problems


def _with_finishing_name(option: str, value: str) -> str:
    """A finishing's number with its PWG 5100.1 keyword (`3 (none)`): `lp -o` takes the number,
    which alone tells nobody what it is."""
    number = finishing_number(option, value) if value.isdigit() else None
    name = FINISHING_NAMES.get(number) if number is not None else None
    return f"{value} ({name})" if name else value


def printer_side_names(
    engine: RuleEngine, offered: tuple[OfferedOption, ...], options: Mapping[str, OptionValue]
) -> list[str]:
    """Options named as the rule file sends them to the printer (a PPD option, which CUPS
    matches whatever the case): they would reach it as chosen, past the prices and constraints
    of the attribute they stand for (ColorModel=CMYK priced as grey)."""
    offered_names = {option.attribute for option in offered}
    chosen = {name.lower() for name in options if name not in offered_names}
    return [
        _("%(option)s is the printer's own name for %(attribute)s: choose %(attribute)s instead")
        % {"option": mapping.ppd_option, "attribute": mapping.attribute}
        for mapping in engine.rules.mappings
        if mapping.ppd_option.lower() in chosen
    ]


def _values(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value
