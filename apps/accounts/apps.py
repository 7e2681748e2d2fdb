from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users and roles (and, with the money feature, accounts and their ledger)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.accounts"
    verbose_name = "Users and accounts"
