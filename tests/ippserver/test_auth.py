"""Who is printing: a password check is remembered, but never past a change of the user."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from apps.ippserver.auth import user_for_credentials
from tests.ippserver.conftest import PASSWORD, Printing


def test_a_remembered_password_costs_one_query_and_no_hashing(printing: Printing) -> None:
    assert user_for_credentials(printing.username, PASSWORD) == printing.user
    with CaptureQueriesContext(connection) as queries:
        assert user_for_credentials(printing.username, PASSWORD) == printing.user
    assert len(queries) == 1


def test_a_changed_password_stops_the_remembered_one_at_once(printing: Printing) -> None:
    assert user_for_credentials(printing.username, PASSWORD) == printing.user
    # Changed as another process would: no signal reaches this one.
    user = User.objects.get(pk=printing.user.pk)
    user.set_password("a different long password")
    User.objects.filter(pk=user.pk).update(password=user.password)
    assert user_for_credentials(printing.username, PASSWORD) is None
    assert user_for_credentials(printing.username, "a different long password") == printing.user


def test_a_deactivated_user_is_refused_at_once(printing: Printing) -> None:
    assert user_for_credentials(printing.username, PASSWORD) == printing.user
    assert user_for_credentials(printing.username, printing.token) == printing.user
    User.objects.filter(pk=printing.user.pk).update(is_active=False)
    assert user_for_credentials(printing.username, PASSWORD) is None
    assert user_for_credentials(printing.username, printing.token) is None


def test_remembered_credentials_belong_to_their_user_name_only(
    printing: Printing, other_printing: Printing
) -> None:
    assert user_for_credentials(printing.username, PASSWORD) == printing.user
    assert user_for_credentials(other_printing.username, PASSWORD) == other_printing.user
    assert user_for_credentials(printing.username, other_printing.token) is None
