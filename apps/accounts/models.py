from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who prints, administers or reads reports.

    Our own model from day one, so that fields the product needs (default printer, printing
    token, department) can be added without the migration pain of swapping the user model.
    """

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ("username",)
        permissions = (
            ("release_own_jobs", _("Can print and release their own jobs")),
            ("manage_printers", _("Can manage printers")),
            ("manage_rules", _("Can manage rule files")),
            ("manage_users", _("Can manage users")),
            ("manage_accounts", _("Can manage accounts and move money")),
            ("view_reports", _("Can read usage reports")),
            ("view_money", _("Can read balances and ledgers")),
        )

    def __str__(self) -> str:
        return self.username

    @property
    def role_names(self) -> list[str]:
        """Names of the role groups this user is in, for display."""
        return sorted(group.name for group in self.groups.all())
