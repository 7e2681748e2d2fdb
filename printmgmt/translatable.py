"""A message written once, in English, and shown later in each reader's language.

A Celery worker that writes why a job failed cannot know who will read it, nor in which
language: it keeps the message's msgid (the English text, marked for extraction where it is
written) and its parameters, and whoever shows it translates it then. A parameter is a
number, another message (translated too), or external text such as a printer's own words,
which is shown as it is. A message that counts something ("after 1 attempt", "after 3
attempts") has a plural msgid too, and names the parameter that is the count: the reader's
language decides which form that number takes.

No Django here: the caller brings the translation (`gettext` and `ngettext` in the active
language).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

Param: TypeAlias = "str | int | Text"


def _as_written(msgid: str) -> str:
    return msgid


def _as_written_in_english(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural


def plural_noop(singular: str, plural: str) -> tuple[str, str]:
    """Marks a counted message's two msgids for extraction where it is written, as
    `gettext_noop` marks one: Django has no such marker, so our `makemessages` command gives
    xgettext this name as a keyword (apps/core/management/commands/makemessages.py)."""
    return singular, plural


@dataclass(frozen=True)
class Text:
    """A msgid with its %(name)s parameters; a literal % in a msgid is written %%.

    A counted message also has its `plural` msgid and the name of its `count` parameter,
    an int: `Text.counted` makes one."""

    msgid: str
    params: Mapping[str, Param] = field(default_factory=dict)
    plural: str | None = None
    count: str | None = None

    def __post_init__(self) -> None:
        if (self.plural is None) != (self.count is None):
            raise ValueError("a counted message has both a plural msgid and a count")

    @classmethod
    def counted(cls, msgids: tuple[str, str], count: str, params: Mapping[str, Param]) -> Text:
        """A message whose form depends on `params[count]`; `msgids` are the singular and
        plural, as `plural_noop` marks them."""
        singular, plural = msgids
        return cls(singular, params, plural=plural, count=count)

    def render(
        self,
        gettext: Callable[[str], str] = _as_written,
        ngettext: Callable[[str, str, int], str] = _as_written_in_english,
    ) -> str:
        """The message in the language `gettext` and `ngettext` give, its nested messages
        too; by default in English."""
        values = {
            name: value.render(gettext, ngettext) if isinstance(value, Text) else value
            for name, value in self.params.items()
        }
        if self.plural is None or self.count is None:  # (never one without the other)
            return gettext(self.msgid) % values
        count = self.params[self.count]
        if not isinstance(count, int) or isinstance(count, bool):
            raise TypeError(f"the count {self.count!r} is not a number: {count!r}")
        return ngettext(self.msgid, self.plural, count) % values

    def __str__(self) -> str:
        return self.render()

    def to_json(self) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "msgid": self.msgid,
            "params": {
                name: value.to_json() if isinstance(value, Text) else value
                for name, value in self.params.items()
            },
        }
        if self.plural is not None:
            stored.update(plural=self.plural, count=self.count)
        return stored

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


_KEYS = {"msgid", "params"}
#: A counted message's; messages stored before they could count have the others alone.
_COUNTED_KEYS = _KEYS | {"plural", "count"}


def _parsed(data: object) -> Text | None:
    if not isinstance(data, dict) or set(data) not in (_KEYS, _COUNTED_KEYS):
        return None
    msgid, params = data["msgid"], data["params"]
    plural, count = data.get("plural"), data.get("count")
    if not isinstance(msgid, str) or not isinstance(params, dict):
        return None
    if set(data) == _COUNTED_KEYS and not (isinstance(plural, str) and isinstance(count, str)):
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
    return Text(msgid, parsed, plural=plural, count=count)
