from django.apps.registry import Apps
from django.core.management.base import CommandError
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models.functions import Lower


def refuse_names_differing_only_in_case(
    apps: Apps, schema_editor: BaseDatabaseSchemaEditor
) -> None:
    """Printers whose names differ only in case stop the migration, named, with what to do:
    which of them users mean by the name, and which jobs and settings go with which, is for
    an administrator to decide. Nothing is changed (CommandError: migrate says it without a
    trace, and the migration's transaction is rolled back)."""
    printer_model = apps.get_model("printers", "Printer")
    by_name: dict[str, list[str]] = {}
    for printer in printer_model.objects.order_by("name"):
        by_name.setdefault(printer.name.lower(), []).append(printer.name)
    clashes = [names for names in by_name.values() if len(names) > 1]
    if clashes:
        listed = "; ".join(" and ".join(repr(name) for name in names) for names in clashes)
        raise CommandError(
            f"printer names must differ in more than case (as CUPS queue names do), and these "
            f"do not: {listed}. Rename all but one of each with `python manage.py printer "
            f"rename OLD NEW` (a queue imported from a CUPS server: rename it there and run "
            f"`printer import-cups` again), then migrate again."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("printers", "0004_restricted_to_groups"),
    ]

    operations = [
        migrations.RunPython(refuse_names_differing_only_in_case, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="printer",
            constraint=models.UniqueConstraint(
                Lower("name"),
                name="printer_name_unique_ignoring_case",
            ),
        ),
    ]
