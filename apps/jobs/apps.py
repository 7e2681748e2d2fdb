from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Held jobs, their release, and the Celery pipeline that prints them."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.jobs"

    def ready(self) -> None:
        # Connects the receivers that keep the held-jobs stamp current.
        from apps.jobs import held_stamp  # noqa: F401
