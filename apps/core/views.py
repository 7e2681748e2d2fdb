from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.health import run_checks
from apps.core.selectors import recent_workers


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker reachability for load balancers and monitoring: 200 or 503."""
    results = run_checks()
    healthy = all(result.ok for result in results)
    body: dict[str, object] = {"status": "ok" if healthy else "unavailable"}
    body.update({result.name: result.as_dict() for result in results})
    if results[0].ok:
        # Informational: a web server stays healthy while workers restart.
        body["workers"] = recent_workers()
    return JsonResponse(body, status=200 if healthy else 503)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")
