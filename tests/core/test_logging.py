"""A page refused to a visitor leaves one line in the server log, not a traceback."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from apps.accounts.roles import STAFF
from apps.accounts.services import user_create


@pytest.mark.django_db
def test_a_refused_page_is_logged_without_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    user_create("sam", "a long enough password", role=STAFF)
    client = Client()
    assert client.login(username="sam", password="a long enough password")
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/admin/").status_code in (302, 403)
        response = client.get("/reports/")
    assert response.status_code == 403
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage() == "Forbidden (Permission denied): /reports/"
    assert record.exc_info is None


def test_a_server_error_keeps_its_traceback() -> None:
    request_logger = logging.getLogger("django.request")
    try:
        raise RuntimeError("broken")
    except RuntimeError as error:
        record = request_logger.makeRecord(
            "django.request", logging.ERROR, __file__, 1, "Internal Server Error", (),
            (type(error), error, error.__traceback__), extra={"status_code": 500},
        )  # fmt: skip
    assert request_logger.filter(record)
    assert record.exc_info is not None
    record.status_code = 403
    assert request_logger.filter(record)
    assert record.exc_info is None
