"""A reason the product writes in the ledger is also kept as its msgid and parameters, so
that each reader sees it in their language.

A nullable column is added (and dropped) by ALTER TABLE on SQLite too, which keeps the
append-only triggers of 0004; rows written before keep their English reason alone.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_members_changes_in_the_ledger"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgerentry",
            name="reason_text",
            field=models.JSONField(
                blank=True,
                editable=False,
                help_text=(
                    "The msgid and parameters of a reason the product wrote, shown in the "
                    "reader's language. Empty for a reason a person typed, and for those "
                    "written before it was kept."
                ),
                null=True,
                verbose_name="reason to translate",
            ),
        ),
    ]
