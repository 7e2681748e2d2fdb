from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.choices import AccountKind, AllowancePeriod, EntryKind
from apps.accounts.errors import AmountError
from apps.accounts.money import (
    MAX_DIGITS,
    STORED_DECIMALS,
    exact_money,
    max_whole_digits,
    money,
)
from apps.accounts.roles import group_label
from apps.core.translated import translated


class User(AbstractUser):
    """A person who prints, administers or reads reports.

    Our own model from day one, so that fields the product needs (default printer, printing
    token, department) can be added without the migration pain of swapping the user model.
    """

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ("username",)
        permissions = (
            ("release_own_jobs", _("Can print and release their own jobs")),
            ("manage_printers", _("Can manage printers")),
            ("manage_rules", _("Can manage rule files")),
            ("manage_users", _("Can manage users")),
            ("manage_accounts", _("Can manage accounts and move money")),
            ("view_reports", _("Can read usage reports")),
            ("view_money", _("Can read balances and ledgers")),
        )

    def __str__(self) -> str:
        return self.username

    @property
    def role_names(self) -> list[str]:
        """Names of the groups this user is in."""
        return sorted(group.name for group in self.groups.all())

    @property
    def role_labels(self) -> list[str]:
        """The groups this user is in as pages show them (roles in the page's language)."""
        return sorted(group_label(group.name) for group in self.groups.all())


def default_currency() -> str:
    """The site's currency when an account is opened (one currency per site)."""
    return str(settings.CURRENCY)


if TYPE_CHECKING:
    _DecimalField = models.DecimalField[Decimal | None, Decimal]
else:
    _DecimalField = models.DecimalField


class MoneyField(_DecimalField):
    """A Decimal amount: 18 digits with 4 after the point in the database, whatever the site's
    currency, so that changing CURRENCY_DECIMALS needs no migration. Values read back carry the
    currency's places (services never store more). Never a float."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["max_digits"] = MAX_DIGITS
        kwargs["decimal_places"] = STORED_DECIMALS
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_digits", None)
        kwargs.pop("decimal_places", None)
        return name, path, args, kwargs

    def from_db_value(self, value: Decimal | None, expression: Any, connection: Any) -> Any:
        if value is None:
            return value
        return exact_money(value)


class Account(models.Model):
    """Money that prints are charged to: one personal account per user, and shared accounts
    (departments, projects, cost centres) whose member users and groups may charge to them.

    `balance` is stored and changed only by apps.accounts.ledger, in the same transaction as
    the LedgerEntry that explains it; the database refuses a balance below minus the credit limit.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=AccountKind.choices)
    owner = models.OneToOneField(
        User,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="personal_account",
        help_text=_("The user of a personal account; empty for shared accounts."),
    )
    name = models.CharField(
        _("name"),
        max_length=150,
        blank=True,
        help_text=_("A shared account's name (unique); personal accounts use the username."),
    )
    description = models.TextField(_("description"), blank=True)
    balance = MoneyField(_("balance"), default=Decimal(0))
    credit_limit = MoneyField(
        _("credit limit"),
        default=Decimal(0),
        help_text=_("How far below zero the balance may go."),
    )
    currency = models.CharField(
        _("currency"), max_length=3, default=default_currency, editable=False
    )
    member_users = models.ManyToManyField(
        User, verbose_name=_("member users"), blank=True, related_name="shared_accounts"
    )
    member_groups = models.ManyToManyField(
        Group, verbose_name=_("member groups"), blank=True, related_name="shared_accounts"
    )
    created = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        # No ordering through owner: a join would stand in the way of SELECT ... FOR UPDATE.
        ordering = ("kind", "name", "pk")
        constraints = (
            models.CheckConstraint(
                condition=(
                    Q(kind=AccountKind.PERSONAL, owner__isnull=False)
                    | (Q(kind=AccountKind.SHARED, owner__isnull=True) & ~Q(name=""))
                ),
                name="account_personal_has_owner_shared_has_name",
            ),
            models.UniqueConstraint(
                Lower("name"),
                condition=Q(kind=AccountKind.SHARED),
                name="account_shared_name_unique",
                violation_error_message=_("A shared account with this name exists already."),
            ),
            models.CheckConstraint(
                condition=Q(credit_limit__gte=0), name="account_credit_limit_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(balance__gte=-F("credit_limit")),
                name="account_balance_within_credit_limit",
            ),
        )

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """How people and messages name the account."""
        if self.kind == AccountKind.PERSONAL and self.owner_id is not None:
            return f"personal account of {self.owner.username}"  # type: ignore[union-attr]
        return f"shared account {self.name}"

    @property
    def label_for_people(self) -> str:
        """The label in the language of the request, for messages shown to a user. `label`
        stays English: it is stored with usage records and written to logs."""
        if self.kind == AccountKind.PERSONAL and self.owner_id is not None:
            return gettext("personal account of %(user)s") % {
                "user": self.owner.username  # type: ignore[union-attr]
            }
        return gettext("shared account %(name)s") % {"name": self.name}

    @property
    def available(self) -> Decimal:
        """What may still be spent: the balance plus the credit limit."""
        return self.balance + self.credit_limit


class AppendOnlyError(Exception):
    """Code tried to change or delete a ledger row."""


class LedgerEntryQuerySet(models.QuerySet["LedgerEntry"]):
    """The ledger is append-only: bulk updates and deletes are refused here as in the database."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("ledger entries are never changed; record a new entry instead")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("ledger entries are never deleted; record a new entry instead")


class LedgerEntry(models.Model):
    """One movement of money on one account; rows are only ever added.

    `amount` is signed (money in positive, out negative) and `balance_after` is the account's
    balance once this row applied, so the balance is the sum of the account's amounts. A
    PostgreSQL (and SQLite) trigger refuses UPDATE and DELETE of rows.
    """

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="entries"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    amount = MoneyField(_("amount"))
    balance_after = MoneyField(_("balance after"))
    user = models.ForeignKey(
        User,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        help_text=_("Who made the movement; empty for the system (tasks, allowances)."),
    )
    reason = models.TextField(_("reason"), blank=True)
    reason_text = models.JSONField(
        _("reason to translate"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "The msgid and parameters of a reason the product wrote, shown in the reader's "
            "language. Empty for a reason a person typed, and for those written before it was "
            "kept."
        ),
    )
    job_id = models.BigIntegerField(
        _("print job"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_(
            "Id of the print job a charge or refund concerns. A plain integer until the jobs "
            "app exists; it becomes a foreign key to jobs.Job then."
        ),
    )
    idempotency_key = models.CharField(
        _("idempotency key"),
        max_length=64,
        blank=True,
        help_text=_(
            "Tells partial refunds of one job apart, and names the form submission of a "
            "deposit or adjustment; a retry with the same key is a no-op."
        ),
    )
    counter_account = models.ForeignKey(
        Account,
        verbose_name=_("other account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("For transfers: the account the money came from or went to."),
    )
    created = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ("-created", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=("job_id", "kind"),
                condition=Q(kind=EntryKind.CHARGE),
                name="ledger_one_charge_per_job",
            ),
            models.UniqueConstraint(
                fields=("job_id", "idempotency_key"),
                condition=Q(kind=EntryKind.REFUND),
                name="ledger_refund_once_per_job_and_key",
            ),
            models.UniqueConstraint(
                fields=("account", "kind", "idempotency_key"),
                condition=Q(kind__in=(EntryKind.DEPOSIT, EntryKind.ADJUSTMENT))
                & ~Q(idempotency_key=""),
                name="ledger_deposit_or_adjustment_once_per_submission",
            ),
            models.CheckConstraint(
                condition=(
                    ~Q(kind__in=(EntryKind.CHARGE, EntryKind.REFUND)) | Q(job_id__isnull=False)
                ),
                name="ledger_charge_and_refund_name_a_job",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.ADJUSTMENT) | ~Q(reason=""),
                name="ledger_adjustment_has_reason",
            ),
            models.CheckConstraint(
                condition=(
                    ~Q(kind__in=(EntryKind.CHARGE, EntryKind.TRANSFER_OUT)) | Q(amount__lte=0)
                )
                & (
                    ~Q(kind__in=(EntryKind.REFUND, EntryKind.TRANSFER_IN, EntryKind.INITIAL))
                    | Q(amount__gte=0)
                )
                & (~Q(kind__in=(EntryKind.LIMIT, EntryKind.MEMBERS)) | Q(amount=0)),
                name="ledger_amount_sign_matches_kind",
            ),
        )

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} on {self.account}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("ledger entries are never changed; record a new entry instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("ledger entries are never deleted; record a new entry instead")

    @property
    def reason_shown(self) -> str:
        """The reason in the active language when the product wrote it; as it was written
        when a person typed it, or it was written before its msgid was kept."""
        return translated(self.reason_text, self.reason)


def allowance_whole_digits() -> int:
    """An allowance grants 4 digits fewer before the point than a balance may have (9 for EUR),
    so an account takes at least 10,000 grants (27 years of a daily one) before its balance
    reaches the limit."""
    return max_whole_digits() - 4


class Allowance(models.Model):
    """Money added to the personal account of every member of a group, once per period.

    With a cap, an allowance only tops the balance up to the cap (never beyond, never down).
    """

    group = models.ForeignKey(
        Group, verbose_name=_("group"), on_delete=models.CASCADE, related_name="allowances"
    )
    amount = MoneyField(_("amount"))
    period = models.CharField(_("period"), max_length=16, choices=AllowancePeriod.choices)
    # A plain DecimalField of the same size: MoneyField is typed as never empty.
    cap = models.DecimalField(
        _("cap"),
        max_digits=MAX_DIGITS,
        decimal_places=STORED_DECIMALS,
        null=True,
        blank=True,
        help_text=_("The balance an allowance never takes an account beyond; empty for none."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("allowance")
        verbose_name_plural = _("allowances")
        ordering = ("group__name", "period")
        constraints = (
            models.CheckConstraint(condition=Q(amount__gt=0), name="allowance_amount_positive"),
            models.CheckConstraint(
                condition=Q(cap__isnull=True) | Q(cap__gte=0), name="allowance_cap_not_negative"
            ),
        )

    def __str__(self) -> str:
        return f"{self.amount} {self.get_period_display()} for {self.group}"

    def clean(self) -> None:
        """Amounts of the site's currency, as the admin form and services need them. (A second
        active allowance of the same group and period is refused by the services, under a lock:
        allowances.allowance_refuse_a_second_active.)"""
        errors = {}
        for field, whole_digits in (
            ("amount", allowance_whole_digits()),
            ("cap", max_whole_digits()),
        ):
            value = getattr(self, field)
            if value is None:
                continue
            try:
                money(value, label=field, whole_digits=whole_digits)
            except AmountError as error:
                errors[field] = str(error)
        if self.amount is not None and self.amount <= 0 and "amount" not in errors:
            errors["amount"] = gettext("amount %(amount)s must be more than zero.") % {
                "amount": self.amount
            }
        if errors:
            raise ValidationError(errors)


class AllowanceGrant(models.Model):
    """That an allowance was applied to an account for one period (e.g. "2026-W47").

    The unique constraint makes a duplicated beat tick, a retry or two workers count once. The
    grant exists also when the cap left nothing to add (then `entry` is empty).
    """

    allowance = models.ForeignKey(
        Allowance, verbose_name=_("allowance"), on_delete=models.PROTECT, related_name="grants"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="grants"
    )
    period_key = models.CharField(_("period"), max_length=16)
    amount = MoneyField(_("amount"))
    entry = models.OneToOneField(
        LedgerEntry,
        verbose_name=_("ledger entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grant",
    )
    created = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("allowance grant")
        verbose_name_plural = _("allowance grants")
        ordering = ("-created",)
        constraints = (
            models.UniqueConstraint(
                fields=("allowance", "account", "period_key"),
                name="allowance_grant_once_per_period",
            ),
        )

    def __str__(self) -> str:
        return f"{self.allowance} → {self.account} for {self.period_key}"
