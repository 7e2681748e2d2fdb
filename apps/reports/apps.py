from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Usage records and the finance reports made from them."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.reports"
