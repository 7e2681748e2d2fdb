from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Health checks, start-up checks and the pieces every other app shares."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.core"

    def ready(self) -> None:
        # Loading the Celery app here makes it the current app in every process, so tasks
        # sent from the web server go to the configured broker.
        from printmgmt.celery import app  # noqa: F401
