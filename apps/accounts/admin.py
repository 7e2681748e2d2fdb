"""Admin: users, accounts (money read-only: it moves through services), the ledger (read-only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from apps.accounts.allowances import (
    AllowanceTerms,
    allowance_change,
    allowance_create,
    allowance_end,
    allowance_refuse_a_second_active,
)
from apps.accounts.choices import AccountKind, EntryKind
from apps.accounts.errors import AccountError
from apps.accounts.models import Account, Allowance, AllowanceGrant, LedgerEntry, User
from apps.accounts.roles import MANAGE_ACCOUNTS, permission_name
from apps.accounts.services import shared_account_name_checked
from apps.core.admin import ReadOnlyAdmin

admin.site.register(User, UserAdmin)

MEMBERSHIP_CHANGES_SHOWN = 50


class AccountAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """A shared account's name obeys the rule the services apply (the database's constraints
    would otherwise refuse it with a server error, or not at all for a ':')."""

    class Meta:
        model = Account
        fields = ("name", "description")

    def clean_name(self) -> str:
        try:
            return shared_account_name_checked(
                self.cleaned_data["name"], account_id=self.instance.pk
            )
        except AccountError as error:
            raise forms.ValidationError(str(error)) from None


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Names and descriptions are edited here; balances, credit limits and members change only
    through the portal, the `account` command and services, so that every change is a ledger
    row. The latest membership changes are shown with who made them."""

    form = AccountAdminForm
    list_display = ("__str__", "kind", "balance", "credit_limit", "currency")
    list_filter = ("kind",)
    search_fields = ("name", "owner__username")
    readonly_fields = (
        "kind",
        "owner",
        "balance",
        "credit_limit",
        "currency",
        "created",
        "member_users",
        "member_groups",
        "membership_changes",
    )

    @admin.display(description=_("membership changes"))
    def membership_changes(self, account: Account) -> str:
        entries = account.entries.filter(kind=EntryKind.MEMBERS).select_related("user")
        return (
            format_html_join(
                "\n",
                "<div>{} {}: {}</div>",
                (
                    (
                        timezone.localtime(entry.created).strftime("%Y-%m-%d %H:%M"),
                        entry.user.username if entry.user else "system",
                        entry.reason_shown,
                    )
                    for entry in entries[:MEMBERSHIP_CHANGES_SHOWN]
                ),
            )
            or "—"
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A personal account is named by its owner's username; it has no name of its own.
        if obj is not None and obj.kind == AccountKind.PERSONAL:
            return (*self.readonly_fields, "name")
        return self.readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Account, form: Any, change: bool) -> None:
        # Only what the form edits: a full save would write back the balance and credit limit
        # read when the form opened, undoing any charge or deposit made meanwhile.
        obj.save(update_fields=["name", "description"])


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("created", "account", "kind", "amount", "balance_after", "job_id", "user")
    list_filter = ("kind",)
    search_fields = ("reason", "account__name", "account__owner__username")
    date_hierarchy = "created"


class AllowanceAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """A second active allowance of a group and period is refused as the portal refuses it, in
    the reader's language and under the group's lock (the admin's whole request is one
    transaction, so the lock holds until the allowance is saved): two saved at the same moment
    cannot both pass."""

    class Meta:
        model = Allowance
        fields = ("group", "amount", "period", "cap", "is_active")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors or not data.get("is_active"):
            return data
        terms = AllowanceTerms(
            group=data["group"], amount=data["amount"], period=data["period"], cap=data["cap"]
        )
        try:
            allowance_refuse_a_second_active(terms, allowance_id=self.instance.pk)
        except AccountError as error:
            raise forms.ValidationError(str(error)) from None
        return data


@admin.register(Allowance)
class AllowanceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Allowances are created and changed through the services, as in the portal: checked,
    locked and recorded with who did it."""

    form = AllowanceAdminForm
    list_display = ("group", "amount", "period", "cap", "is_active")
    list_filter = ("period", "is_active")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and _manages_accounts(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and _manages_accounts(request)

    def save_model(self, request: HttpRequest, obj: Allowance, form: Any, change: bool) -> None:
        actor = request.user
        assert isinstance(actor, User)  # the admin lets only logged-in staff in
        terms = AllowanceTerms(group=obj.group, amount=obj.amount, period=obj.period, cap=obj.cap)
        if change:
            saved = allowance_change(obj.pk, terms, actor=actor, is_active=obj.is_active)
        else:
            saved = allowance_create(terms, actor=actor)
            if not obj.is_active:
                saved = allowance_end(saved.pk, actor=actor)
        obj.pk, obj.created = saved.pk, saved.created


def _manages_accounts(request: HttpRequest) -> bool:
    """The services change allowances only for those who manage accounts."""
    return request.user.has_perm(permission_name(MANAGE_ACCOUNTS))


@admin.register(AllowanceGrant)
class AllowanceGrantAdmin(ReadOnlyAdmin):
    list_display = ("created", "allowance", "account", "period_key", "amount")
