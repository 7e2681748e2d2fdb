from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RuleFile(models.Model):
    """A named `.ppde` rule file (usually one per printer model) with its version history.

    Printers point at the rule file, not at a version: activating a new version takes effect
    for every printer using it at once, with no synchronisation step.
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    active_version = models.ForeignKey(
        "RuleFileVersion",
        verbose_name=_("active version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("rule file")

    def __str__(self) -> str:
        return self.name


class RuleFileVersion(models.Model):
    """One saved text of a rule file. Versions are never changed once saved."""

    rule_file = models.ForeignKey(
        RuleFile, verbose_name=_("rule file"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    text = models.TextField(_("rules"))
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    warning_count = models.PositiveIntegerField(_("warnings"), default=0)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    comment = models.CharField(_("comment"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("saved"), auto_now_add=True)
    #: When it was last activated (the list of rule files shows it); every activation is kept
    #: as a RuleFileActivation.
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)

    class Meta:
        ordering = ("rule_file", "-number")
        verbose_name = _("rule file version")
        constraints = [
            models.UniqueConstraint(fields=("rule_file", "number"), name="rule_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_file.name} v{self.number}"

    @property
    def is_clean(self) -> bool:
        return self.error_count == 0


class RuleFileActivation(models.Model):
    """One activation of a version: who made it serve, when, and which version it replaced.

    Activating an older version than the one it replaces is a rollback.
    """

    rule_file = models.ForeignKey(
        RuleFile,
        verbose_name=_("rule file"),
        on_delete=models.CASCADE,
        related_name="activations",
    )
    version = models.ForeignKey(
        RuleFileVersion,
        verbose_name=_("version"),
        on_delete=models.CASCADE,
        related_name="activations",
    )
    replaced = models.ForeignKey(
        RuleFileVersion,
        verbose_name=_("replaced version"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("activated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    activated_at = models.DateTimeField(_("activated"), default=timezone.now)

    class Meta:
        ordering = ("rule_file", "-activated_at", "-pk")
        verbose_name = _("rule file activation")

    def __str__(self) -> str:
        return f"{self.version} activated {self.activated_at:%Y-%m-%d %H:%M}"

    @property
    def is_rollback(self) -> bool:
        return self.replaced is not None and self.replaced.number > self.version.number
