"""How the portal speaks of the documents of a job of several documents (Job.documents)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import ngettext

from apps.jobs.models import Job


def documents_count(count: int) -> str:
    """ "3 documents", in the page's language."""
    return ngettext("%(count)d document", "%(count)d documents", count) % {"count": count}


@dataclass(frozen=True)
class DocumentPages:
    """One document of a job and the job's pages it holds (numbered through the job, as the
    page selection numbers them)."""

    name: str
    first: int
    last: int


def document_pages(job: Job) -> list[DocumentPages]:
    """The job's documents in order, each with its pages; none for a job of one document."""
    listed = []
    last = 0
    for document in job.documents:
        pages = int(document["pages"])
        listed.append(DocumentPages(str(document["name"]), last + 1, last + pages))
        last += pages
    return listed
