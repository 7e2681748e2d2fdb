from django.apps import AppConfig


class PrintersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.printers"

    def ready(self) -> None:
        # Connects the receiver that keeps a printer given a group restricted to its groups.
        from apps.printers import group_restriction  # noqa: F401
