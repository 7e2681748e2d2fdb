"""Scheduled reports the same in every way cannot both exist: a unique digest of their fields.
Twins saved before keep no digest (the oldest of them gets it), so none is lost."""

import hashlib
import json
from typing import Any

from django.db import migrations, models


def twin_keys_fill(apps: Any, schema_editor: Any) -> None:
    scheduled_report = apps.get_model("reports", "ScheduledReport")
    seen: set[str] = set()
    for report in scheduled_report.objects.order_by("pk"):
        fields = [
            report.name,
            report.period,
            report.grouping,
            report.format,
            report.recipients,
            report.filters,
        ]
        key = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
        if key not in seen:
            seen.add(key)
            report.twin_key = key
            report.save(update_fields=["twin_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0006_scheduled_run_claims"),
    ]

    operations = [
        migrations.AddField(
            model_name="scheduledreport",
            name="twin_key",
            field=models.CharField(editable=False, max_length=64, null=True, unique=True),
        ),
        migrations.RunPython(twin_keys_fill, migrations.RunPython.noop),
    ]
