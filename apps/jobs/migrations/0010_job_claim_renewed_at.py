"""When the process holding a job's claim last renewed it, so that a task on any machine takes
the job over once the renewals stop (its worker died), not only when the claim is as old as a
send task may run."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0009_job_claimed_in"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="claim_renewed_at",
            field=models.DateTimeField(
                blank=True,
                help_text=(
                    "When that task's process last said it is still sending, as it does every "
                    "few seconds: a task on any machine takes over a claim no longer renewed."
                ),
                null=True,
                verbose_name="claim renewed",
            ),
        ),
    ]
