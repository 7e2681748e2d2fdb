"""What the printer did not do of a job it took (an end sheet it refused, a finishing or cover
it ignored), recorded when it took the job so that the job's end refunds their price."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0010_job_claim_renewed_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="not_done",
            field=models.JSONField(
                blank=True,
                default=list,
                editable=False,
                help_text="What the printer did not do of a job it took: an end sheet it refused, a finishing or cover it ignored. Recorded when it took the job; the job's end refunds their price.",
                verbose_name="not done",
            ),
        ),
    ]
