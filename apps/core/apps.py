import contextlib

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Health checks, start-up checks and the pieces every other app shares."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.core"

    def ready(self) -> None:
        # Loading the Celery app here makes it the current app in every process, so tasks
        # sent from the web server go to the configured broker.
        from django.db.models.signals import post_migrate

        from apps.accounts.roles import ensure_role_groups
        from printmgmt.celery import app  # noqa: F401

        ensure_local_broker_folders()
        post_migrate.connect(ensure_role_groups, dispatch_uid="ensure_role_groups")


def ensure_local_broker_folders() -> None:
    """The embedded file-system broker needs its folders before any process sends or reads.

    One that cannot be made (a file in its place, no rights) is left to /healthz and
    `preflight`, which name it (apps/core/health.py): failing here ended every command, the
    web server and `preflight` itself with a traceback."""
    from pathlib import Path

    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        for key in ("data_folder_in", "processed_folder", "control_folder"):
            with contextlib.suppress(OSError):
                Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key])).mkdir(
                    parents=True, exist_ok=True
                )
