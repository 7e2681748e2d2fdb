"""The host a client asked for when a proxy in front of us does not pass its Host header on
(Apache's default `ProxyPreserveHost Off`, some load balancers) but says it in
X-Forwarded-Host. Believed only with USE_X_FORWARDED_HOST on: a client that reaches us
directly could otherwise name any host, and our printer's URIs and the Devices page with it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


def first_forwarded_host(value: str) -> str:
    """The host the client asked the first proxy for: each proxy on the way appends the Host
    it was sent to X-Forwarded-Host."""
    return value.split(",", 1)[0].strip()


def first_forwarded_host_only(
    get_response: Callable[[HttpRequest], HttpResponseBase],
) -> Callable[[HttpRequest], HttpResponseBase]:
    """Middleware: Django's get_host() takes X-Forwarded-Host whole, and a list of hosts is no
    host (400); the portal uses the first, as our IPP printer does."""

    def middleware(request: HttpRequest) -> HttpResponseBase:
        forwarded = request.META.get("HTTP_X_FORWARDED_HOST")
        if settings.USE_X_FORWARDED_HOST and forwarded is not None:
            request.META["HTTP_X_FORWARDED_HOST"] = first_forwarded_host(forwarded)
        return get_response(request)

    return middleware
