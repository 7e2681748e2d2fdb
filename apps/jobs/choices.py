"""Job states and the transitions allowed between them (the table every change goes through)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobState(models.TextChoices):
    HELD = "held", _("Held")
    RELEASED = "released", _("Released")
    SENDING = "sending", _("Sending")
    PROCESSING = "processing", _("Sent to printer")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")
    EXPIRED = "expired", _("Expired")


class JobSource(models.TextChoices):
    WEB = "web", _("Web upload")
    IPP = "ipp", _("Printed from a device")
    COMMAND = "command", _("Command line")


TERMINAL_STATES = frozenset(
    {JobState.COMPLETED, JobState.FAILED, JobState.CANCELED, JobState.EXPIRED}
)

# Which states each state may move to. SENDING → RELEASED is a retry after a transient error;
# every other move goes forward. Terminal states go nowhere.
TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.HELD: frozenset({JobState.RELEASED, JobState.CANCELED, JobState.EXPIRED}),
    JobState.RELEASED: frozenset({JobState.SENDING, JobState.FAILED, JobState.CANCELED}),
    JobState.SENDING: frozenset(
        {JobState.RELEASED, JobState.PROCESSING, JobState.FAILED, JobState.CANCELED}
    ),
    JobState.PROCESSING: frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELED}),
    JobState.COMPLETED: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELED: frozenset(),
    JobState.EXPIRED: frozenset(),
}


def states_leading_to(target: JobState) -> frozenset[JobState]:
    return frozenset(state for state, targets in TRANSITIONS.items() if target in targets)
