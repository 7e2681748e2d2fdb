"""Exports record when their task was sent and how often it was sent again. Rows from before
were queued when they were created."""

from typing import Any

import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def queued_when_created(apps: Any, schema_editor: Any) -> None:
    apps.get_model("reports", "ReportExport").objects.update(queued_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0009_scheduled_report_stopped"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportexport",
            name="queued_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="queued"),
        ),
        migrations.AddField(
            model_name="reportexport",
            name="requeues",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="queued again"),
        ),
        migrations.RunPython(queued_when_created, migrations.RunPython.noop),
    ]
