"""Exports record the run writing them. Rows from before: a running export counts as claimed
when it was created (the cleanup gives it up once that is long ago), and a failed one expires
a retention period after it was created (failed exports were never cleaned up)."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def claims_for_earlier_rows(apps: Any, schema_editor: Any) -> None:
    export = apps.get_model("reports", "ReportExport")
    export.objects.filter(state="running").update(claimed_at=F("created_at"))
    retention = timedelta(hours=int(settings.REPORT_EXPORT_RETENTION_HOURS))
    export.objects.filter(state="failed", expires_at__isnull=True).update(
        expires_at=F("created_at") + retention
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_usage_records_immutable"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportexport",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="attempts"),
        ),
        migrations.AddField(
            model_name="reportexport",
            name="claimed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="claimed"),
        ),
        migrations.AddField(
            model_name="reportexport",
            name="claimed_by",
            field=models.CharField(blank=True, max_length=32, verbose_name="claimed by"),
        ),
        migrations.RunPython(claims_for_earlier_rows, migrations.RunPython.noop),
    ]
