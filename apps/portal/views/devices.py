"""Printing from devices: the address of our IPP printer, the printing token, the default
printer for Release-Job. The same services as `manage.py printing`."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.roles import RELEASE_OWN_JOBS
from apps.core.forwarded import requested_host
from apps.ippserver.protocol import PRINTER_PATH, Endpoint
from apps.ippserver.services import (
    default_printer_set,
    printing_profile_ensure,
    printing_token_issue,
    printing_token_revoke,
)
from apps.portal.access import current_user, requires
from apps.portal.forms import DefaultPrinterForm
from apps.printers.selectors import printers_usable_by


@require_GET
@requires(RELEASE_OWN_JOBS)
def devices(request: HttpRequest) -> HttpResponse:
    return _devices_page(request)


@never_cache
@require_POST
@requires(RELEASE_OWN_JOBS)
def printing_token_new(request: HttpRequest) -> HttpResponse:
    """Issue a token and show it on this response only: it is never stored in clear, so it
    cannot go through a redirect or the session."""
    token = printing_token_issue(current_user(request))
    return _devices_page(request, token=token)


@require_POST
@requires(RELEASE_OWN_JOBS)
def printing_token_end(request: HttpRequest) -> HttpResponse:
    printing_token_revoke(current_user(request))
    messages.success(request, _("Printing token revoked: devices that used it must log in again."))
    return redirect("portal:devices")


@require_POST
@requires(RELEASE_OWN_JOBS)
def default_printer(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    form = DefaultPrinterForm(request.POST, printers=printers_usable_by(user))
    if not form.is_valid():
        return _devices_page(request, printer_form=form)
    default_printer_set(user, form.cleaned_data["printer"])
    messages.success(request, _("Default printer saved."))
    return redirect("portal:devices")


def _devices_page(
    request: HttpRequest,
    *,
    token: str = "",
    printer_form: DefaultPrinterForm | None = None,
) -> HttpResponse:
    user = current_user(request)
    profile = printing_profile_ensure(user)
    endpoint = Endpoint(host=requested_host(request), secure=request.is_secure())
    scheme = "ipps" if endpoint.secure else "ipp"
    # What a CUPS queue is added with: the name and token in the URI, as lpadmin takes them.
    name = quote(user.get_username(), safe="")
    login_uri = f"{scheme}://{name}:{token or 'TOKEN'}@{endpoint.ipp_authority}{PRINTER_PATH}"
    form = printer_form or DefaultPrinterForm(
        printers=printers_usable_by(user), initial={"printer": profile.default_printer_id}
    )
    return render(
        request,
        "portal/devices.html",
        {
            "printer_uri": endpoint.printer_uri,
            "login_uri": login_uri,
            "web_uri": endpoint.web_printer_url,
            # macOS's IPP by address: without a port it asks port 631.
            "host": endpoint.ipp_authority,
            "secure": endpoint.secure,
            "profile": profile,
            "token": token,
            "printer_form": form,
            "advertised_name": settings.DNSSD.name if settings.DNSSD.enabled else "",
        },
    )
