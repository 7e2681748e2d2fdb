"""The release service: the one function every entry point calls to print a held job.

It checks the user may use the printer, the options are offered and allowed together, prices
the job, charges the account and queues the job — the charge, the state change and the queueing
commit together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.accounts.errors import AccountPermissionDenied
from apps.accounts.models import Account, User
from apps.accounts.movements import account_charge
from apps.accounts.roles import MANAGE_PRINTERS, RELEASE_OWN_JOBS, permission_name
from apps.accounts.selectors import charge_refusal, personal_account_of
from apps.accounts.services import personal_account_ensure
from apps.jobs.build import pages_by_document, parse_page_ranges
from apps.jobs.choices import JobState
from apps.jobs.documents import DocumentError
from apps.jobs.models import Job
from apps.jobs.option_checks import (
    OptionValue,
    RefusedOption,
    as_offered,
    not_offered,
    not_options,
    printer_side_names,
)
from apps.jobs.options import priced_options, sent_options
from apps.jobs.parts import separate_runs
from apps.jobs.services import job_transition
from apps.printers.choices import PrinterKind, PrinterState
from apps.printers.ipp_values import engine_view, pdf_sent_as
from apps.printers.models import Printer, PrinterGroup
from apps.printers.selectors import side_price_table, user_may_use_printer
from apps.rules.selectors import engine_for_rule_file
from printmgmt.ppde import (
    OfferedOption,
    Price,
    RuleEngine,
    Target,
    Translation,
    Violation,
    is_chosen_finishing,
)
from printmgmt.translatable import Text

logger = logging.getLogger(__name__)

MAX_COPIES = 999


class ReleaseRefused(Exception):
    """The job cannot be released as asked; the message says why, for the user. `quote` is
    the quote whose problems refused it, when they did, for pages that name the options in
    their own words."""

    def __init__(self, message: str, *, quote: Quote | None = None) -> None:
        super().__init__(message)
        self.quote = quote


class PriceChanged(ReleaseRefused):
    """The price is not the one the user saw: show the new one and ask again."""

    def __init__(self, seen: Decimal, now: Decimal) -> None:
        self.seen = seen
        self.now = now
        super().__init__(f"the price changed from {seen} to {now}: check it and release again")


@dataclass(frozen=True)
class Quote:
    """What releasing a job with these options would do, and why it could not."""

    printer: Printer
    attributes: dict[str, str | tuple[str, ...]]
    copies: int
    pages: int
    translation: Translation
    price: Price
    problems: list[str] = field(default_factory=list)
    #: The constraints the options break and the options refused before pricing (their
    #: messages are among the problems), for pages that name the options in their own words.
    violations: tuple[Violation, ...] = ()
    refused_options: tuple[RefusedOption, ...] = ()
    #: The rule file version that priced it (None: no rule file), which builds the job too.
    rule_version_id: int | None = None
    #: The job's documents the selected pages lie in (1 for a job of one document), and how
    #: many the printer prints each on sheets of its own, as the price counts them
    #: (separate_runs; 0 when it prints them as one document).
    documents: int = 1
    separate_documents: int = 0

    @property
    def total(self) -> Decimal | None:
        return self.price.total

    @property
    def expected_impressions(self) -> int:
        # Pages printed on covers are impressions too: without them, a job that printed its
        # covers and stopped was refunded as if fewer sides were missing.
        return (self.price.sides_per_copy + self.price.cover_sides_per_copy) * self.copies


def engine_for_printer(printer: Printer) -> RuleEngine:
    return engine_for_rule_file(printer.rule_file)


def _rule_version_of(printer: Printer) -> int | None:
    """The version engine_for_printer reads (from the same loaded rule file)."""
    return printer.rule_file.active_version_id if printer.rule_file is not None else None


def _job_attributes(options: Mapping[str, OptionValue]) -> dict[str, str | tuple[str, ...]]:
    attributes: dict[str, str | tuple[str, ...]] = {}
    for name, value in options.items():
        if isinstance(value, str):
            attributes[name] = value
        else:
            attributes[name] = tuple(str(v) for v in value)
    return attributes


def job_quote(
    job: Job,
    printer: Printer,
    options: Mapping[str, OptionValue],
    *,
    copies: int = 1,
    page_ranges: str = "",
    operator: bool = False,
) -> Quote:
    """Check and price a job for a printer without changing anything (the live price)."""
    problems: list[str] = []
    if not 1 <= copies <= MAX_COPIES:
        problems.append(
            _("copies must be between 1 and %(most)d, not %(copies)d")
            % {"most": MAX_COPIES, "copies": copies}
        )
        copies = max(1, min(copies, MAX_COPIES))
    # Whatever the case: CUPS reads the options it passes on to filters and backends so.
    asked = {name.lower() for name in options}
    problems.extend(
        _("%(name)s is not an option: %(instead)s") % {"name": name, "instead": instead}
        for name, instead in not_options().items()
        if name in asked
    )
    refusal = _pdf_refusal(printer)
    if refusal:
        problems.append(refusal)
    try:
        selected = parse_page_ranges(page_ranges, job.page_count)
    except DocumentError as error:
        problems.append(str(error))
        selected = list(range(1, job.page_count + 1))
    pages = len(selected)
    separately = [len(run) for _name, run in separate_runs(job, printer, selected)]
    documents = len(
        {index for index, _run in pages_by_document(job.document_page_counts, selected)}
    )
    engine = engine_for_printer(printer)
    capabilities = engine_view(printer.capabilities)
    target: Target = "ppd" if printer.kind == PrinterKind.CUPS_QUEUE else "ipp"
    offered = engine.user_options(capabilities, target=target, operator=operator)
    # What the user did not choose is the offered default, so that the price is the price
    # of what will print (a printer's default media, colour mode, sides).
    attributes: dict[str, str | tuple[str, ...]] = {
        o.attribute: o.default for o in offered if o.default is not None
    }
    attributes.update(as_offered(offered, _job_attributes(options)))
    # One problem an option: what a refused option would then be sent or priced as is moot.
    refused_options = not_offered(offered, attributes, operator)
    problems.extend(refused.message for refused in refused_options.values())
    problems.extend(printer_side_names(engine, offered, options))
    attributes = priced_options(printer, engine, attributes)
    violations = tuple(engine.violations(attributes))
    problems.extend(violation.message for violation in violations)
    translation = engine.translate(
        sent_options(printer, engine, attributes), target=target, printer=capabilities
    )
    if translation.refusal is not None and translation.refusal.option not in refused_options:
        problems.append(f"{translation.refusal.option}: {translation.refusal.message}")
    price = engine.price(
        attributes,
        pages=pages,
        copies=copies,
        fallback=side_price_table(printer),
        minor_unit_exponent=settings.CURRENCY_DECIMALS,
        documents=separately,
    )
    if price.refusal is not None and price.refusal.option not in refused_options:
        problems.append(f"{price.refusal.option}: {price.refusal.message}")
    return Quote(
        printer,
        attributes,
        copies,
        pages,
        translation,
        price,
        problems,
        violations,
        tuple(refused_options.values()),
        rule_version_id=_rule_version_of(printer),
        documents=documents,
        separate_documents=len(separately),
    )


#: What every job is sent as; a printer that lists application/octet-stream tells the format
#: itself.
def _pdf_refusal(printer: Printer) -> str:
    """Why the printer cannot print our jobs, which are sent as PDF, or "": a printer that takes
    only raster (many driverless ones) would refuse each job after it was charged."""
    cups_queue = printer.kind == PrinterKind.CUPS_QUEUE
    if pdf_sent_as(printer.capabilities, cups_queue=cups_queue) is not None:
        return ""
    listed = printer.capabilities.get("document-format-supported", [])
    return _(
        "printer %(name)s does not take PDF documents (only %(formats)s): choose another printer"
    ) % {"name": printer.name, "formats": ", ".join(map(str, listed))}


def offered_options(printer: Printer, *, operator: bool) -> tuple[OfferedOption, ...]:
    """The options the printer offers through its rule file and its capabilities."""
    target: Target = "ppd" if printer.kind == PrinterKind.CUPS_QUEUE else "ipp"
    return engine_for_printer(printer).user_options(
        engine_view(printer.capabilities), target=target, operator=operator
    )


def preset_options(job: Job, offered: tuple[OfferedOption, ...]) -> dict[str, str]:
    """The options the job came with (a desktop's print dialog through the IPP printer,
    `lp -o`) as choices the printer offers: a release starts from them. A preset the printer
    does not offer starts at its default instead."""
    by_name = {option.attribute: option for option in offered}
    presets = {}
    for name, value in job.options.items():
        option = by_name.get(name)
        if option is None or not isinstance(value, str):
            continue
        for choice in option.choices:
            if choice.value and choice.value.lower() == value.lower():
                presets[name] = choice.value
                break
    return presets


def presets_not_offered(job: Job, offered: tuple[OfferedOption, ...]) -> list[tuple[str, str]]:
    """The options the job came with that the printer cannot do, as (name, value): a finishing
    or cover it asked for, or a value the printer does not offer for an option it has (US
    Letter where it has A4). The release dialog says so; its defaults are used instead."""
    presets = preset_options(job, offered)
    by_name = {option.attribute: option for option in offered}
    return [
        (name, value)
        for name, value in job.options.items()
        if isinstance(value, str)
        and name not in presets
        and (is_chosen_finishing(name, value) or (name in by_name and by_name[name].choices))
    ]


def options_as_it_came(job: Job, offered: tuple[OfferedOption, ...]) -> dict[str, str]:
    """What a job is released with when nobody chose (Release all, IPP Release-Job): its
    presets as the printer offers them,
    and a finishing or cover it came with that the printer cannot do, as it is: the release
    refuses that, and the job stays held saying why, rather than print unstapled unseen."""
    options = preset_options(job, offered)
    for name, value in job.options.items():
        if name not in options and isinstance(value, str) and is_chosen_finishing(name, value):
            options[name] = value
    return options


def _check_printer(user: User, printer: Printer) -> None:
    # Whatever its enabled flag: an administrator may have enabled it since.
    if printer.gone_from_cups_server:
        raise ReleaseRefused(
            _(
                "printer %(name)s no longer exists on its CUPS server (its queue was removed or "
                "renamed there): choose another printer"
            )
            % {"name": printer.name}
        )
    if not printer.enabled:
        raise ReleaseRefused(
            _("printer %(name)s is disabled: choose another printer") % {"name": printer.name}
        )
    if not user_may_use_printer(user, printer):
        raise ReleaseRefused(_("you may not use printer %(name)s") % {"name": printer.name})
    if printer.state == PrinterState.UNREACHABLE:
        raise ReleaseRefused(
            _(
                "printer %(name)s cannot be reached (%(reason)s): choose another printer or try "
                "again later"
            )
            % {"name": printer.name, "reason": printer.state_message or _("no answer")}
        )
    if printer.state == PrinterState.STOPPED:
        stopped = _("printer %(name)s is stopped") % {"name": printer.name}
        if printer.state_message:
            stopped += f" ({printer.state_message})"
        raise ReleaseRefused(
            _("%(stopped)s: choose another printer or try again later") % {"stopped": stopped}
        )


def _account_to_charge(user: User, account_id: int | None) -> Account:
    if account_id is not None:
        return Account.objects.get(pk=account_id)
    return personal_account_of(user) or personal_account_ensure(user)


def printer_for_group(
    job: Job,
    user: User,
    group: PrinterGroup,
    options: Mapping[str, OptionValue],
    *,
    copies: int = 1,
    page_ranges: str = "",
) -> Printer:
    """Follow-me: the first printer of the group the user may use that can print the job as
    asked (idle printers before busy ones, then by name). Raises ReleaseRefused naming why
    each printer could not."""
    operator = user.has_perm(permission_name(MANAGE_PRINTERS))
    reasons = []
    members = group.printers.select_related("rule_file").order_by("name")
    ranked = sorted(members, key=lambda p: p.state != PrinterState.IDLE)
    for printer in ranked:
        try:
            _check_printer(user, printer)
        except ReleaseRefused as refused:
            reasons.append(str(refused))
            continue
        quote = job_quote(
            job, printer, options, copies=copies, page_ranges=page_ranges, operator=operator
        )
        if not quote.problems and quote.total is not None:
            return printer
        reasons.append(f"{printer.name}: {'; '.join(quote.problems)}")
    raise ReleaseRefused(
        _("no printer of %(group)s can print this job: %(reasons)s")
        % {"group": group.name, "reasons": " | ".join(reasons or [_("it is empty")])}
    )


def job_release(
    job_id: int,
    user: User,
    printer_id: int,
    options: Mapping[str, OptionValue],
    *,
    copies: int = 1,
    page_ranges: str = "",
    account_id: int | None = None,
    expected_price: Decimal | None = None,
) -> Job:
    """Release a held job to a printer: check, price, charge once, and queue it for printing.

    Raises ReleaseRefused (PriceChanged when `expected_price` no longer holds) or an
    AccountError (not enough money, not a member of the account); nothing changes then.
    """
    from apps.jobs.tasks import print_job  # the tasks module imports this one

    if not user.has_perm(permission_name(RELEASE_OWN_JOBS)):
        raise ReleaseRefused(_("you do not have the right to print"))
    job = Job.objects.select_related("owner").get(pk=job_id)
    operator = user.has_perm(permission_name(MANAGE_PRINTERS))
    if job.owner_id != user.pk and not operator:
        raise ReleaseRefused(_("this is not your job"))
    if job.state != JobState.HELD:
        raise ReleaseRefused(
            _("the job is %(state)s, not held") % {"state": job.get_state_display().lower()}
        )
    try:
        printer = Printer.objects.select_related("rule_file").get(pk=printer_id)
    except Printer.DoesNotExist:
        raise ReleaseRefused(_("there is no printer with id %(id)s") % {"id": printer_id}) from None
    _check_printer(user, printer)
    quote = job_quote(
        job, printer, options, copies=copies, page_ranges=page_ranges, operator=operator
    )
    if quote.problems or quote.total is None:
        raise ReleaseRefused("; ".join(quote.problems), quote=quote)
    total = quote.total
    if expected_price is not None and expected_price != total:
        raise PriceChanged(expected_price, total)
    account = _account_to_charge(job.owner, account_id)

    with transaction.atomic():
        # The held state is checked again under the job's row lock: a double-clicked Release
        # finds the job released by the first click and charges nothing.
        locked = Job.objects.select_for_update().get(pk=job_id)
        if locked.state != JobState.HELD:
            raise ReleaseRefused(_("the job was released already"))
        if total > 0:
            account_charge(
                account.pk,
                total,
                job_id=job_id,
                user=job.owner,
                reason=Text(gettext_noop("print: %(title)s"), {"title": job.title}),
            )
        elif (refusal := charge_refusal(job.owner, account)) is not None:
            # Nothing to charge, but the job and its usage record name the account.
            raise AccountPermissionDenied(refusal)
        released = job_transition(
            job_id,
            JobState.RELEASED,
            reason=f"released to {printer.name}",
            actor=user,
            printer=printer,
            options=dict(quote.attributes),
            copies=quote.copies,
            page_ranges=page_ranges,
            price=total,
            account=account,
            expected_impressions=quote.expected_impressions,
            # Built as it was priced: a rule file rolled back while the job waits for its
            # printer must not drop (or add) a finishing it was charged for.
            rule_version_id=quote.rule_version_id,
            # Likewise a printer whose support for jobs of several documents changes meanwhile.
            documents_printed_separately=quote.separate_documents > 0,
        )
        assert released is not None  # the row lock above guarantees the state
        transaction.on_commit(lambda: print_job.delay(job_id))
    logger.info(
        "job %s released by %s to %s for %s %s",
        job_id,
        user,
        printer.name,
        total,
        settings.CURRENCY,
    )
    return released
