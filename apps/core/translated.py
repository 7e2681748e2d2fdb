"""Messages kept as msgid and parameters (printmgmt/translatable.py), shown in the active
language."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext, ngettext

from printmgmt.translatable import Text


def _unchanged(text: Text) -> Text:
    return text


def translated(stored: object, written: str, as_now: Callable[[Text], Text] = _unchanged) -> str:
    """The message `stored` (Text.to_json) in the active language, read as it is written
    today by `as_now`; `written`, the English it was written in, when none was stored (a
    message from before they were kept, or text a person typed) or it cannot be read."""
    text = Text.from_json(stored)
    if text is None:
        return written
    return as_now(text).render(gettext, ngettext)
