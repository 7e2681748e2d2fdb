"""What every form of the product does."""

from __future__ import annotations

from functools import cache
from typing import Any

from django import forms
from django.forms.utils import ErrorDict
from django.forms.widgets import ChoiceWidget


@cache
def first_option_focused(widget_class: type[ChoiceWidget]) -> type[ChoiceWidget]:
    """`widget_class` whose `autofocus` stays on its first option: a group of tick boxes or
    radio buttons gives its attributes to every option, and a page has one autofocus."""

    class FirstOptionFocused(widget_class):  # type: ignore[valid-type,misc]
        def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            option: dict[str, Any] = super().create_option(*args, **kwargs)
            # "0", or "0_0" when the choices begin with a group.
            if option["index"] not in ("0", "0_0"):
                option["attrs"].pop("autofocus", None)
            return option

    FirstOptionFocused.__name__ = FirstOptionFocused.__qualname__ = widget_class.__name__
    return FirstOptionFocused


class FirstErrorFocus(forms.BaseForm):
    """A form whose first wrong field has the focus as the page opens (`autofocus`): a screen
    reader then reads the field's label and its error (aria-describedby) at once, where
    Django's error list alone says nothing, and the keyboard is where the correction goes.
    An error a view adds after validation (`add_error`: a service refused) moves it too."""

    _focused: str | None = None

    def full_clean(self) -> None:
        super().full_clean()
        self._focus_first_error()

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        self._focus_first_error()

    def show_refused(self, errors: dict[str, list[str]]) -> None:
        """Show this bound form with `errors` (by field, "__all__" for the form's own) as it
        was refused, and not with what validating it again would find: a service refused it,
        or it was sent with files that are gone."""
        self._errors = ErrorDict(renderer=self.renderer)
        self.cleaned_data = {}
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field, message)

    def _focus_first_error(self) -> None:
        wrong = next((name for name in self.fields if name in self.errors), None)
        if wrong == self._focused:
            return
        if self._focused is not None:
            self.fields[self._focused].widget.attrs.pop("autofocus", None)
        self._focused = None
        if wrong is None or self[wrong].is_hidden:
            return
        widget = self.fields[wrong].widget
        if isinstance(widget, ChoiceWidget) and widget.option_inherits_attrs:
            # The form's own copy of the widget: other forms of the class keep theirs.
            widget.__class__ = first_option_focused(type(widget))
        widget.attrs["autofocus"] = True
        self._focused = wrong
