"""Post/Redirect/Get for refused forms. A refused change is answered with a redirect to the
page that shows its form, never with that page itself: reloading the page then asks for it
again, where it sent the refused change again (and the browser asked to send the form again).
What was sent and why it was refused wait in the session for that page (by its path), which
shows the form once, as sent, each error at its field. A password is never kept (the session
is stored on the server): its field asks for it again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from django import forms
from django.http import HttpRequest, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from apps.core.forms import FirstErrorFocus

_SESSION_KEY = "refused_forms"

RefusedForm = TypeVar("RefusedForm", bound=FirstErrorFocus)


@dataclass(frozen=True)
class Refusal:
    """A refused form as it was sent: `form` says which of the page's forms."""

    form: str
    data: QueryDict
    errors: dict[str, list[str]]

    def shown_on(self, form: RefusedForm) -> RefusedForm:
        """`form` (bound to `data`) with the errors it was refused with, not those validating
        it again would find: a service's refusal is not the form's to find."""
        form.show_refused(self.errors)
        return form


def refused(
    request: HttpRequest, form: forms.BaseForm, to: str, *, name: str = ""
) -> HttpResponseRedirect:
    """Keep the refused `form` (the page's form `name`) for the page at path `to`, and send
    the browser there."""
    data = form.data
    passwords = [
        field for field, kind in form.fields.items() if isinstance(kind.widget, forms.PasswordInput)
    ]
    sent = {
        key: [str(value) for value in data.getlist(key)]
        if isinstance(data, QueryDict)
        else [str(data[key])]
        for key in (form.add_prefix(field) for field in form.fields if field not in passwords)
        if key in data
    }
    errors = {
        field: [str(message) for message in messages] for field, messages in form.errors.items()
    }
    for field in passwords:
        if data.get(form.add_prefix(field)):
            errors.setdefault(field, []).append(
                _("Type the password again: it is not kept when a form is refused.")
            )
    kept = dict(request.session.get(_SESSION_KEY, {}))
    kept[to] = {"form": name, "data": sent, "errors": errors}
    request.session[_SESSION_KEY] = kept
    return redirect(to)


def refusal_taken(request: HttpRequest) -> Refusal | None:
    """The refusal waiting for this page, taken: it is shown once."""
    kept = request.session.get(_SESSION_KEY)
    if not kept or request.path not in kept:
        return None
    kept = dict(kept)
    waiting = kept.pop(request.path)
    request.session[_SESSION_KEY] = kept
    data = QueryDict(mutable=True)
    for key, values in waiting["data"].items():
        data.setlist(key, values)
    return Refusal(form=waiting["form"], data=data, errors=waiting["errors"])
