"""Writes for device printing: printing profiles and printing tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from apps.accounts.models import User
from apps.ippserver.models import PrintingProfile
from apps.printers.models import Printer


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def printing_profile_ensure(user: User) -> PrintingProfile:
    profile, _created = PrintingProfile.objects.get_or_create(user=user)
    return profile


def printing_token_issue(user: User) -> str:
    """A new printing token for `user`, replacing any old one; shown once, stored as a digest."""
    token = secrets.token_urlsafe(24)
    profile = printing_profile_ensure(user)
    profile.token_digest = token_digest(token)
    profile.token_created_at = timezone.now()
    profile.save(update_fields=["token_digest", "token_created_at"])
    return token


def printing_token_revoke(user: User) -> None:
    PrintingProfile.objects.filter(user=user).update(token_digest="", token_created_at=None)


def default_printer_set(user: User, printer: Printer | None) -> PrintingProfile:
    profile = printing_profile_ensure(user)
    profile.default_printer = printer
    profile.save(update_fields=["default_printer"])
    return profile
