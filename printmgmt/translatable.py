"""A message written once, in English, and shown later in each reader's language.

A Celery worker that writes why a job failed cannot know who will read it, nor in which
language: it keeps the message's msgid (the English text, marked for extraction where it is
written) and its parameters, and whoever shows it translates it then. A parameter is a
number, another message (translated too), or external text such as a printer's own words,
which is shown as it is.

No Django here: the caller brings the translation (`gettext` in the active language).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

Param: TypeAlias = "str | int | Text"


def _as_written(msgid: str) -> str:
    return msgid


@dataclass(frozen=True)
class Text:
    """A msgid with its %(name)s parameters; a literal % in a msgid is written %%."""

    msgid: str
    params: Mapping[str, Param] = field(default_factory=dict)

    def render(self, translate: Callable[[str], str] = _as_written) -> str:
        """The message in the language `translate` gives, its nested messages too."""
        values = {
            name: value.render(translate) if isinstance(value, Text) else value
            for name, value in self.params.items()
        }
        return translate(self.msgid) % values

    def __str__(self) -> str:
        return self.render()

    def to_json(self) -> dict[str, Any]:
        return {
            "msgid": self.msgid,
            "params": {
                name: value.to_json() if isinstance(value, Text) else value
                for name, value in self.params.items()
            },
        }

    @classmethod
    def from_json(cls, data: object) -> Text | None:
        """The message stored by `to_json`; None for anything else (a row edited by hand, a
        message whose parameters do not fit its msgid), which is then not translated."""
        text = _parsed(data)
        if text is None:
            return None
        try:
            text.render()
        except (KeyError, ValueError, TypeError):
            return None
        return text


def _parsed(data: object) -> Text | None:
    if not isinstance(data, dict) or set(data) != {"msgid", "params"}:
        return None
    msgid, params = data["msgid"], data["params"]
    if not isinstance(msgid, str) or not isinstance(params, dict):
        return None
    parsed: dict[str, Param] = {}
    for name, value in params.items():
        if isinstance(value, dict):
            nested = _parsed(value)
            if nested is None:
                return None
            parsed[name] = nested
        elif isinstance(value, str | int) and not isinstance(value, bool):
            parsed[name] = value
        else:
            return None
    return Text(msgid, parsed)
