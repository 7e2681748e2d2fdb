"""The release form of a held job: its printer, options from the job's presets, and the
live price the rules give (the job page and its price fragment use it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, QueryDict
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from apps.accounts.models import Account, User
from apps.accounts.money import format_money_for_people
from apps.accounts.selectors import accounts_chargeable_by
from apps.accounts.services import personal_account_ensure
from apps.jobs.build import parse_page_ranges
from apps.jobs.documents import DocumentError
from apps.jobs.models import Job
from apps.jobs.release import (
    Quote,
    ReleaseRefused,
    job_quote,
    offered_options,
    preset_options,
    presets_not_offered,
    printer_for_group,
)
from apps.portal import selectors
from apps.portal.access import current_user
from apps.portal.documents import document_pages
from apps.portal.forms import OPTION_PREFIX, ReleaseForm
from apps.portal.option_labels import attribute_label, problems_in_words, value_label
from apps.portal.selectors import FollowMeGroup
from apps.portal.thumbnails import MAX_THUMBNAILS
from apps.printers.choices import PrinterState
from apps.printers.models import Printer
from printmgmt.digits import whole_number
from printmgmt.ppde import OfferedOption

UNUSABLE_STATES = frozenset({PrinterState.UNREACHABLE, PrinterState.STOPPED})


def accounts_of(user: User) -> list[Account]:
    """The accounts the user may charge: never none (their personal account is opened)."""
    accounts = list(accounts_chargeable_by(user).select_related("owner"))
    return accounts or [personal_account_ensure(user)]


def _price_rule_name(mnemonic: str, line: int) -> str:
    """A price part's rule as the page's language says it: the rule file's own mnemonic (the
    admin's words) as written, the product's own words translated."""
    if line == 0:  # the printer's side-price table, not a line of the rule file
        return _("the printer's price table")
    return mnemonic or _("rule on line %(line)d") % {"line": line}


def _price_scope(scope: str, note: str) -> str:
    """What a price part is counted by (the rule engine's words, translated)."""
    scopes = {
        "media": _("per side"),
        "sheet": _("per sheet"),
        "copy": _("per copy"),
        "set": _("once per job"),
    }
    notes = {"one-sided sides": _("one-sided"), "two-sided sides": _("two-sided")}
    shown = scopes.get(scope, scope)
    return f"{shown}, {notes.get(note, note)}" if note else shown


@dataclass(frozen=True)
class QuoteView:
    """A quote as the page shows it."""

    quote: Quote | None
    problems: list[str]
    picked: str = ""  # the printer follow-me picked

    @property
    def total(self) -> str:
        if self.quote is None or self.quote.total is None:
            return ""
        return format_money_for_people(self.quote.total)

    @property
    def expected_price(self) -> str:
        return "" if self.quote is None or self.quote.total is None else str(self.quote.total)

    @property
    def documents_note(self) -> str:
        """How the printer prints a job of several documents, as the price counts it."""
        if self.quote is None or self.quote.documents < 2:
            return ""
        # Both say two or more documents: no singular to choose.
        if self.quote.separate_documents:
            return _(
                "Each of the %(count)d documents is printed and finished on its own sheets."
            ) % {"count": self.quote.separate_documents}
        return _("The %(count)d documents are printed as one document on this printer.") % {
            "count": self.quote.documents
        }

    @property
    def parts(self) -> list[dict[str, Any]]:
        if self.quote is None:
            return []
        return [
            {
                "what": _price_rule_name(part.mnemonic, part.line),
                "scope": _price_scope(part.scope, part.note),
                "unit_price": number_format(part.unit_price, use_l10n=True),
                "quantity": part.quantity,
                "amount": format_money_for_people(part.amount),
            }
            for part in self.quote.price.parts
        ]

    @property
    def chosen(self) -> list[tuple[str, str]]:
        if self.quote is None:
            return []
        return [
            (attribute_label(name), value_label(name, value))
            for name, value in self.quote.attributes.items()
            if isinstance(value, str)
        ]


def _pages_from_picks(picks: list[str]) -> str:
    """Ticked thumbnails as a page selection, e.g. ["1", "2", "3", "5"] → "1-3,5"."""
    numbers = sorted({number for pick in picks if (number := whole_number(pick))})
    ranges: list[str] = []
    start = previous = None
    for number in [*numbers, None]:
        if number is not None and previous is not None and number == previous + 1:
            previous = number
            continue
        if start is not None:
            ranges.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = number
    return ",".join(ranges)


class ReleasePage:
    """The release form of one job for one printer or follow-me group, and what the rules say
    of it. A group's options are those of its first printer; follow-me then picks the first
    printer of the group that can print the job as asked."""

    def __init__(
        self, request: HttpRequest, job: Job, data: Any = None, *, carried: Any = None
    ) -> None:
        """`data` is the posted form; `carried` what the form held when the user chose another
        printer (the page's script asks for the new printer's fields with it)."""
        self.user = current_user(request)
        self.job = job
        self.printers = selectors.printers_for(self.user)
        self.groups = selectors.follow_me_groups_for(self.printers)
        self.accounts = accounts_of(self.user)
        self.operator = selectors.is_operator(self.user)
        self.group: FollowMeGroup | None = None
        self.printer = self._choose(str((data or request.GET).get("printer", "")))
        if self.group is not None:
            offered = selectors.offered_options_of_any(self.group.printers, operator=self.operator)
        elif self.printer is not None:
            offered = offered_options(self.printer, operator=self.operator)
        else:
            offered = ()
        if data is not None and not data.get("pages") and data.getlist("pick"):
            data = data.copy()
            data["pages"] = _pages_from_picks(data.getlist("pick"))
        # What the job came with (copies, pages, options from a print dialog) is where the
        # release starts.
        self.presets = preset_options(job, offered)
        self.presets_not_offered = [
            f"{attribute_label(name)}: {value_label(name, value)}"
            for name, value in presets_not_offered(job, offered)
        ]
        initial = {"printer": self.chosen, "copies": job.copies, "pages": job.page_ranges}
        initial.update({OPTION_PREFIX + name: value for name, value in self.presets.items()})
        if data is None and carried is not None:
            data = self._carried_over(carried, offered, initial)
        self.form = ReleaseForm(
            data,
            initial=initial,
            printers=self.printers,
            groups=self.groups,
            accounts=self.accounts,
            offered=offered,
        )

    def _carried_over(
        self, carried: Any, offered: tuple[OfferedOption, ...], initial: dict[str, Any]
    ) -> QueryDict:
        """The form for the newly chosen printer, keeping what the user had typed and chosen:
        the copies, pages and account, and each option with a choice the printer offers too
        (the others start where the page starts them)."""
        data = QueryDict(mutable=True)
        data["printer"] = self.chosen
        for name in ("copies", "pages", "account"):
            data[name] = carried.get(name, "")
        for option in offered:
            field = OPTION_PREFIX + option.attribute
            value = carried.get(field)
            if value is None or value not in {choice.value for choice in option.choices}:
                value = initial.get(field, option.default) or ""
            data[field] = value
        return data

    def _choose(self, wanted: str) -> Printer | None:
        for group in self.groups:
            if wanted == group.choice:
                self.group = group
                return group.printers[0]
        by_id = {str(printer.pk): printer for printer in self.printers}
        return by_id.get(wanted) or (self.printers[0] if self.printers else None)

    @property
    def chosen(self) -> str:
        """The value of the printer field: a printer's id or a follow-me group."""
        if self.group is not None:
            return self.group.choice
        return str(self.printer.pk) if self.printer else ""

    def _request(self) -> tuple[dict[str, str], int, str] | None:
        if not self.form.is_bound:
            return dict(self.presets), self.job.copies, self.job.page_ranges
        if not self.form.is_valid():
            return None
        cleaned = self.form.cleaned_data
        return self.form.chosen_options(), cleaned["copies"], cleaned["pages"]

    def target(self) -> Printer:
        """The printer the job goes to (follow-me picks it; ReleaseRefused if none can)."""
        assert self.printer is not None
        if self.group is None:
            return self.printer
        asked = self._request()
        options, copies, pages = (
            asked if asked is not None else (self.presets, self.job.copies, self.job.page_ranges)
        )
        return printer_for_group(
            self.job, self.user, self.group.group, options, copies=copies, page_ranges=pages
        )

    def quote(self) -> QuoteView:
        if self.printer is None:
            return QuoteView(None, [_("No printer is available to you: ask a printer admin.")])
        asked = self._request()
        if asked is None:
            return QuoteView(None, [_("Correct the marked fields to see the price.")])
        options, copies, pages = asked
        try:
            printer = self.target()
        except ReleaseRefused as refused:
            return QuoteView(None, [str(refused)])
        quote = job_quote(
            self.job, printer, options, copies=copies, page_ranges=pages, operator=self.operator
        )
        problems = problems_in_words(quote)
        if printer.state in UNUSABLE_STATES:
            problems.append(
                _("Printer %(name)s is %(state)s: choose another printer or try again later.")
                % {"name": printer.name, "state": printer.get_state_display().lower()}
            )
        return QuoteView(quote, problems, picked=printer.name if self.group else "")

    def picked_pages(self) -> frozenset[int]:
        """The pages the page selection names (none when it names all, or cannot be read),
        ticked on the thumbnails: the script makes the selection from the ticks, so a tick
        added to unticked boxes would drop the pages chosen before (after a refusal, or those
        the job came with)."""
        text = str(self.form["pages"].value() or "").strip()
        if not text:
            return frozenset()
        try:
            return frozenset(parse_page_ranges(text, self.job.page_count))
        except DocumentError:
            return frozenset()

    def context(self, **extra: Any) -> dict[str, Any]:
        pages_shown = min(self.job.page_count, MAX_THUMBNAILS)
        return {
            "job": self.job,
            "documents": document_pages(self.job),
            "form": self.form,
            "printer": self.printer,
            "chosen": self.chosen,
            "presets_not_offered": self.presets_not_offered,
            "quote": self.quote(),
            "thumbnail_pages": range(1, pages_shown + 1),
            "picked_pages": self.picked_pages(),
            "more_pages": self.job.page_count - pages_shown,
            **extra,
        }
