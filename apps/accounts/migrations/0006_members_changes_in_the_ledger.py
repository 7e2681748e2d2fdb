"""Membership changes of shared accounts become zero-amount "members" ledger entries.

SQLite changes a check constraint by copying the table, which drops its triggers: the
append-only triggers of 0004 are made again afterwards (in both directions).
"""

import importlib

from django.db import migrations, models

append_only = importlib.import_module(
    "apps.accounts.migrations.0004_ledger_append_only_personal_accounts"
)


def sqlite_triggers_again(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in (*append_only.SQLITE_DROP, *append_only.SQLITE_CREATE):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_deposit_and_adjustment_once_per_submission"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, sqlite_triggers_again),
        migrations.RemoveConstraint(
            model_name="ledgerentry",
            name="ledger_amount_sign_matches_kind",
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("initial", "initial credit"),
                    ("deposit", "deposit"),
                    ("adjustment", "adjustment"),
                    ("charge", "charge"),
                    ("refund", "refund"),
                    ("transfer_out", "transfer out"),
                    ("transfer_in", "transfer in"),
                    ("allowance", "allowance"),
                    ("limit", "credit limit change"),
                    ("members", "members change"),
                ],
                max_length=16,
                verbose_name="kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        models.Q(("kind__in", ("charge", "transfer_out")), _negated=True),
                        ("amount__lte", 0),
                        _connector="OR",
                    ),
                    models.Q(
                        models.Q(("kind__in", ("refund", "transfer_in", "initial")), _negated=True),
                        ("amount__gte", 0),
                        _connector="OR",
                    ),
                    models.Q(
                        models.Q(("kind__in", ("limit", "members")), _negated=True),
                        ("amount", 0),
                        _connector="OR",
                    ),
                ),
                name="ledger_amount_sign_matches_kind",
            ),
        ),
        migrations.RunPython(sqlite_triggers_again, migrations.RunPython.noop),
    ]
