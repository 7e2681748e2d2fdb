"""Log-in with a rate limit per username and address."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

from apps.accounts.login_throttle import (
    login_blocked,
    login_failed,
    login_succeeded,
    window_seconds,
)


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's log-in form, refusing for a while after repeated failures."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        address = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        if username and login_blocked(username, address):
            minutes = max(1, window_seconds() // 60)
            raise ValidationError(
                ngettext(
                    "Too many failed log-ins for %(username)s from your address. "
                    "Wait %(minutes)s minute and try again.",
                    "Too many failed log-ins for %(username)s from your address. "
                    "Wait %(minutes)s minutes and try again.",
                    minutes,
                ),
                code="throttled",
                params={"username": username, "minutes": minutes},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            if username:
                login_failed(username, address, self.cleaned_data.get("password") or "")
            raise
        login_succeeded(username, address)
        return cleaned


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True
