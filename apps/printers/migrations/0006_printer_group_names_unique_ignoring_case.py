from django.apps.registry import Apps
from django.core.management.base import CommandError
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models.functions import Lower


def refuse_names_differing_only_in_case(
    apps: Apps, schema_editor: BaseDatabaseSchemaEditor
) -> None:
    """Printer groups whose names differ only in case stop the migration, named, with what to
    do: which of them users mean by the name is for an administrator to decide. Nothing is
    changed (CommandError: migrate says it without a trace, and the migration's transaction is
    rolled back)."""
    group_model = apps.get_model("printers", "PrinterGroup")
    by_name: dict[str, list[str]] = {}
    for group in group_model.objects.order_by("name"):
        by_name.setdefault(group.name.lower(), []).append(group.name)
    clashes = [names for names in by_name.values() if len(names) > 1]
    if clashes:
        listed = "; ".join(" and ".join(repr(name) for name in names) for names in clashes)
        raise CommandError(
            f"printer group names must differ in more than case (as printer names do), and "
            f"these do not: {listed}. Remove all but one of each with `python manage.py "
            f"printer group remove NAME` (its printers stay; `printer group add` gives them to "
            f"the group kept, or to one of another name), then migrate again."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("printers", "0005_printer_names_unique_ignoring_case"),
    ]

    operations = [
        migrations.RunPython(refuse_names_differing_only_in_case, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="printergroup",
            constraint=models.UniqueConstraint(
                Lower("name"),
                name="printer_group_name_unique_ignoring_case",
            ),
        ),
    ]
