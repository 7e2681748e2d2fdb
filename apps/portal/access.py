"""Who may open which page: every portal view names the permission it needs.

Anonymous visitors are sent to the log-in page; a logged-in user without the permission gets a
403 page. Ownership (a staff member's own jobs) is checked by the selectors the views call.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from apps.accounts.models import User
from apps.accounts.roles import permission_name

Params = ParamSpec("Params")
View = Callable[Concatenate[HttpRequest, Params], HttpResponseBase]


def may(user: User, *codenames: str) -> bool:
    """The user holds any one of the permissions."""
    return any(user.has_perm(permission_name(codename)) for codename in codenames)


def requires(*codenames: str) -> Callable[[View[Params]], View[Params]]:
    """Log-in, then any one of `codenames`, before the view runs."""

    def decorate(view: View[Params]) -> View[Params]:
        @wraps(view)
        def checked(
            request: HttpRequest, *args: Params.args, **kwargs: Params.kwargs
        ) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            assert isinstance(request.user, User)
            if not may(request.user, *codenames):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        checked.required_permissions = codenames  # type: ignore[attr-defined]
        return cast(View[Params], checked)

    return decorate


def current_user(request: HttpRequest) -> User:
    """The logged-in user of a view behind `requires`."""
    assert isinstance(request.user, User)
    return request.user
