"""Rule-file pages: editor with located diagnostics, drafts, activation, history, diff, explain."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.roles import MANAGE_RULES
from apps.jobs.options import priced_options
from apps.portal.access import current_user, requires
from apps.portal.forms import ExplainForm, RuleFileNewForm, RuleTextForm
from apps.portal.rule_listing import DiffLine, diff_lines, listing, summarize
from apps.printers.choices import PrinterKind
from apps.printers.ipp_values import engine_view
from apps.printers.selectors import side_price_table
from apps.rules.models import RuleFile, RuleFileVersion
from apps.rules.selectors import active_version_errors
from apps.rules.services import (
    ActivationConflict,
    RuleFileConflict,
    RuleFileError,
    check_rules,
    rule_file_activate,
    rule_file_save,
)
from printmgmt.digits import whole_number
from printmgmt.ppde import RuleEngine, Target, parse
from printmgmt.ppde.explain import explain

LISTING_CONTEXT = 3


@require_GET
@requires(MANAGE_RULES)
def rules(request: HttpRequest) -> HttpResponse:
    return _rules_page(request, RuleFileNewForm())


def _rules_page(request: HttpRequest, form: RuleFileNewForm, status: int = 200) -> HttpResponse:
    files = RuleFile.objects.select_related("active_version").order_by("name")
    return render(request, "portal/rules.html", {"rule_files": files, "form": form}, status=status)


@require_POST
@requires(MANAGE_RULES)
def rule_new(request: HttpRequest) -> HttpResponse:
    """A refused name shows the list again, with why at the Name field (it takes the focus)."""
    form = RuleFileNewForm(request.POST)
    if form.is_valid() and RuleFile.objects.filter(name=form.cleaned_data["name"]).exists():
        taken = _("A rule file named %(name)s exists already.")
        form.add_error("name", taken % {"name": form.cleaned_data["name"]})
    if not form.is_valid():
        return _rules_page(request, form, status=400)
    name = form.cleaned_data["name"]
    version = rule_file_save(name, "", author=current_user(request), comment=_("new file"))
    return redirect("portal:rule", version.rule_file_id)


def _versions(rule_file: RuleFile) -> list[RuleFileVersion]:
    return list(
        rule_file.versions.select_related("author")
        .prefetch_related("activations__activated_by", "activations__replaced")
        .order_by("-number")
    )


def _when(version: RuleFileVersion) -> str:
    return date_format(timezone.localtime(version.created_at), "SHORT_DATETIME_FORMAT")


def _conflict_message(conflict: RuleFileConflict) -> str:
    saved = ", ".join(
        _("version %(number)s by %(who)s on %(when)s")
        % {
            "number": v.number,
            "who": v.author.username if v.author else _("a command"),
            "when": _when(v),
        }
        for v in conflict.newer
    )
    return _(
        "Not saved: %(saved)s came after version %(seen)s, the newest you had seen. "
        "Your text is still in the editor: merge the changes shown below and save again."
    ) % {"saved": saved, "seen": conflict.newest_seen}


@requires(MANAGE_RULES)
def rule_edit(request: HttpRequest, rule_file_id: int) -> HttpResponse:
    """The editor. Validate checks without saving; Save keeps a draft (errors and all).

    It opens on the active version (or `?version=N`), and the form carries the newest
    version number it knew, so a save cannot silently undo someone else's newer save.
    """
    rule_file = get_object_or_404(
        RuleFile.objects.select_related("active_version"), pk=rule_file_id
    )
    versions = _versions(rule_file)
    newest_seen = versions[0].number if versions else 0
    opened: RuleFileVersion | None = None
    conflict: RuleFileConflict | None = None
    if request.method == "POST":
        form = RuleTextForm(request.POST)
        text = request.POST.get("text", "").replace("\r\n", "\n")
        # A form without it (a page from before it was carried) is taken as having seen none.
        seen = whole_number(request.POST.get("newest_seen", "")) or 0
        if form.is_valid() and request.POST.get("action") == "save":
            try:
                version = rule_file_save(
                    rule_file.name,
                    text,
                    author=current_user(request),
                    comment=form.cleaned_data["comment"],
                    newest_seen=seen,
                )
            except RuleFileConflict as refused:
                conflict = refused
                messages.error(request, _conflict_message(refused))
                # The user has now been shown what changed; a second save takes their text.
                versions = _versions(rule_file)
                newest_seen = versions[0].number
            else:
                messages.success(
                    request,
                    ngettext(
                        "Saved as version %(number)s (%(errors)s error). "
                        "It is a draft until you activate it.",
                        "Saved as version %(number)s (%(errors)s errors). "
                        "It is a draft until you activate it.",
                        version.error_count,
                    )
                    % {"number": version.number, "errors": version.error_count},
                )
                return redirect(
                    f"{reverse('portal:rule', args=[rule_file.pk])}?version={version.number}"
                )
        else:
            newest_seen = seen
    else:
        opened = _version_to_open(request, rule_file, versions)
        text = opened.text if opened else ""
        form = RuleTextForm(initial={"text": text})
    active = rule_file.active_version
    active_errors = active_version_errors(rule_file)
    summary = summarize(check_rules(text, filename=f"{rule_file.name}.ppde"))
    return render(
        request,
        "portal/rule_edit.html",
        {
            "rule_file": rule_file,
            "form": form,
            "newest_seen": newest_seen,
            "opened": opened,
            "versions": versions,
            "newer_drafts": [v for v in versions if active and v.number > active.number],
            "summary": summary,
            "listing": listing(text, summary.shown, context=LISTING_CONTEXT),
            "checked": request.method == "POST",
            "conflict_diff": _conflict_diff(rule_file, conflict) if conflict else None,
            "conflict": conflict,
            "active_error": active_errors[0] if active_errors else None,
            "active_error_count": len(active_errors),
        },
    )


def _version_to_open(
    request: HttpRequest, rule_file: RuleFile, versions: list[RuleFileVersion]
) -> RuleFileVersion | None:
    """`?version=N`, else the active version (what printers use), else the newest draft."""
    wanted = request.GET.get("version")
    if wanted is not None:
        number = whole_number(wanted)
        for version in versions:
            if version.number == number:
                return version
        raise Http404(_("This rule file has no version %(number)s.") % {"number": wanted})
    return rule_file.active_version or (versions[0] if versions else None)


def _conflict_diff(rule_file: RuleFile, conflict: RuleFileConflict) -> list[DiffLine]:
    """What the newer versions changed since the newest one the user had seen."""
    seen = rule_file.versions.filter(number=conflict.newest_seen).first()
    newest = conflict.newer[-1]
    return diff_lines(
        seen.text if seen else "",
        newest.text,
        old_name=f"v{conflict.newest_seen}",
        new_name=f"v{newest.number}",
    )


@require_GET
@requires(MANAGE_RULES)
def rule_version(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(
        RuleFileVersion.objects.select_related("rule_file", "author"), pk=version_id
    )
    summary = summarize(check_rules(version.text, filename=f"{version.rule_file.name}.ppde"))
    return render(
        request,
        "portal/rule_version.html",
        {
            "version": version,
            "summary": summary,
            "listing": listing(version.text, summary.shown),
        },
    )


@require_POST
@requires(MANAGE_RULES)
def rule_activate(request: HttpRequest, version_id: int) -> HttpResponse:
    """Activate a clean version (a newer one, or an older one: a rollback)."""
    version = get_object_or_404(RuleFileVersion, pk=version_id)
    # A form without it (a page from before it was carried) is taken as having seen none.
    seen = whole_number(request.POST.get("active_seen", "")) or 0
    try:
        rule_file_activate(version.pk, by=current_user(request), active_seen=seen)
    except ActivationConflict as refused:
        messages.error(request, _activation_conflict_message(version, refused))
    except RuleFileError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Version %(number)s is active: every printer using %(name)s uses it now.")
            % {"number": version.number, "name": version.rule_file.name},
        )
    return redirect("portal:rule", version.rule_file_id)


def _activation_conflict_message(version: RuleFileVersion, conflict: ActivationConflict) -> str:
    activation = conflict.activation
    values = {
        "number": version.number,
        "active": activation.version.number,
        "who": activation.activated_by.username if activation.activated_by else _("a command"),
        "when": date_format(timezone.localtime(activation.activated_at), "SHORT_DATETIME_FORMAT"),
        "seen": conflict.active_seen,
    }
    if conflict.active_seen:
        return (
            _(
                "Version %(number)s was not activated: %(who)s activated version %(active)s "
                "on %(when)s, after this page showed version %(seen)s active. Check the "
                "history below and activate again."
            )
            % values
        )
    return (
        _(
            "Version %(number)s was not activated: %(who)s activated version %(active)s on "
            "%(when)s, after this page showed no version active. Check the history below and "
            "activate again."
        )
        % values
    )


@require_GET
@requires(MANAGE_RULES)
def rule_diff(request: HttpRequest, version_id: int) -> HttpResponse:
    """A version against another of the same file (default: the one before it)."""
    version = get_object_or_404(RuleFileVersion.objects.select_related("rule_file"), pk=version_id)
    others = version.rule_file.versions.exclude(pk=version.pk)
    against_id = whole_number(request.GET.get("against", ""))
    against: RuleFileVersion | None
    if against_id is not None:
        against = get_object_or_404(others, pk=against_id)
    else:
        against = others.filter(number__lt=version.number).order_by("-number").first()
    old_text = against.text if against else ""
    old_name = f"v{against.number}" if against else _("(empty)")
    return render(
        request,
        "portal/rule_diff.html",
        {
            "version": version,
            "against": against,
            "others": others.order_by("-number"),
            "lines": diff_lines(
                old_text, version.text, old_name=old_name, new_name=f"v{version.number}"
            ),
        },
    )


@requires(MANAGE_RULES)
def rule_explain(request: HttpRequest, version_id: int) -> HttpResponse:
    """A sample job against a version: outgoing options, constraints, price breakdown."""
    version = get_object_or_404(RuleFileVersion.objects.select_related("rule_file"), pk=version_id)
    form = ExplainForm(request.POST or None)
    explanation = None
    problem = ""
    if request.method == "POST" and form.is_valid():
        parsed = parse(version.text, filename=f"{version.rule_file.name}.ppde", strict=True)
        if parsed.rules is None:
            problem = _("Version %(number)s has errors: fix them before explaining a job.") % {
                "number": version.number
            }
        else:
            printer = form.cleaned_data["printer"]
            engine = RuleEngine(parsed.rules)
            target: Target = (
                "ppd" if printer is None or printer.kind == PrinterKind.CUPS_QUEUE else "ipp"
            )
            capabilities = engine_view(printer.capabilities) if printer else {}
            # As for a real job: what the sample does not set is the printer's default.
            attributes: dict[str, str | tuple[str, ...]] = {
                option.attribute: option.default
                for option in engine.user_options(capabilities, target=target, operator=True)
                if option.default is not None
            }
            attributes.update(form.cleaned_data["options"])
            if printer is not None:
                # As a release prices it: a booklet imposed here is printed two-sided.
                attributes = priced_options(printer, engine, attributes)
            explanation = explain(
                engine,
                attributes,
                pages=form.cleaned_data["pages"],
                copies=form.cleaned_data["copies"],
                target=target,
                printer=capabilities,
                fallback=side_price_table(printer) if printer else None,
                minor_unit_exponent=settings.CURRENCY_DECIMALS,
            ).as_dict()
    return render(
        request,
        "portal/rule_explain.html",
        {"version": version, "form": form, "explanation": explanation, "problem": problem},
    )
