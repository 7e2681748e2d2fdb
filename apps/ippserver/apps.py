from django.apps import AppConfig


class IppserverConfig(AppConfig):
    """Our own IPP printer: desktops and phones print into the hold queue."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.ippserver"
    verbose_name = "IPP printer"
