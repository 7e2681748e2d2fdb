from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users and roles, accounts and their ledger."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.accounts"
    verbose_name = "Users and accounts"

    def ready(self) -> None:
        from apps.accounts import checks  # noqa: F401  (registers the system checks)
