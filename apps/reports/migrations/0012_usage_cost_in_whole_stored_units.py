"""The check that a usage record's cost is charged - refunded compares whole stored units
(0.0001) instead of the amounts: SQLite subtracts decimals as doubles, so 0.15 - 0.10 was not
0.05 there and the record of a job refunded in part was refused. PostgreSQL's numeric gives
the same answer either way.

SQLite changes a check constraint by copying the table, which drops its triggers: the
immutability triggers of 0002 are made again afterwards (in both directions).
"""

import importlib
from typing import Any

import django.db.models.expressions
import django.db.models.functions.math
import django.db.models.lookups
from django.db import migrations, models

immutable = importlib.import_module("apps.reports.migrations.0002_usage_records_immutable")


def sqlite_triggers_again(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for statement in (*immutable.SQLITE_DROP, *immutable.SQLITE_CREATE):
            schema_editor.execute(statement)


def units(column: str) -> django.db.models.functions.math.Round:
    return django.db.models.functions.math.Round(
        django.db.models.expressions.CombinedExpression(models.F(column), "*", models.Value(10000))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0011_export_claimed_task"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, sqlite_triggers_again),
        migrations.RemoveConstraint(
            model_name="usagerecord",
            name="usage_cost_is_net",
        ),
        migrations.AddConstraint(
            model_name="usagerecord",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.Exact(
                    units("cost"),
                    django.db.models.expressions.CombinedExpression(
                        units("charged"), "-", units("refunded")
                    ),
                ),
                name="usage_cost_is_net",
            ),
        ),
        migrations.RunPython(sqlite_triggers_again, migrations.RunPython.noop),
    ]
