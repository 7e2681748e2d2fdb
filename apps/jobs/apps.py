from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Held jobs, their release, and the Celery pipeline that prints them."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.jobs"
