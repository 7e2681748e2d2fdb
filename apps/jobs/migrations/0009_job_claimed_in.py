"""The process that holds a job's claim, so that a task on the same machine takes the job over
at once when that process is gone (a worker killed mid-send)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0008_job_documents_printed_separately"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="claimed_in",
            field=models.CharField(
                blank=True,
                help_text=(
                    "The process that task ran in (host, boot, process id and start time): a "
                    "task on the same machine takes the job over at once when that process is "
                    "gone."
                ),
                max_length=200,
                verbose_name="claimed in",
            ),
        ),
    ]
