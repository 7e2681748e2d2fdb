from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from apps.printers.choices import PrinterKind, PrinterState

MONEY_DIGITS = 12
PRICE_DECIMALS = 4


class Printer(models.Model):
    """A proxy printer: a real printer or CUPS queue that released jobs are sent to."""

    # Any name CUPS gives a queue (services.validate_printer_name), not only a slug.
    name = models.CharField(_("name"), max_length=64, unique=True)
    uri = models.CharField(_("URI"), max_length=500)
    kind = models.CharField(_("kind"), max_length=8, choices=PrinterKind.choices)
    location = models.CharField(_("location"), max_length=200, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    restricted_to_groups = models.BooleanField(
        _("only the groups allowed"),
        default=False,
        help_text=_(
            "Only members of the groups allowed may use it; with none left (deleted), nobody "
            "but superusers. Off: everyone with the Staff permission."
        ),
    )
    allowed_groups = models.ManyToManyField(
        Group,
        verbose_name=_("groups allowed"),
        blank=True,
        help_text=_("The groups that may use it when it is only for the groups allowed."),
    )
    rule_file = models.ForeignKey(
        "rules.RuleFile",
        verbose_name=_("rule file"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="printers",
    )
    trusted_certificate = models.TextField(
        _("trusted certificate (PEM)"),
        blank=True,
        help_text=_("For ipps:// printers with a self-signed certificate."),
    )
    capabilities = models.JSONField(_("capabilities"), default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=PrinterState.choices, default=PrinterState.UNKNOWN
    )
    state_reasons = models.JSONField(_("state reasons"), default=list, blank=True)
    state_message = models.CharField(_("state message"), max_length=500, blank=True)
    last_contact = models.DateTimeField(_("last contact"), null=True, blank=True)
    cups_server = models.CharField(
        _("CUPS server"),
        max_length=300,
        blank=True,
        help_text=_("The CUPS server this queue was imported from; empty when added by hand."),
    )
    gone_from_cups_server = models.BooleanField(
        _("gone from its CUPS server"),
        default=False,
        help_text=_(
            "A CUPS sync found its queue no longer on its CUPS server: nobody can release to "
            "it. A later sync that finds it again clears this."
        ),
    )
    disabled_by_cups_sync = models.BooleanField(
        _("disabled by a CUPS sync"),
        default=False,
        help_text=_(
            "Disabled by a CUPS sync because the queue was gone; a later sync that finds it "
            "again enables it. A printer an administrator disabled stays disabled."
        ),
    )

    class Meta:
        ordering = ("name",)
        verbose_name = _("printer")
        constraints = [
            # CUPS takes "Hall" and "hall" for one queue, and so do users typing `lp -d`.
            models.UniqueConstraint(
                Lower("name"),
                name="printer_name_unique_ignoring_case",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PrinterGroup(models.Model):
    """Printers that can stand in for each other, for follow-me release."""

    name = models.SlugField(_("name"), max_length=64, unique=True)
    printers = models.ManyToManyField(Printer, verbose_name=_("printers"), related_name="groups")

    class Meta:
        ordering = ("name",)
        verbose_name = _("printer group")
        constraints = [
            # Groups share the printers' namespace (`lp -d NAME`), where case does not count.
            models.UniqueConstraint(
                Lower("name"),
                name="printer_group_name_unique_ignoring_case",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SidePrice(models.Model):
    """Per-side prices for printers whose rule file sets no media price (spec §4)."""

    printer = models.ForeignKey(
        Printer, verbose_name=_("printer"), on_delete=models.CASCADE, related_name="side_prices"
    )
    media = models.CharField(_("media size"), max_length=100, help_text=_("e.g. iso_a4_210x297mm"))
    color = models.BooleanField(_("colour"))
    media_source = models.CharField(
        _("tray"), max_length=100, blank=True, help_text=_("Empty: every tray.")
    )
    one_sided = models.DecimalField(
        _("one-sided side"), max_digits=MONEY_DIGITS, decimal_places=PRICE_DECIMALS
    )
    two_sided = models.DecimalField(
        _("two-sided side"), max_digits=MONEY_DIGITS, decimal_places=PRICE_DECIMALS
    )

    class Meta:
        ordering = ("printer", "media", "color", "media_source")
        verbose_name = _("side price")
        constraints = [
            models.UniqueConstraint(
                fields=("printer", "media", "color", "media_source"), name="side_price_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(one_sided__gte=Decimal(0), two_sided__gte=Decimal(0)),
                name="side_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        colour = "colour" if self.color else "grey"
        tray = f" ({self.media_source})" if self.media_source else ""
        return f"{self.printer}: {self.media} {colour}{tray}: {self.one_sided}/{self.two_sided}"
