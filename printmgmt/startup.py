"""Start-up guards shared by manage.py, the ASGI app and the Celery app.

A person starting the product must see one line that names what is wrong and how to fix it,
never a traceback: a malformed setting, or a database or broker that cannot be reached.
"""

from __future__ import annotations

import sys

from printmgmt.config import ConfigError


def fail(message: str) -> int:
    print(f"printmgmt: {message}", file=sys.stderr)  # noqa: T201 - the operator's terminal
    return 2


def load_settings() -> None:
    """Import the settings now, so a bad value stops start-up with its own message."""
    from django.conf import settings

    settings.INSTALLED_APPS  # noqa: B018 - touching a setting loads and validates them all


def run_command_line(argv: list[str]) -> int:
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        load_settings()
        execute_from_command_line(argv)
    except ConfigError as error:
        return fail(str(error))
    except OperationalError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        return fail(f"the database cannot be reached ({first_line}); check DATABASE_URL.")
    return 0
