"""Choices for accounts, ledger entries and allowances."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    PERSONAL = "personal", _("personal")
    SHARED = "shared", _("shared")


class EntryKind(models.TextChoices):
    """What a ledger row records. Amounts are signed: money in is positive, money out negative."""

    INITIAL = "initial", _("initial credit")
    DEPOSIT = "deposit", _("deposit")
    ADJUSTMENT = "adjustment", _("adjustment")
    CHARGE = "charge", _("charge")
    REFUND = "refund", _("refund")
    TRANSFER_OUT = "transfer_out", _("transfer out")
    TRANSFER_IN = "transfer_in", _("transfer in")
    ALLOWANCE = "allowance", _("allowance")
    # Credit-limit and membership changes move no money (amount 0) but are account changes,
    # so they are recorded: who made them, when, and what changed (in the reason).
    LIMIT = "limit", _("credit limit change")
    MEMBERS = "members", _("members change")


class AllowancePeriod(models.TextChoices):
    DAILY = "daily", _("daily")
    WEEKLY = "weekly", _("weekly")
    MONTHLY = "monthly", _("monthly")
