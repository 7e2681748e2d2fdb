"""How the portal speaks of the documents of a job of several documents (Job.documents)."""

from __future__ import annotations

from django.utils.translation import ngettext


def documents_count(count: int) -> str:
    """ "3 documents", in the page's language."""
    return ngettext("%(count)d document", "%(count)d documents", count) % {"count": count}
