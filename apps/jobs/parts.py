"""The parts of a print job as they go to the printer: the document (pages selected, a booklet
imposed where the printer cannot), its options translated for the printer, and its job
sheets; each part named with the job's marker, so that a resend can find it at the printer.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from apps.jobs.build import (
    JobSheetDetails,
    geometry_of,
    impose_booklet,
    pages_by_document,
    parse_page_ranges,
    pdf_geometry,
    select_pages,
    write_job_sheet,
)
from apps.jobs.documents import DocumentError, spool_path
from apps.jobs.models import Job
from apps.jobs.options import JobOptions, needs_local_booklet, sent_options
from apps.printers.choices import PrinterKind
from apps.printers.ipp_values import (
    SEPARATE_DOCUMENTS,
    engine_view,
    ipp_attributes,
    takes_several_documents,
)
from apps.printers.models import Printer
from apps.rules.selectors import engine_for_rule_file, engine_for_version
from printmgmt.ipp import Attribute
from printmgmt.ppde.engine import RuleEngine

JOB_SHEETS = "org.savapage-job-sheets"
JOB_SHEETS_MEDIA = "org.savapage-job-sheets-media"
JOB_NAME_OCTETS = 255


@dataclass(frozen=True)
class Part:
    """One IPP job we send for a print job: the job itself or one of its sheets.

    A job of several documents, for a printer that prints them separately, lists them in
    `separate_documents` (name and file), sent with Create-Job and a Send-Document each;
    `document` is then the first of them."""

    suffix: str  # "" for the job, "start" / "end" for the sheets
    document: Path
    attributes: list[Attribute]
    separate_documents: tuple[tuple[str, Path], ...] = ()

    def marker(self, job: Job) -> str:
        """What identifies this part at the printer (a job's marker is a random UUID)."""
        return f"[pm-{job.marker.hex}{'-' + self.suffix if self.suffix else ''}]"

    def job_name(self, job: Job) -> str:
        """The title and the marker, at most 255 octets (IPP's limit for a name): a printer
        that cut a longer name could cut the marker, and a resend would not find the job."""
        marker = " " + self.marker(job)
        room = JOB_NAME_OCTETS - len(marker)
        title = job.title[:100].encode()[:room].decode(errors="ignore")
        return title + marker


class WorkDir:
    """A temporary directory for the files a build makes, created when the first one is.

    Most jobs are sent as stored and need none; making and removing a directory costs a
    millisecond or more on some file systems, on the way from release to the printer."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.path: Path | None = None

    def file(self, name: str) -> Path:
        if self.path is None:
            self.path = Path(tempfile.mkdtemp(prefix=self.prefix))
        return self.path / name

    def remove(self) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None


def priced_with(job: Job) -> RuleEngine:
    """The engine of the rule file version that priced the job at its release, whatever is
    active now: the job is built, and what it did not get is priced, as it was charged."""
    assert job.printer is not None
    if job.rule_version_id is not None:
        return engine_for_version(job.rule_version_id)
    return engine_for_rule_file(job.printer.rule_file)


def build_parts(job: Job, workdir: WorkDir) -> list[Part]:
    """The documents and attributes to send, in order; raises DocumentError."""
    assert job.printer is not None
    source = spool_path(job.document_name)
    if not source.exists():
        raise DocumentError("the stored document is missing")
    pages = parse_page_ranges(job.page_ranges, job.page_count)
    options: JobOptions = {
        name: value if isinstance(value, str) else tuple(value)
        for name, value in job.options.items()
    }
    engine = priced_with(job)
    local_booklet = needs_local_booklet(job.printer, engine, options)
    # As decided and priced at the release, whatever the printer says it can do now: one that
    # no longer takes several documents refuses them, and the job fails with its refund.
    runs = document_runs(job, pages) if job.documents_printed_separately else []
    separate: list[tuple[str, Path]] = []
    if runs:
        for number, (name, run) in enumerate(runs, start=1):
            document = workdir.file(f"document-{number}.pdf")
            select_pages(source, run, document)
            if local_booklet:
                booklet = workdir.file(f"booklet-{number}.pdf")
                impose_booklet(document, booklet)
                document = booklet
            separate.append((name, document))
        document = separate[0][1]
    else:
        document = source
        if len(pages) != job.page_count:
            document = workdir.file("selected.pdf")
            select_pages(source, pages, document)
        if local_booklet:
            booklet = workdir.file("booklet.pdf")
            impose_booklet(document, booklet)
            document = booklet
    translation = engine.translate(
        sent_options(job.printer, engine, options),
        target="ppd" if job.printer.kind == PrinterKind.CUPS_QUEUE else "ipp",
        printer=engine_view(job.printer.capabilities),
        geometry=(
            geometry_of(job.first_page_landscape, job.first_page_rotation)
            if document == source
            else pdf_geometry(document)
        ),
    )
    if translation.refusal is not None:
        raise DocumentError(f"{translation.refusal.option}: {translation.refusal.message}")
    attributes = ipp_attributes(translation.attributes)
    if job.copies > 1 and "copies" not in translation.attributes:
        attributes.append(Attribute.integer("copies", job.copies))
    if separate:
        attributes.append(Attribute.keyword("multiple-document-handling", SEPARATE_DOCUMENTS))
    parts = [Part("", document, attributes, tuple(separate))]
    sheets = options.get(JOB_SHEETS, "none")
    wanted = {sheets} if isinstance(sheets, str) else set(sheets)
    for kind, keyword in (("start", "job-start-sheet"), ("end", "job-end-sheet")):
        if keyword in wanted:
            sheet = workdir.file(f"{kind}-sheet.pdf")
            write_job_sheet(_sheet_details(job, kind), sheet)
            parts.insert(0 if kind == "start" else len(parts), _sheet_part(kind, sheet, options))
    return parts


def separate_runs(job: Job, printer: Printer, pages: list[int]) -> list[tuple[str, list[int]]]:
    """The job's documents as the printer prints them separately: each one's name and its
    selected pages (document_runs). None when the printer takes one document per job."""
    if not takes_several_documents(printer.capabilities):
        return []
    return document_runs(job, pages)


def document_runs(job: Job, pages: list[int]) -> list[tuple[str, list[int]]]:
    """Each document's name and its selected pages (pages_by_document); none for a job of one
    document or a page selection within one."""
    if len(job.documents) < 2:
        return []
    runs = pages_by_document(job.document_page_counts, pages)
    if len(runs) < 2:
        return []
    return [(str(job.documents[index]["name"]), run) for index, run in runs]


def _sheet_details(job: Job, kind: str) -> JobSheetDetails:
    assert job.printer is not None
    return JobSheetDetails(
        kind=kind,
        job_id=job.pk,
        title=job.title,
        owner=job.owner.get_username(),
        printer=job.printer.name,
        pages=job.page_count,
        copies=job.copies,
        released_at=timezone.localtime(job.state_changed_at),
    )


def _sheet_part(kind: str, sheet: Path, options: JobOptions) -> Part:
    attributes = [Attribute.keyword("sides", "one-sided")]
    media = options.get(JOB_SHEETS_MEDIA)
    if media:
        first = media if isinstance(media, str) else media[0]
        attributes.append(Attribute.keyword("media", first))
    return Part(kind, sheet, attributes)
