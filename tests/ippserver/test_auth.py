"""Who is printing: a password check is remembered, but never past a change of the user, and
passwords cannot be guessed: the portal's log-in rate limit applies to them."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.login_throttle import login_failed
from apps.accounts.models import User
from apps.ippserver.auth import LoginBlocked, user_for_credentials
from apps.ippserver.models import IppJob
from apps.jobs.models import Job
from printmgmt.ipp import Attribute, GroupTag, Operation, Status, encode
from tests.ippserver.conftest import PASSWORD, IppTester, Printing

HERE = "192.0.2.1"


def test_a_remembered_password_costs_one_query_and_no_hashing(printing: Printing) -> None:
    assert user_for_credentials(printing.username, PASSWORD, HERE) == printing.user
    with CaptureQueriesContext(connection) as queries:
        assert user_for_credentials(printing.username, PASSWORD, HERE) == printing.user
    assert len(queries) == 1


def test_a_changed_password_stops_the_remembered_one_at_once(printing: Printing) -> None:
    assert user_for_credentials(printing.username, PASSWORD, HERE) == printing.user
    # Changed as another process would: no signal reaches this one.
    user = User.objects.get(pk=printing.user.pk)
    user.set_password("a different long password")
    User.objects.filter(pk=user.pk).update(password=user.password)
    assert user_for_credentials(printing.username, PASSWORD, HERE) is None
    changed = user_for_credentials(printing.username, "a different long password", HERE)
    assert changed == printing.user


def test_a_deactivated_user_is_refused_at_once(printing: Printing) -> None:
    assert user_for_credentials(printing.username, PASSWORD, HERE) == printing.user
    assert user_for_credentials(printing.username, printing.token, HERE) == printing.user
    User.objects.filter(pk=printing.user.pk).update(is_active=False)
    assert user_for_credentials(printing.username, PASSWORD, HERE) is None
    assert user_for_credentials(printing.username, printing.token, HERE) is None


def test_remembered_credentials_belong_to_their_user_name_only(
    printing: Printing, other_printing: Printing
) -> None:
    assert user_for_credentials(printing.username, PASSWORD, HERE) == printing.user
    assert user_for_credentials(other_printing.username, PASSWORD, HERE) == other_printing.user
    assert user_for_credentials(printing.username, other_printing.token, HERE) is None


def test_password_checks_stop_after_too_many_failures_from_one_address(
    printing: Printing,
) -> None:
    # A device retrying an old password again and again is not guessing.
    for _ in range(settings.LOGIN_FAILURES_ALLOWED + 1):
        assert user_for_credentials(printing.username, "my old password", HERE) is None
    assert user_for_credentials(printing.username, PASSWORD, HERE) == printing.user
    for guess in range(settings.LOGIN_FAILURES_ALLOWED):
        assert user_for_credentials(printing.username, f"guess {guess}", HERE) is None
    with pytest.raises(LoginBlocked, match="too many failed log-ins"):
        user_for_credentials(printing.username, "another guess", HERE)
    # The password the device used a moment ago, another address, and the printing token
    # (not guessable) are not blocked.
    assert user_for_credentials(printing.username, PASSWORD, HERE) == printing.user
    assert user_for_credentials(printing.username, "x", "192.0.2.2") is None
    assert user_for_credentials(printing.username, printing.token, HERE) == printing.user


def test_a_password_is_not_checked_while_blocked(other_printing: Printing) -> None:
    for guess in range(settings.LOGIN_FAILURES_ALLOWED):
        user_for_credentials(other_printing.username, f"guess {guess}", HERE)
    with pytest.raises(LoginBlocked):
        user_for_credentials(other_printing.username, PASSWORD, HERE)


def test_a_blocked_device_is_told_why_and_can_still_ask_about_the_printer(
    ipp: IppTester, printing: Printing, pdf_bytes: bytes
) -> None:
    # Failures at the portal's log-in count too (the same limit, the same address).
    for guess in range(settings.LOGIN_FAILURES_ALLOWED - 1):
        login_failed(printing.username, "127.0.0.1", f"guess {guess}")
    request = ipp.request(Operation.GET_JOBS)
    wrong = ipp.post(encode(request), auth=(printing.username, "a wrong guess"))
    assert wrong.status_code == 401
    answer = ipp.print_job((printing.username, PASSWORD), pdf_bytes)
    assert answer.status_code == Status.CLIENT_ERROR_NOT_AUTHORIZED
    message = answer.get("status-message")
    assert message is not None
    assert "too many failed log-ins" in str(message.value)
    # The printer's attributes need no log-in: credentials sent with them are not checked.
    attributes = ipp.send(
        ipp.request(Operation.GET_PRINTER_ATTRIBUTES), auth=(printing.username, "a guess")
    )
    assert attributes.group(GroupTag.PRINTER) is not None
    assert ipp.print_job((printing.username, printing.token), pdf_bytes).status_code == (
        Status.SUCCESSFUL_OK
    )


def test_a_user_name_with_a_nul_gets_401(ipp: IppTester, printing: Printing) -> None:
    # PostgreSQL refuses a NUL in a query: the request ended in HTTP 500.
    request = encode(ipp.request(Operation.GET_JOBS))
    for username in (f"{printing.username}\x00", "\x00"):
        assert ipp.post(request, auth=(username, PASSWORD)).status_code == 401
    assert ipp.post(request, auth=(printing.username, PASSWORD)).status_code == 200


def test_a_user_who_may_not_print_gets_no_job_held_but_may_follow_their_jobs(
    ipp: IppTester, printing: Printing, pdf_bytes: bytes
) -> None:
    """Their jobs waited in an inbox they cannot open (the portal's needs the right to print)
    until they expired."""
    held_before = ipp.print_job((printing.username, printing.token), pdf_bytes)
    assert held_before.status_code == Status.SUCCESSFUL_OK
    printing.user.groups.clear()  # the Staff role taken away
    job_name = Attribute.name_("job-name", "refused")
    for operation, document in (
        (Operation.PRINT_JOB, pdf_bytes),
        (Operation.VALIDATE_JOB, b""),
        (Operation.CREATE_JOB, b""),
    ):
        request = ipp.request(operation, operation_attributes=[job_name])
        for credentials in (printing.token, PASSWORD):
            answer = ipp.send(request, document, auth=(printing.username, credentials))
            assert answer.status_code == Status.CLIENT_ERROR_NOT_AUTHORIZED
            message = answer.get("status-message")
            assert message is not None
            assert str(message.value) == (
                f"{printing.username} may not print: no role of theirs gives the right to "
                "(Staff does)"
            )
    assert Job.objects.filter(owner=printing.user).count() == 1
    assert IppJob.objects.filter(owner=printing.user).count() == 1
    assert list(Path(settings.SPOOL_DIR).glob(".ipp-*")) == []
    # What they sent before stays theirs to see and cancel.
    jobs = ipp.send(ipp.request(Operation.GET_JOBS), auth=(printing.username, printing.token))
    assert jobs.status_code == Status.SUCCESSFUL_OK
    assert len(jobs.groups_of(GroupTag.JOB)) == 1
