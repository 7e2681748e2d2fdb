"""The product as uvicorn serves it."""

from __future__ import annotations

import httpx
import pytest

from tests.servers import AsgiServer

pytestmark = pytest.mark.django_db(transaction=True)


def test_uvicorn_serves_health_and_the_login_page(asgi_server: AsgiServer) -> None:
    health = httpx.get(f"{asgi_server.base_url}/healthz", timeout=10)
    assert health.status_code == 200
    assert health.json()["database"]["detail"] == "postgresql"
    login = httpx.get(f"{asgi_server.base_url}/login/", timeout=10)
    assert login.status_code == 200
    assert "Log in" in login.text
    css = httpx.get(f"{asgi_server.base_url}/static/css/site.css", timeout=10)
    assert css.status_code == 200
