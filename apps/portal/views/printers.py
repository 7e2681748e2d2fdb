"""Printer admin pages: the list with live state, add by URI (probed), CUPS import, edit;
follow-me printer groups."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.roles import MANAGE_PRINTERS
from apps.portal.access import requires
from apps.portal.printer_forms import (
    CupsImportForm,
    PrinterAddForm,
    PrinterEditForm,
    PrinterGroupForm,
    PrinterGroupPrintersForm,
    SidePriceFormSet,
)
from apps.printers.cups_sync import printer_import_cups
from apps.printers.editing import SidePriceRow, printer_update
from apps.printers.editing import printer_disable as disable_printer
from apps.printers.groups import (
    printer_group_create,
    printer_group_delete,
    printer_group_printers_set,
)
from apps.printers.models import Printer, PrinterGroup
from apps.printers.services import PrinterError, printer_add, printer_refresh
from apps.printers.services import probe as printer_probe

CAPABILITIES_SHOWN = (
    "printer-make-and-model",
    "printer-location",
    "sides-supported",
    "print-color-mode-supported",
    "media-supported",
    "media-source-supported",
    "finishings-supported",
    "number-up-supported",
    "document-format-supported",
)


#: The fields of the printer forms by what a refusal is about (PrinterError.about).
PRINTER_FIELDS = {
    PrinterError.NAME: "name",
    PrinterError.ADDRESS: "uri",
    PrinterError.LOCATION: "location",
    PrinterError.CERTIFICATE: "trusted_certificate",
    PrinterError.PRINTERS: "printers",
}
#: The fields of a price row by what a refusal of the row is about.
PRICE_ROW_FIELDS = {
    PrinterError.MEDIA: "media_size",
    PrinterError.ONE_SIDED: "one_sided",
    PrinterError.TWO_SIDED: "two_sided",
}


def refusal_to_form(
    form: forms.BaseForm, error: PrinterError, fields: dict[str, str] = PRINTER_FIELDS
) -> str:
    """Tell a refusal at the field it is about (`fields`: what it is about -> field), where a
    screen reader reads it with the field; one about no field stays the page's message."""
    field = fields.get(error.about or "")
    if field is None or field not in form.fields:
        return str(error)
    form.add_error(field, str(error))
    return ""


def capability_rows(capabilities: dict[str, list[object]]) -> list[tuple[str, str]]:
    return [
        (name, ", ".join(str(value) for value in capabilities[name]))
        for name in CAPABILITIES_SHOWN
        if capabilities.get(name)
    ]


@require_GET
@requires(MANAGE_PRINTERS)
def printers(request: HttpRequest) -> HttpResponse:
    rows = (
        Printer.objects.select_related("rule_file")
        .prefetch_related("allowed_groups")
        .order_by("name")
    )
    context = {"printers": rows}
    if request.GET.get("fragment") == "rows":
        return render(request, "portal/_printer_rows.html", context)
    return render(request, "portal/printers.html", context)


@requires(MANAGE_PRINTERS)
def printer_new(request: HttpRequest) -> HttpResponse:
    """Probe first (what can it do?), then add."""
    form = PrinterAddForm(request.POST or None)
    probed: list[tuple[str, str]] = []
    problem = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("action") == "probe":
                result = printer_probe(data["uri"], trusted_certificate=data["trusted_certificate"])
                probed = capability_rows(result.capabilities)
                if not probed:
                    problem = _("The printer answered but described no capabilities.")
            else:
                printer = printer_add(
                    data["name"],
                    data["uri"],
                    location=data["location"],
                    rule_file=data["rule_file"],
                    trusted_certificate=data["trusted_certificate"],
                )
                messages.success(request, _("Printer %(name)s added.") % {"name": printer.name})
                return redirect("portal:printer", printer.pk)
        except PrinterError as error:
            problem = refusal_to_form(form, error)
    return render(
        request, "portal/printer_new.html", {"form": form, "probed": probed, "problem": problem}
    )


@requires(MANAGE_PRINTERS)
def printer_import(request: HttpRequest) -> HttpResponse:
    form = CupsImportForm(request.POST or None)
    report = None
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            report = printer_import_cups(
                form.cleaned_data["server_uri"],
                rule_file=form.cleaned_data["rule_file"],
                # Empty keeps the certificate the server's queues have.
                trusted_certificate=form.cleaned_data["trusted_certificate"] or None,
            )
        except PrinterError as error:
            problem = refusal_to_form(form, error, {PrinterError.ADDRESS: "server_uri"})
    return render(
        request, "portal/printer_import.html", {"form": form, "report": report, "problem": problem}
    )


@requires(MANAGE_PRINTERS)
def printer_edit(request: HttpRequest, printer_id: int) -> HttpResponse:
    printer = get_object_or_404(Printer.objects.select_related("rule_file"), pk=printer_id)
    initial = {
        "location": printer.location,
        "used_by": (
            PrinterEditForm.GROUPS if printer.restricted_to_groups else PrinterEditForm.EVERYONE
        ),
        "allowed_groups": list(printer.allowed_groups.all()),
        "rule_file": printer.rule_file,
        "enabled": printer.enabled,
        "trusted_certificate": printer.trusted_certificate,
    }
    prices_initial = [
        {
            "media_size": row.media,
            "color": row.color,
            "media_source": row.media_source,
            "one_sided": row.one_sided,
            "two_sided": row.two_sided,
        }
        for row in printer.side_prices.all()
    ]
    posted = request.method == "POST"
    form = PrinterEditForm(request.POST if posted else None, initial=initial)
    prices = SidePriceFormSet(
        request.POST if posted else None, initial=prices_initial, prefix="prices"
    )
    problem = ""
    if posted and form.is_valid() and prices.is_valid():
        # The price forms of the rows given, in their order: a refusal names a row by it.
        row_forms = [
            price_form
            for price_form, row in zip(prices.forms, prices.cleaned_data, strict=True)
            if row and not row.get("DELETE")
        ]
        rows = [
            SidePriceRow(
                media=row["media_size"],
                color=row["color"],
                media_source=row["media_source"],
                one_sided=row["one_sided"],
                two_sided=row["two_sided"],
            )
            for row in (price_form.cleaned_data for price_form in row_forms)
        ]
        try:
            printer_update(
                printer.pk,
                location=form.cleaned_data["location"],
                allowed_groups=form.groups_allowed(),
                rule_file=form.cleaned_data["rule_file"],
                enabled=form.cleaned_data["enabled"],
                side_prices=rows,
                trusted_certificate=form.cleaned_data["trusted_certificate"],
            )
        except PrinterError as error:
            if error.row is None:
                problem = refusal_to_form(form, error)
            else:
                problem = refusal_to_form(row_forms[error.row], error, PRICE_ROW_FIELDS)
        else:
            messages.success(request, _("Printer %(name)s saved.") % {"name": printer.name})
            return redirect("portal:printer", printer.pk)
    return render(
        request,
        "portal/printer_edit.html",
        {
            "printer": printer,
            "form": form,
            "prices": prices,
            "problem": problem,
            "capabilities": capability_rows(printer.capabilities),
        },
    )


@require_POST
@requires(MANAGE_PRINTERS)
def printer_disable(request: HttpRequest, printer_id: int) -> HttpResponse:
    printer = disable_printer(get_object_or_404(Printer, pk=printer_id).pk)
    messages.success(
        request,
        _(
            "Printer %(name)s is disabled: nobody can release to it, and jobs released to it "
            "that it has not accepted yet are not sent (they fail and are refunded)."
        )
        % {"name": printer.name},
    )
    return redirect("portal:printers")


@require_POST
@requires(MANAGE_PRINTERS)
def printer_check(request: HttpRequest, printer_id: int) -> HttpResponse:
    printer = printer_refresh(get_object_or_404(Printer, pk=printer_id).pk)
    messages.info(
        request,
        _("Printer %(name)s is %(state)s.")
        % {"name": printer.name, "state": printer.get_state_display().lower()},
    )
    return redirect("portal:printer", printer.pk)


# ------------------------------------------------------------------------- printer groups


@requires(MANAGE_PRINTERS)
def printer_groups(request: HttpRequest) -> HttpResponse:
    """The follow-me groups with their printers, and a form to make one."""
    form = PrinterGroupForm(request.POST if request.method == "POST" else None)
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            group = printer_group_create(form.cleaned_data["name"], form.cleaned_data["printers"])
        except PrinterError as error:
            problem = refusal_to_form(form, error)
        else:
            messages.success(request, _("Printer group %(name)s made.") % {"name": group.name})
            return redirect("portal:printer_groups")
    groups = PrinterGroup.objects.prefetch_related("printers").order_by("name")
    return render(
        request,
        "portal/printer_groups.html",
        {"groups": groups, "form": form, "problem": problem},
    )


@requires(MANAGE_PRINTERS)
def printer_group(request: HttpRequest, group_id: int) -> HttpResponse:
    """Change which printers a group has."""
    group = get_object_or_404(PrinterGroup, pk=group_id)
    form = PrinterGroupPrintersForm(
        request.POST if request.method == "POST" else None,
        initial={"printers": list(group.printers.all())},
    )
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            printer_group_printers_set(group.pk, form.cleaned_data["printers"])
        except PrinterError as error:
            problem = refusal_to_form(form, error)
        else:
            messages.success(request, _("Printer group %(name)s saved.") % {"name": group.name})
            return redirect("portal:printer_groups")
    return render(
        request, "portal/printer_group.html", {"group": group, "form": form, "problem": problem}
    )


@require_POST
@requires(MANAGE_PRINTERS)
def printer_group_remove(request: HttpRequest, group_id: int) -> HttpResponse:
    group = printer_group_delete(get_object_or_404(PrinterGroup, pk=group_id).pk)
    messages.success(
        request,
        _("Printer group %(name)s removed; its printers stay.") % {"name": group.name},
    )
    return redirect("portal:printer_groups")
