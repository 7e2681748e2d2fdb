"""Exports record the task id of the message their run came with. A run from before has none:
a redelivery of its message no longer takes it over, its claim lapsing after an hour does."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0010_export_queued_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportexport",
            name="claimed_task",
            field=models.CharField(blank=True, max_length=255, verbose_name="claimed by task"),
        ),
    ]
