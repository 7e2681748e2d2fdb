"""Create the three role groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Staff": ("release_own_jobs",),
    "Printer admin": (
        "release_own_jobs",
        "manage_printers",
        "manage_rules",
        "manage_users",
        "manage_accounts",
    ),
    "Finance": ("release_own_jobs", "view_reports", "view_money"),
}


def create_roles(apps, schema_editor):
    # Permissions are normally made after all migrations; make ours now so groups can hold them.
    accounts_config = apps.get_app_config("accounts")
    accounts_config.models_module = True
    create_permissions(accounts_config, verbosity=0)
    accounts_config.models_module = None

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for group_name, codenames in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=group_name)
        permissions = permission_model.objects.filter(
            content_type__app_label="accounts", codename__in=codenames
        )
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_user"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
