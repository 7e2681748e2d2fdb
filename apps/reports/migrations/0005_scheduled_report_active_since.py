"""Scheduled reports send every period since they became active. A report sent before counts
as active since the day after the last period it sent, so the periods missed since are sent;
one never sent counts from now."""

from datetime import datetime, time, timedelta
from typing import Any

import django.utils.timezone
from django.db import migrations, models
from django.db.models import Max
from django.utils import timezone


def active_since_last_sent(apps: Any, schema_editor: Any) -> None:
    scheduled_report = apps.get_model("reports", "ScheduledReport")
    sent = scheduled_report.objects.filter(runs__sent_at__isnull=False).annotate(
        last_sent=Max("runs__period_end")
    )
    zone = timezone.get_current_timezone()
    for report in sent:
        after = report.last_sent + timedelta(days=1)
        report.active_since = datetime.combine(after, time.min, tzinfo=zone)
        report.save(update_fields=["active_since"])


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_scheduled_run_failures"),
    ]

    operations = [
        migrations.AddField(
            model_name="scheduledreport",
            name="active_since",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="active since"
            ),
        ),
        migrations.RunPython(active_since_last_sent, migrations.RunPython.noop),
    ]
