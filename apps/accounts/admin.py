"""Admin: users, accounts (money read-only: it moves through services), the ledger (read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from apps.accounts.models import Account, Allowance, AllowanceGrant, LedgerEntry, User
from apps.core.admin import ReadOnlyAdmin

admin.site.register(User, UserAdmin)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Names, descriptions and members are edited here; balances and credit limits change only
    through the `account` command and services, so that every change is a ledger row."""

    list_display = ("__str__", "kind", "balance", "credit_limit", "currency")
    list_filter = ("kind",)
    search_fields = ("name", "owner__username")
    readonly_fields = ("kind", "owner", "balance", "credit_limit", "currency", "created")
    filter_horizontal = ("member_users", "member_groups")

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


@admin.register(Allowance)
class AllowanceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("group", "amount", "period", "cap", "is_active")
    list_filter = ("period", "is_active")


@admin.register(AllowanceGrant)
class AllowanceGrantAdmin(ReadOnlyAdmin):
    list_display = ("created", "allowance", "account", "period_key", "amount")
