from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PrintingProfile(models.Model):
    """How a user prints from devices: the printer Release-Job sends to, and a printing token.

    The token is a random secret a device can keep as its Basic-authentication password
    instead of the user's own; only its SHA-256 digest is stored (it has 256 bits of entropy,
    so a fast digest is as safe as a slow password hash and costs nothing per request).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="printing_profile",
    )
    default_printer = models.ForeignKey(
        "printers.Printer",
        verbose_name=_("default printer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Where Release-Job from a device sends the job."),
    )
    token_digest = models.CharField(
        _("printing token digest"), max_length=64, blank=True, db_index=True
    )
    token_created_at = models.DateTimeField(_("printing token created"), null=True, blank=True)

    class Meta:
        verbose_name = _("printing profile")

    def __str__(self) -> str:
        return f"printing profile of {self.user}"


class IppJob(models.Model):
    """A job as our IPP printer numbers it (its job-id), and the held job once its documents came.

    Create-Job makes a job before any document exists, and the held Job needs one; this row
    carries the job-id, name and options from Create-Job until Send-Document brings the data,
    and the documents received while more are to come (each a PDF under a hidden spool name).
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="ipp_jobs",
    )
    name = models.CharField(_("job name"), max_length=255)
    job = models.OneToOneField(
        "jobs.Job",
        verbose_name=_("held job"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="ipp_job",
    )
    options = models.JSONField(
        _("options"), default=dict, blank=True, help_text=_("Job template attributes sent.")
    )
    copies = models.PositiveIntegerField(_("copies"), default=1)
    page_ranges = models.CharField(_("pages to print"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    canceled_at = models.DateTimeField(
        _("canceled"), null=True, blank=True, help_text=_("Canceled before its document came.")
    )
    document_arriving_since = models.DateTimeField(
        _("document arriving since"),
        null=True,
        blank=True,
        help_text=_("When a Send-Document began to bring the document; the time-out waits."),
    )
    documents = models.JSONField(
        _("documents received"),
        default=list,
        blank=True,
        help_text=_("The documents received before the last one: name, spool file, pages."),
    )
    document_received_at = models.DateTimeField(
        _("document received"),
        null=True,
        blank=True,
        help_text=_("When the latest document was received; the time-out counts from it."),
    )
    refused_at = models.DateTimeField(
        _("document refused"),
        null=True,
        blank=True,
        help_text=_("Aborted because one of its documents was refused."),
    )
    refusal = models.CharField(_("why refused"), max_length=255, blank=True)

    class Meta:
        ordering = ("-id",)
        verbose_name = _("IPP job")
        indexes = [models.Index(fields=("owner", "id"), name="ippjob_owner")]

    def __str__(self) -> str:
        return f"IPP job {self.pk}: {self.name}"
