from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from apps.core.translated import translated
from apps.jobs.choices import JobSource, JobState
from apps.jobs.counted_messages import as_counted
from printmgmt.translatable import Text

MONEY_DIGITS = 12


class Job(models.Model):
    """A document a user sent, held until released, then printed by the pipeline."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="print_jobs",
    )
    title = models.CharField(_("title"), max_length=255)
    source = models.CharField(_("source"), max_length=8, choices=JobSource.choices)
    document_name = models.CharField(
        _("stored document"), max_length=100, help_text=_("Generated file name in SPOOL_DIR.")
    )
    page_count = models.PositiveIntegerField(_("pages"))
    documents = models.JSONField(
        _("documents"),
        default=list,
        blank=True,
        help_text=_(
            "For a job of several documents, each one's name and pages, in order: the stored "
            "document holds their pages one after the other. Empty for a job of one document."
        ),
    )
    documents_printed_separately = models.BooleanField(
        _("documents printed separately"),
        default=False,
        help_text=_(
            "Whether the job's documents go to its printer as separate documents, each on "
            "sheets of its own: decided and priced at the release, and built so."
        ),
    )
    first_page_landscape = models.BooleanField(_("landscape"), default=False)
    first_page_rotation = models.PositiveSmallIntegerField(_("page rotation"), default=0)
    state = models.CharField(
        _("state"), max_length=12, choices=JobState.choices, default=JobState.HELD, db_index=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    state_changed_at = models.DateTimeField(_("state changed"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    # Chosen at release.
    printer = models.ForeignKey(
        "printers.Printer",
        verbose_name=_("printer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="jobs",
    )
    options = models.JSONField(
        _("options"), default=dict, blank=True, help_text=_("IPP attribute name → value(s).")
    )
    copies = models.PositiveIntegerField(_("copies"), default=1)
    page_ranges = models.CharField(_("pages to print"), max_length=200, blank=True)
    price = models.DecimalField(
        _("price"), max_digits=MONEY_DIGITS, decimal_places=4, null=True, blank=True
    )
    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("charged account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="jobs",
    )
    expected_impressions = models.PositiveIntegerField(
        _("expected impressions"),
        null=True,
        blank=True,
        help_text=_("Sides to print (all copies): the base of a partial refund."),
    )

    # What the printer told us.
    marker = models.UUIDField(
        _("marker"),
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text=_("Sent in job-name so a resend can find the job at the printer first."),
    )
    printer_job_id = models.IntegerField(_("printer job id"), null=True, blank=True)
    printer_job_uri = models.CharField(_("printer job URI"), max_length=500, blank=True)
    printer_job_state_reasons = models.JSONField(_("printer reasons"), default=list, blank=True)
    impressions_completed = models.PositiveIntegerField(
        _("impressions completed"), null=True, blank=True
    )
    not_done = models.JSONField(
        _("not done"),
        default=list,
        blank=True,
        editable=False,
        help_text=_(
            "What the printer did not do of a job it took: an end sheet it refused, a finishing "
            "or cover it ignored. Recorded when it took the job; the job's end refunds their "
            "price."
        ),
    )
    send_attempts = models.PositiveIntegerField(_("send attempts"), default=0)
    rule_version = models.ForeignKey(
        "rules.RuleFileVersion",
        verbose_name=_("rule file version"),
        null=True,
        blank=True,
        # Versions are kept with their history; a deleted one leaves the printer's active one.
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The rule file version the job was priced with; it is built with it too."),
    )
    attempts_that_reached_no_printer = models.PositiveIntegerField(
        _("attempts that reached no printer"),
        default=0,
        help_text=_(
            "Send attempts that could not even connect to the printer, or that it answered "
            "(if not in IPP): they cannot have left a job there."
        ),
    )
    looked_for_since = models.DateTimeField(
        _("looked for at the printer since"),
        null=True,
        blank=True,
        help_text=_(
            "When its last send attempt ended without knowing whether the printer took it: "
            "from then on it is only looked for there, never sent again, until "
            "PRINT_SEARCH_MAX_SECONDS later."
        ),
    )
    claimed_by = models.CharField(
        _("claimed by"),
        max_length=100,
        blank=True,
        help_text=_("The send task that holds the job while it is being sent."),
    )
    claimed_at = models.DateTimeField(
        _("claimed"),
        null=True,
        blank=True,
        help_text=_("When that task claimed it: no other task takes it over before it is stale."),
    )
    claimed_in = models.CharField(
        _("claimed in"),
        max_length=200,
        blank=True,
        help_text=_(
            "The process that task ran in (host, boot, process id and start time): a task on "
            "the same machine takes the job over at once when that process is gone."
        ),
    )
    claim_renewed_at = models.DateTimeField(
        _("claim renewed"),
        null=True,
        blank=True,
        help_text=_(
            "When that task's process last said it is still sending, as it does every few "
            "seconds: a task on any machine takes over a claim no longer renewed."
        ),
    )
    checked_at = models.DateTimeField(_("last asked the printer"), null=True, blank=True)
    printer_answered_at = models.DateTimeField(_("printer last answered"), null=True, blank=True)
    message = models.CharField(
        _("message"), max_length=500, blank=True, help_text=_("What the user is told.")
    )
    message_text = models.JSONField(
        _("message to translate"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "The message's msgid and parameters, shown in the reader's language. Empty for "
            "messages written before it was kept."
        ),
    )

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("print job")
        indexes = [models.Index(fields=("owner", "state"), name="job_owner_state")]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_state_display()})"

    @property
    def document_page_counts(self) -> list[int]:
        """The pages of each of the job's documents, in order (one entry for one document)."""
        return [int(document["pages"]) for document in self.documents] or [self.page_count]

    @property
    def message_shown(self) -> str:
        """The message in the active language; one written before its msgid was kept (or
        whose stored msgid cannot be read) as it was written, one written before it counted
        as the counted one it became."""
        return translated(self.message_text, self.message, as_counted)


def messages_joined(first: Text, *rest: Text) -> Text:
    """Several things the user is told at once, one after the other."""
    if not rest:
        return first
    return Text(
        gettext_noop("%(first)s; %(then)s"), {"first": first, "then": messages_joined(*rest)}
    )


def message_fields(text: Text | None) -> dict[str, Any]:
    """The fields that tell a job's user `text` (None: nothing): in English for the admin,
    the logs and our IPP printer, and as its msgid and parameters for the portal, which
    shows it in the reader's language."""
    if text is None:
        return {"message": "", "message_text": None}
    return {"message": str(text)[:500], "message_text": text.to_json()}


class JobTransition(models.Model):
    """One recorded change of a job's state: when, from what, to what, why, by whom."""

    job = models.ForeignKey(
        Job, verbose_name=_("job"), on_delete=models.CASCADE, related_name="transitions"
    )
    from_state = models.CharField(_("from"), max_length=12, choices=JobState.choices)
    to_state = models.CharField(_("to"), max_length=12, choices=JobState.choices)
    at = models.DateTimeField(_("at"), auto_now_add=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ("job", "at", "id")
        verbose_name = _("job transition")

    def __str__(self) -> str:
        return f"{self.job_id}: {self.from_state} → {self.to_state}"
