"""The report form: period, grouping and filters; and the scheduled report form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.forms import FirstErrorFocus
from apps.reports.choices import Grouping
from apps.reports.models import ScheduledReport, scheduled_report_twin_key
from apps.reports.selectors import ReportError, ReportRequest, report_request
from apps.reports.services import scheduled_report_twin_message


class ReportForm(FirstErrorFocus, forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    grouping = forms.ChoiceField(label=_("Group by"), choices=Grouping.choices)
    user = forms.CharField(label=_("User"), required=False)
    group = forms.CharField(label=_("Group"), required=False)
    account = forms.CharField(label=_("Account"), required=False)
    printer = forms.CharField(label=_("Printer"), required=False)

    @classmethod
    def from_query(cls, query: Any) -> ReportForm:
        """Bound to the query string, or to this month so far when it is empty."""
        if not query.get("start"):
            today = timezone.localdate()
            query = {"start": today.replace(day=1), "end": today, "grouping": Grouping.USER}
        return cls(query)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            data["request"] = report_request(
                data["start"],
                data["end"],
                data["grouping"],
                user=data["user"],
                group=data["group"],
                account=data["account"],
                printer=data["printer"],
            )
        except ReportError as error:
            raise forms.ValidationError(str(error)) from None
        return data

    @property
    def request(self) -> ReportRequest:
        request: ReportRequest = self.cleaned_data["request"]
        return request


FILTERS = ("user", "group", "account", "printer")


class ScheduledReportForm(FirstErrorFocus, forms.ModelForm):  # type: ignore[type-arg]
    """A scheduled report; the optional filters are checked as a report request would be."""

    user = forms.CharField(label=_("Only user"), required=False)
    group = forms.CharField(label=_("Only group"), required=False)
    account = forms.CharField(label=_("Only account"), required=False)
    printer = forms.CharField(label=_("Only printer"), required=False)

    class Meta:
        model = ScheduledReport
        fields = ("name", "period", "grouping", "format", "recipients")
        widgets = {"recipients": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Editing: the filters saved (those the form has a field for) fill their fields.
        saved = self.instance.filters
        if isinstance(saved, dict):
            self.initial.update({name: saved[name] for name in FILTERS if name in saved})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        filters = filters_checked({name: data.get(name, "") for name in FILTERS}, data["grouping"])
        # A Save clicked twice made two, and every period was e-mailed twice.
        twin_refuse(self.instance, data, filters)
        self.instance.filters = filters
        return data

    def clean_recipients(self) -> str:
        return recipients_checked(self.cleaned_data["recipients"])


def filters_checked(filters: Any, grouping: str) -> dict[str, str]:
    """The filters of a scheduled report, the empty ones left out, each naming someone or
    something that exists, as a report request checks them (the portal's and the admin's
    forms): a filter that names nobody would make the report fail every period."""
    if not isinstance(filters, dict) or any(
        name not in FILTERS or not isinstance(value, str) for name, value in filters.items()
    ):
        raise forms.ValidationError(
            _('Filters are written as {"user": "name"}, with the keys %(keys)s, each a name.')
            % {"keys": ", ".join(FILTERS)}
        )
    named = {name: value.strip() for name, value in filters.items() if value.strip()}
    today = timezone.localdate()
    try:
        report_request(today, today, grouping, **named)
    except ReportError as error:
        raise forms.ValidationError(str(error)) from None
    return named


def twin_refuse(report: ScheduledReport, data: dict[str, Any], filters: Any) -> None:
    """Refuse, in the reader's language, a scheduled report the same in every way as another
    (the portal's and the admin's forms): the database's unique twin key would refuse it
    anyway, and the admin showed that as a server error."""
    key = scheduled_report_twin_key(
        data["name"], data["period"], data["grouping"], data["format"], data["recipients"], filters
    )
    twin = ScheduledReport.objects.filter(twin_key=key).exclude(pk=report.pk).first()
    if twin is not None:
        raise forms.ValidationError(scheduled_report_twin_message(twin.name))


def recipients_checked(text: str) -> str:
    """The recipients one a line, each an e-mail address (the portal's and the admin's forms
    refuse the same, in the reader's language)."""
    addresses = [line.strip() for line in text.splitlines() if line.strip()]
    if not addresses:
        raise forms.ValidationError(_("Give at least one e-mail address."))
    for address in addresses:
        try:
            validate_email(address)
        except forms.ValidationError:
            raise forms.ValidationError(
                _("“%(address)s” is not an e-mail address: write one address a line.")
                % {"address": address}
            ) from None
    return "\n".join(addresses)


class ScheduledReportAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """The admin's scheduled report form: recipients, filters and twins checked as the portal
    checks them (the admin took any text, and the report was then sent to nobody, refused by
    the server or failed every period for a filter naming nobody)."""

    class Meta:
        model = ScheduledReport
        fields = ("name", "period", "grouping", "format", "recipients", "filters", "is_active",
                  "language", "active_since", "created_by")  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            data["filters"] = filters_checked(data["filters"], data["grouping"])
        except forms.ValidationError as error:
            self.add_error("filters", error)
            return data
        twin_refuse(self.instance, data, data["filters"])
        return data

    def clean_recipients(self) -> str:
        return recipients_checked(self.cleaned_data["recipients"])
