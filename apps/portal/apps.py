from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The web portal: staff inbox and release, admin pages for printers, rules and accounts."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.portal"
