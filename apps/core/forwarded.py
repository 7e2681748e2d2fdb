"""The host a client asked for when a proxy in front of us does not pass its Host header on
(Apache's default `ProxyPreserveHost Off`, some load balancers) but says it in
X-Forwarded-Host. Believed only with USE_X_FORWARDED_HOST on: a client that reaches us
directly could otherwise name any host, and our printer's URIs and the Devices page with it.

Likewise the port the client reached the proxy on, for a proxy that passes a Host without it
and says the port in X-Forwarded-Port (nginx with `Host $host`): believed only with
USE_X_FORWARDED_PORT on, the name Django gives the same trust.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponseBase

from printmgmt.digits import whole_number

#: A host that names its port (an IPv6 address is in brackets, so its colons are not one).
_WITH_PORT = re.compile(r":[0-9]*\Z")


def first_forwarded_host(value: str) -> str:
    """The host the client asked the first proxy for: each proxy on the way appends the Host
    it was sent to X-Forwarded-Host."""
    return value.split(",", 1)[0].strip()


def forwarded_port(value: str) -> int | None:
    """The port in X-Forwarded-Port (the first one, when proxies have appended theirs), or None
    when it is no port: ASCII digits, 1 to 65535."""
    port = whole_number(value.split(",", 1)[0].strip(), maximum=65535)
    return port or None


def with_port(host: str, port: int) -> str:
    """`host` with `port` when it names none: a port in the Host header is the one the client
    used (a proxy's own port differs from it behind a port mapping)."""
    return host if _WITH_PORT.search(host) else f"{host}:{port}"


def requested_host(request: HttpRequest) -> str:
    """request.get_host(), with the forwarded port when USE_X_FORWARDED_PORT is on (checked by
    valid_forwarded_port_only)."""
    host = request.get_host()
    forwarded = request.META.get("HTTP_X_FORWARDED_PORT")
    if not settings.USE_X_FORWARDED_PORT or forwarded is None:
        return host
    port = forwarded_port(forwarded)
    return host if port is None else with_port(host, port)


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


def valid_forwarded_port_only(
    get_response: Callable[[HttpRequest], HttpResponseBase],
) -> Callable[[HttpRequest], HttpResponseBase]:
    """Middleware: with USE_X_FORWARDED_PORT on, an X-Forwarded-Port that is no port is refused
    with 400, as Django refuses a Host that is no host, rather than named in our pages."""

    def middleware(request: HttpRequest) -> HttpResponseBase:
        forwarded = request.META.get("HTTP_X_FORWARDED_PORT")
        if (
            settings.USE_X_FORWARDED_PORT
            and forwarded is not None
            and forwarded_port(forwarded) is None
        ):
            raise SuspiciousOperation(f"X-Forwarded-Port {forwarded!r} is not a port number")
        return get_response(request)

    return middleware
