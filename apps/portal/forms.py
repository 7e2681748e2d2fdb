"""Forms of the portal. They check input and name fields; the services decide."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from apps.accounts.choices import AllowancePeriod
from apps.accounts.errors import AccountError, AmountError
from apps.accounts.models import Account, User, allowance_whole_digits
from apps.accounts.money import MAX_DIGITS, format_money_for_people, parse_amount
from apps.accounts.roles import ROLES, group_label
from apps.accounts.services import username_check
from apps.core.forms import FirstErrorFocus
from apps.jobs.release import MAX_COPIES
from apps.portal.option_labels import attribute_label, value_label
from apps.portal.selectors import FollowMeGroup
from apps.printers.models import Printer
from printmgmt.digits import whole_number
from printmgmt.ppde import OfferedOption

OPTION_PREFIX = "opt."
DOCUMENT_TYPES = (
    ".pdf,.ps,.txt,.jpg,.jpeg,.png,"
    "application/pdf,application/postscript,text/plain,image/jpeg,image/png"
)


if TYPE_CHECKING:
    _GroupField = forms.ModelChoiceField[Group]
    _GroupsField = forms.ModelMultipleChoiceField[Group]
else:  # Django's form fields take no type parameters at run time.
    _GroupField = forms.ModelChoiceField
    _GroupsField = forms.ModelMultipleChoiceField


class GroupChoiceField(_GroupField):
    """A user group to choose, the roles named in the page's language."""

    def label_from_instance(self, obj: Group) -> str:
        return group_label(obj.name)


class GroupsChoiceField(_GroupsField):
    """User groups to tick, the roles named in the page's language."""

    def label_from_instance(self, obj: Group) -> str:
        return group_label(obj.name)


class PortalForm(FirstErrorFocus, forms.Form):
    """Labels read as the words alone ("Printer", not "Printer:"); the first wrong field has
    the focus as the page opens."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": DOCUMENT_TYPES}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if not data and self.required:
            raise forms.ValidationError(_("Choose a document to upload."), code="required")
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class UploadForm(PortalForm):
    # An empty file is refused by the upload service, with its name. Django describes the
    # field by its help text and, when refused, its errors.
    document = MultipleFileField(label=_("Document"), allow_empty_file=True)
    together = forms.BooleanField(
        label=_("Hold the files as one job"),
        required=False,
        help_text=_(
            "With two or more files: one job of several documents, each printed on sheets of "
            "its own where the printer can."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["document"].help_text = _(
            "PDF, PostScript, JPEG, PNG or plain text, up to %(mb)s MB each; "
            "choose or drop one or more files."
        ) % {"mb": settings.MAX_DOCUMENT_MB}


def printer_label(printer: Printer) -> str:
    where = f" — {printer.location}" if printer.location else ""
    return f"{printer.name}{where} ({printer.get_state_display()})"


def printer_field_choices(
    printers: Sequence[Printer], groups: Sequence[FollowMeGroup]
) -> list[Any]:
    """The printers, then the follow-me groups (the first of its printers that can print the
    job as asked takes it)."""
    choices: list[Any] = [(str(printer.pk), printer_label(printer)) for printer in printers]
    if groups:
        follow_me = [
            (
                group.choice,
                _("%(group)s: any of %(printers)s")
                % {
                    "group": group.group.name,
                    "printers": ", ".join(p.name for p in group.printers),
                },
            )
            for group in groups
        ]
        choices.append((_("Follow-me"), follow_me))
    return choices


def account_label(account: Account) -> str:
    name = _("Personal account") if account.owner_id else account.name
    return f"{name} — {format_money_for_people(account.balance)} {account.currency}"


class ReleaseForm(PortalForm):
    """Printer, copies, pages, account, and one field per option the printer offers."""

    printer = forms.ChoiceField(label=_("Printer"))
    copies = forms.IntegerField(label=_("Copies"), min_value=1, max_value=MAX_COPIES, initial=1)
    pages = forms.CharField(
        label=_("Pages"),
        required=False,
        max_length=200,
        help_text=_("Empty for all pages, or e.g. 1-3,5; or tick pages on the thumbnails."),
    )
    account = forms.ChoiceField(label=_("Account to charge"))
    expected_price = forms.DecimalField(
        required=False, widget=forms.HiddenInput, max_digits=MAX_DIGITS
    )

    def __init__(
        self,
        *args: Any,
        printers: Sequence[Printer],
        groups: Sequence[FollowMeGroup],
        accounts: Sequence[Account],
        offered: Sequence[OfferedOption],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.offered = tuple(offered)
        self.fields["printer"].choices = printer_field_choices(printers, groups)  # type: ignore[attr-defined]
        self.fields["account"].choices = [  # type: ignore[attr-defined]
            (str(account.pk), account_label(account)) for account in accounts
        ]
        either = _("The printer's default")  # follow-me: each printer's own
        for option in self.offered:
            self.fields[OPTION_PREFIX + option.attribute] = forms.ChoiceField(
                label=attribute_label(option.attribute),
                choices=[
                    (c.value, value_label(option.attribute, c.value) if c.value else either)
                    for c in option.choices
                ],
                initial=option.default,
                required=False,
            )

    def option_fields(self) -> list[forms.BoundField]:
        return [self[OPTION_PREFIX + option.attribute] for option in self.offered]

    def chosen_options(self) -> dict[str, str]:
        """The options as the user chose them (after is_valid)."""
        chosen = {}
        for option in self.offered:
            value = self.cleaned_data.get(OPTION_PREFIX + option.attribute)
            if value:
                chosen[option.attribute] = value
        return chosen


class ReleaseAllForm(PortalForm):
    printer = forms.ChoiceField(label=_("Printer"))
    account = forms.ChoiceField(label=_("Account to charge"))
    # The held jobs the page counted: one that arrives before the click was not among them.
    jobs = forms.CharField(required=False, widget=forms.HiddenInput)
    # The total the page showed (the template writes the current one, not what was posted).
    expected_total = forms.DecimalField(
        required=False, widget=forms.HiddenInput, max_digits=MAX_DIGITS
    )

    def job_ids(self) -> list[int] | None:
        """The jobs the page showed (after is_valid); None from a form that named none."""
        text = self.cleaned_data["jobs"]
        if not text:
            return None
        return [number for part in text.split(",") if (number := whole_number(part)) is not None]

    def __init__(
        self,
        *args: Any,
        printers: Sequence[Printer],
        accounts: Sequence[Account],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["printer"].choices = printer_field_choices(printers, ())  # type: ignore[attr-defined]
        self.fields["account"].choices = [  # type: ignore[attr-defined]
            (str(account.pk), account_label(account)) for account in accounts
        ]


# ---------------------------------------------------------------- rules


class RuleFileNewForm(PortalForm):
    name = forms.CharField(
        label=_("Name"),
        max_length=120,
        error_messages={"required": _("Give the new rule file a name.")},
    )


class RuleTextForm(PortalForm):
    text = forms.CharField(
        label=_("Rules"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "code"}),
    )
    comment = forms.CharField(label=_("Comment"), max_length=200, required=False)


class ExplainForm(PortalForm):
    printer = forms.ModelChoiceField(
        label=_("Printer"),
        queryset=Printer.objects.order_by("name"),
        required=False,
        help_text=_("Its capabilities and price table; none: a bare PPD printer."),
    )
    pages = forms.IntegerField(label=_("Pages"), min_value=1, max_value=100000, initial=10)
    copies = forms.IntegerField(label=_("Copies"), min_value=1, max_value=MAX_COPIES, initial=1)
    options = forms.CharField(
        label=_("Job options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "code"}),
        help_text=_("One attribute=value per line, e.g. sides=two-sided-long-edge."),
    )

    def clean_options(self) -> dict[str, str]:
        options: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["options"].splitlines(), start=1):
            if not line.strip():
                continue
            name, equals, value = line.partition("=")
            if not equals or not name.strip() or not value.strip():
                raise forms.ValidationError(
                    _("line %(number)s is not attribute=value: %(line)s"),
                    params={"number": number, "line": line},
                )
            options[name.strip()] = value.strip()
        return options


# ---------------------------------------------------------------- accounts and users


class OnceForm(PortalForm):
    """A form whose submission moves money: it carries a random key made when it is shown,
    so that submitting it twice (a double click) moves the money once."""

    submission = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["submission"] = secrets.token_hex(16)


class AmountForm(OnceForm):
    amount = forms.CharField(label=_("Amount"), max_length=30)
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class AdjustmentForm(OnceForm):
    amount = forms.CharField(
        label=_("Amount"), max_length=30, help_text=_("Negative to take money away, e.g. -2.50.")
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)


class SharedAccountForm(PortalForm):
    name = forms.CharField(label=_("Name"), max_length=150)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea)
    credit_limit = forms.CharField(label=_("Credit limit"), max_length=30, initial="0")


class MembersForm(PortalForm):
    usernames = forms.CharField(
        label=_("Users"), required=False, help_text=_("Usernames separated by commas.")
    )
    groups = GroupsChoiceField(
        label=_("Groups"),
        queryset=Group.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class MembersRemoveForm(PortalForm):
    """Ticks among the account's current members: who may no longer charge it."""

    users = forms.ModelMultipleChoiceField(
        label=_("Users"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    groups = GroupsChoiceField(
        label=_("Groups"),
        queryset=Group.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = account.member_users.order_by("username")  # type: ignore[attr-defined]
        self.fields["groups"].queryset = account.member_groups.order_by("name")  # type: ignore[attr-defined]


class UserCreateForm(PortalForm):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    role = forms.ChoiceField(
        label=_("Role"), choices=[(role.group_name, role.label) for role in ROLES]
    )

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        try:
            username_check(username)
        except AccountError as error:
            raise forms.ValidationError(str(error), code="username") from None
        return username


class UserEditForm(PortalForm):
    roles = forms.MultipleChoiceField(
        label=_("Roles"),
        choices=[(role.group_name, role.label) for role in ROLES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Other groups the user is in stay as they are."),
    )
    is_active = forms.BooleanField(
        label=_("Active"), required=False, help_text=_("Inactive users cannot log in or print.")
    )


class AllowanceForm(PortalForm):
    group = GroupChoiceField(
        label=_("Group"),
        queryset=Group.objects.order_by("name"),
        help_text=_("Every active member gets it on their personal account."),
    )
    amount = forms.CharField(label=_("Amount"), max_length=30, help_text=_("e.g. 5.00"))
    period = forms.ChoiceField(label=_("Period"), choices=AllowancePeriod.choices)
    cap = forms.CharField(
        label=_("Cap"),
        max_length=30,
        required=False,
        help_text=_("The balance an allowance never takes an account beyond; empty for none."),
    )

    def clean_amount(self) -> Decimal:
        amount = self._amount("amount", allowance_whole_digits())
        if amount is None or amount <= 0:
            raise forms.ValidationError(_("Enter an amount more than zero."), code="not_positive")
        return amount

    def clean_cap(self) -> Decimal | None:
        return self._amount("cap", None)

    def _amount(self, field: str, whole_digits: int | None) -> Decimal | None:
        text = self.cleaned_data[field].strip()
        if not text:
            return None
        try:
            return parse_amount(
                text,
                label=str(self.fields[field].label),
                whole_digits=whole_digits,
                localized=True,
            )
        except AmountError as error:
            raise forms.ValidationError(str(error), code="amount") from None


class AllowanceEditForm(AllowanceForm):
    is_active = forms.BooleanField(
        label=_("Active"), required=False, help_text=_("Untick to stop granting it.")
    )


class DefaultPrinterForm(PortalForm):
    printer = forms.ModelChoiceField(
        label=_("Default printer"),
        queryset=Printer.objects.none(),
        required=False,
        empty_label=_("None"),
        help_text=_("Where a job released from your device (Release-Job) is printed."),
    )

    def __init__(self, *args: Any, printers: QuerySet[Printer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["printer"].queryset = printers  # type: ignore[attr-defined]
