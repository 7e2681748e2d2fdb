"""Forms of the portal's printer pages: add, import, edit with the price table, follow-me
groups. They check input and name fields; the services decide."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from apps.portal.forms import GroupsChoiceField, PortalForm
from apps.printers.models import Printer
from apps.rules.models import RuleFile

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def trusted_certificate_field(help_text: StrOrPromise | None = None) -> forms.CharField:
    if help_text is None:
        help_text = _(
            "For an ipps:// printer with a self-signed certificate: paste that certificate "
            "(-----BEGIN CERTIFICATE----- …). Empty: the system's certificate authorities."
        )
    return forms.CharField(
        label=_("Trusted certificate (PEM)"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=help_text,
    )


class PrinterAddForm(PortalForm):
    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        help_text=_("As in CUPS: no spaces and none of / \\ ? ' \" # @, not starting with -."),
    )
    uri = forms.CharField(
        label=_("Printer URI"), max_length=500, help_text=_("ipp://host:631/ipp/print or ipps://…")
    )
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    rule_file = forms.ModelChoiceField(
        label=_("Rule file"), queryset=RuleFile.objects.order_by("name"), required=False
    )
    trusted_certificate = trusted_certificate_field()


class CupsImportForm(PortalForm):
    server_uri = forms.CharField(
        label=_("CUPS server URI"), max_length=500, help_text=_("e.g. ipp://cups.example.edu:631/")
    )
    rule_file = forms.ModelChoiceField(
        label=_("Rule file"), queryset=RuleFile.objects.order_by("name"), required=False
    )
    trusted_certificate = trusted_certificate_field(
        _(
            "For an ipps:// CUPS server with a self-signed certificate: paste that certificate "
            "(-----BEGIN CERTIFICATE----- …); its queues keep it. Empty: the one its queues "
            "have already, else the system's certificate authorities."
        )
    )


class PrinterEditForm(PortalForm):
    EVERYONE, GROUPS = "everyone", "groups"

    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    used_by = forms.ChoiceField(
        label=_("Who may use it"),
        choices=[
            (EVERYONE, _("Everyone with the Staff permission")),
            (GROUPS, _("Only the groups ticked (none ticked: nobody but superusers)")),
        ],
        widget=forms.RadioSelect,
    )
    allowed_groups = GroupsChoiceField(
        label=_("Groups allowed"),
        queryset=Group.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A group deleted later leaves the printer to the others, never to everyone."),
    )
    rule_file = forms.ModelChoiceField(
        label=_("Rule file"), queryset=RuleFile.objects.order_by("name"), required=False
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False)
    trusted_certificate = trusted_certificate_field()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("used_by") == self.EVERYONE and cleaned.get("allowed_groups"):
            self.add_error(
                "allowed_groups",
                _(
                    "Everyone may use it as chosen: untick the groups, or choose “Only the "
                    "groups ticked”."
                ),
            )
        return cleaned

    def groups_allowed(self) -> list[Group] | None:
        """The groups the printer is kept for; None when everyone may use it."""
        if self.cleaned_data["used_by"] == self.EVERYONE:
            return None
        return list(self.cleaned_data["allowed_groups"])


class SidePriceForm(PortalForm):
    media_size = forms.CharField(label=_("Media size"), max_length=100)
    color = forms.BooleanField(label=_("Colour"), required=False)
    media_source = forms.CharField(label=_("Tray"), max_length=100, required=False)
    # localize: typed and shown with the decimal mark of the page's language.
    one_sided = forms.DecimalField(
        label=_("One-sided side"),
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=4,
        localize=True,
    )
    two_sided = forms.DecimalField(
        label=_("Two-sided side"),
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=4,
        localize=True,
    )


SidePriceFormSet = forms.formset_factory(SidePriceForm, extra=1, can_delete=True)


def printers_field() -> forms.ModelMultipleChoiceField[Printer]:
    # Not required here: the service says a group needs a printer, in its own words.
    return forms.ModelMultipleChoiceField(
        label=_("Printers"),
        queryset=Printer.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "A job released to the group prints on the first of them the user may use that can "
            "print it (idle ones first)."
        ),
    )


class PrinterGroupForm(PortalForm):
    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        help_text=_("Letters, digits, - and _: what lp -d and the release page call it."),
    )
    printers = printers_field()


class PrinterGroupPrintersForm(PortalForm):
    printers = printers_field()
