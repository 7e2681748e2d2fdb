"""What every form of the product does."""

from __future__ import annotations

from django import forms


class FirstErrorFocus(forms.BaseForm):
    """A form whose first wrong field has the focus as the page opens (`autofocus`): a screen
    reader then reads the field's label and its error (aria-describedby) at once, where
    Django's error list alone says nothing, and the keyboard is where the correction goes."""

    def full_clean(self) -> None:
        super().full_clean()
        wrong = next((name for name in self.fields if name in self.errors), None)
        if wrong is not None and not self[wrong].is_hidden:
            self.fields[wrong].widget.attrs["autofocus"] = True
