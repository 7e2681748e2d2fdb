"""`manage.py printing`: printing tokens and default printers from the command line."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from apps.ippserver.auth import user_for_credentials
from apps.printers.models import Printer
from tests.ippserver.conftest import Printing


def _printing(*args: str) -> str:
    out = io.StringIO()
    call_command("printing", *args, stdout=out)
    return out.getvalue()


def test_a_new_token_replaces_the_old_one(printing: Printing) -> None:
    output = _printing(printing.username, "--token")
    token = output.split("(shown once): ")[1].split()[0]
    assert user_for_credentials(printing.username, token, "192.0.2.1") == printing.user
    assert user_for_credentials(printing.username, printing.token, "192.0.2.1") is None
    _printing(printing.username, "--revoke-token")
    assert user_for_credentials(printing.username, token, "192.0.2.1") is None


def test_default_printer_is_set_and_cleared(printing: Printing, release_printer: Printer) -> None:
    assert "default printer desk" in _printing(printing.username, "--default-printer", "desk")
    assert "default printer none" in _printing(printing.username, "--no-default-printer")


def test_unknown_names_are_one_line_errors(printing: Printing) -> None:
    with pytest.raises(CommandError, match="no user 'nobody'"):
        _printing("nobody", "--token")
    with pytest.raises(CommandError, match="no printer 'nowhere'"):
        _printing(printing.username, "--default-printer", "nowhere")
