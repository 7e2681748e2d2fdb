"""Staff pages through the test client: upload, inbox, release with the live price, bad input."""

from __future__ import annotations

import html
import io
import pickle
import re
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pikepdf
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone, translation
from lxml import html as lxml_html
from PIL import Image
from pypdf import PdfWriter

from apps.accounts.choices import EntryKind
from apps.accounts.models import LedgerEntry
from apps.jobs import convert
from apps.jobs.choices import JobSource, JobState
from apps.jobs.endings import finish
from apps.jobs.models import Job
from apps.jobs.release import ReleaseRefused, job_quote, job_release
from apps.jobs.services import job_create_held
from apps.portal import services as portal_services
from apps.portal import thumbnails
from apps.portal.tasks import prune_thumbnails
from apps.portal.thumbnails import thumbnail_path
from apps.printers.choices import PrinterState
from apps.printers.models import Printer, PrinterGroup
from printmgmt.translatable import Text
from tests.pdfs import make_pdf, slow_page_pdf
from tests.portal.accessibility import error_at, parse
from tests.portal.conftest import (
    GREY_DUPLEX_SIDE,
    OFFICE_CAPABILITIES,
    PASSWORD,
    PORTAL_RULES,
    People,
    finisher_rule_file,
    logged_in,
    office_printer,
)

pytestmark = pytest.mark.django_db

STAPLE = "opt.org.savapage-finishings-staple"
SIDES = "opt.sides"
MEDIA = "opt.media"


def pdf_bytes(tmp_path: Path, pages: int = 2) -> bytes:
    return make_pdf(tmp_path / f"upload-{pages}.pdf", pages).read_bytes()


def upload(client: Client, *files: tuple[str, bytes]) -> str:
    documents = [io.BytesIO(content) for _, content in files]
    for document, (name, _) in zip(documents, files, strict=True):
        document.name = name
    response = client.post("/inbox/upload/", {"document": documents}, follow=True)
    # Redirected to the inbox, which shows a refusal at the Document field.
    assert response.redirect_chain == [("/inbox/", 302)]
    assert response.status_code == 200
    return response.content.decode()


def release_data(job: Job, target: Printer, client: Client, **changes: str) -> dict[str, str]:
    """The release form as the page renders it (defaults chosen), with `changes` applied."""
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    data = {"printer": str(target.pk), "copies": "1", "pages": ""}
    for select_name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        option = re.search(r'<option value="([^"]*)"[^>]*selected', body) or re.search(
            r'<option value="([^"]*)"', body
        )
        data[select_name] = option.group(1) if option else ""
    data.update(changes)
    # As the page's script does: the price shown for these options is the one expected.
    fragment = client.post(f"/jobs/{job.pk}/quote/", data).content.decode()
    expected = re.search(r'name="expected_price" value="([^"]*)"', fragment)
    data["expected_price"] = expected.group(1) if expected else ""
    return data


# ---------------------------------------------------------------- log-in


def release_all_data(client: Client, target: Printer, **changes: str) -> dict[str, str]:
    """The Release all form as the page renders it for `target`: the jobs it counted and the
    total it showed, with `changes` applied."""
    page = client.get("/inbox/release-all/", {"printer": target.pk}).content.decode()
    assert f'<option value="{target.pk}" selected>' in page
    jobs = re.search(r'name="jobs" value="([^"]*)"', page)
    assert jobs is not None
    total = re.search(r'name="expected_total" value="([^"]*)"', page)
    assert total is not None
    account = re.search(r'<option value="(\d+)"', page[page.index('name="account"') :])
    assert account is not None
    data = {
        "printer": str(target.pk),
        "account": account.group(1),
        "jobs": html.unescape(jobs.group(1)),
        "expected_total": total.group(1),
    }
    data.update(changes)
    return data


@override_settings(LOGIN_FAILURES_ALLOWED=1, LOGIN_FAILURE_WINDOW_SECONDS=60)
@pytest.mark.parametrize(
    ("language", "address", "told"),
    [
        ("en", "10.0.1.1", "Wait 1 minute and try again."),
        ("de", "10.0.1.2", "Warten Sie 1 Minute und versuchen Sie es erneut."),
    ],
)
def test_a_login_refused_for_a_minute_says_one_minute(
    people: People, language: str, address: str, told: str
) -> None:
    client = Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language)
    client.post("/login/", {"username": "sam", "password": "wrong"})
    refused = client.post("/login/", {"username": "sam", "password": PASSWORD})
    assert told in html.unescape(refused.content.decode())


def test_login_page_labels_its_fields_and_button(client: Client) -> None:
    page = client.get("/login/").content.decode()
    assert '<label for="id_username">Username</label>' in page
    assert '<label for="id_password">Password</label>' in page
    assert ">Log in</button>" in page
    assert "csrfmiddlewaretoken" in page


@override_settings(LOGIN_FAILURES_ALLOWED=3)
def test_login_is_refused_after_repeated_failures_even_with_the_right_password(
    people: People,
) -> None:
    client = Client(REMOTE_ADDR="10.0.0.1")
    for guess in range(3):
        response = client.post("/login/", {"username": "sam", "password": f"wrong {guess}"})
        assert "Too many" not in response.content.decode()
    refused = client.post("/login/", {"username": "sam", "password": PASSWORD})
    assert refused.status_code == 200
    assert "Too many failed log-ins for sam from your address" in refused.content.decode()
    # Another address, or another user from this address, is not blocked.
    elsewhere = Client(REMOTE_ADDR="10.0.0.2")
    assert elsewhere.post("/login/", {"username": "sam", "password": PASSWORD}).status_code == 302
    assert client.post("/login/", {"username": "olga", "password": PASSWORD}).status_code == 302


@override_settings(LOGIN_FAILURES_ALLOWED=3)
def test_the_same_wrong_password_again_counts_once(people: People) -> None:
    client = Client(REMOTE_ADDR="10.0.0.5")
    for _ in range(5):
        client.post("/login/", {"username": "sam", "password": "my old password"})
    assert client.post("/login/", {"username": "sam", "password": PASSWORD}).status_code == 302


def test_the_failure_window_outlasts_the_cache_default_timeout(
    people: People, tmp_path: Path
) -> None:
    file_cache = {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache"}
    with override_settings(
        CACHES={"default": {**file_cache, "LOCATION": str(tmp_path)}},
        LOGIN_FAILURE_WINDOW_SECONDS=900,
    ):
        client = Client(REMOTE_ADDR="10.0.0.4")
        for guess in range(2):
            client.post("/login/", {"username": "sam", "password": f"wrong {guess}"})
        expiries = []
        for entry in tmp_path.glob("*.djcache"):  # the count and a mark per wrong password
            with entry.open("rb") as stored:
                expiries.append(pickle.load(stored))  # noqa: S301 - our own file, expiry first
    # The file cache's incr is a set with its default 300 s: the window must be set again.
    assert len(expiries) == 3
    assert min(expiries) - time.time() > 800


def test_a_successful_login_clears_earlier_failures(people: People) -> None:
    client = Client(REMOTE_ADDR="10.0.0.3")
    with override_settings(LOGIN_FAILURES_ALLOWED=2):
        client.post("/login/", {"username": "sam", "password": "wrong 1"})
        assert client.post("/login/", {"username": "sam", "password": PASSWORD}).status_code == 302
        client.post("/logout/")
        client.post("/login/", {"username": "sam", "password": "wrong 2"})
        assert client.post("/login/", {"username": "sam", "password": PASSWORD}).status_code == 302


# ---------------------------------------------------------------- upload and inbox


def test_uploading_two_pdfs_holds_two_jobs_with_their_page_counts(
    people: People, tmp_path: Path
) -> None:
    client = logged_in(people.staff)
    page = upload(
        client, ("minutes.pdf", pdf_bytes(tmp_path, 2)), ("plan.pdf", pdf_bytes(tmp_path, 5))
    )
    assert "minutes is waiting in your inbox (2 pages)" in page
    assert "plan is waiting in your inbox (5 pages)" in page
    jobs = Job.objects.filter(owner=people.staff, state=JobState.HELD).order_by("title")
    assert [(job.title, job.page_count) for job in jobs] == [("minutes", 2), ("plan", 5)]
    assert all(
        job.document_name.endswith(".pdf") and "minutes" not in job.document_name for job in jobs
    )


def test_plain_text_is_converted_and_held(people: People) -> None:
    page = upload(logged_in(people.staff), ("notes.txt", b"hello\nworld\n"))
    assert "notes is waiting in your inbox (1 page)." in page


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.pdf", b"", "empty.pdf is empty"),
        ("broken.pdf", b"%PDF-1.7\nthis is not a PDF at all", "broken.pdf: the PDF cannot be read"),
        (
            "program.exe",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00",
            "program.exe: the document is not PDF",
        ),
    ],
)
def test_bad_uploads_are_refused_by_name_and_nothing_is_held(
    people: People, name: str, content: bytes, message: str
) -> None:
    page = upload(logged_in(people.staff), (name, content))
    # Read with the Document field, which has the focus: not only a message at the top.
    assert message in error_at(page, "document")
    assert not Job.objects.exists()


def test_of_two_documents_the_one_taken_is_told_at_the_top_the_one_refused_at_the_field(
    people: People, tmp_path: Path
) -> None:
    client = logged_in(people.staff)
    page = upload(client, ("good.pdf", pdf_bytes(tmp_path)), ("empty.pdf", b""))
    assert error_at(page, "document") == "Not uploaded: empty.pdf is empty."
    messages = parse(page).xpath("//ul[@class='messages']/li")
    assert [item.text for item in messages] == ["good is waiting in your inbox (2 pages)."]
    assert Job.objects.get().title == "good"
    # Reloading the page asks for the inbox, not the upload again (good would be held twice),
    # and the refusal, told once, is gone.
    again = client.get("/inbox/").content.decode()
    assert Job.objects.count() == 1
    assert "empty.pdf" not in again


@override_settings(MAX_DOCUMENT_MB=1)
def test_an_upload_too_large_to_read_is_refused_at_the_field(people: People) -> None:
    body = b"0" * (21 * 1024 * 1024)
    response = logged_in(people.staff).post(
        "/inbox/upload/", body, content_type="multipart/form-data; boundary=x", follow=True
    )
    assert response.redirect_chain == [("/inbox/", 302)]
    assert error_at(response.content, "document") == "The upload is too large."


def test_an_encrypted_pdf_is_refused_with_what_to_do(people: People, tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=make_pdf(tmp_path / "secret.pdf", 1))
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    page = upload(logged_in(people.staff), ("secret.pdf", buffer.getvalue()))
    assert "secret.pdf: the PDF is encrypted: remove its password" in page
    assert not Job.objects.exists()


@override_settings(MAX_DOCUMENT_MB=1)
def test_a_document_over_the_size_limit_is_refused(people: People) -> None:
    big = b"%PDF-1.7\n" + b"0" * (1024 * 1024 + 10)
    page = upload(logged_in(people.staff), ("huge.pdf", big))
    assert "huge.pdf is larger than the 1 MB allowed" in page
    assert not Job.objects.exists()


def test_more_documents_than_one_upload_takes_are_refused_saying_what_to_do(
    people: People, tmp_path: Path
) -> None:
    # The bare "at most 20 documents at a time" read as a fragment, not as a refusal.
    pdf = pdf_bytes(tmp_path, pages=1)
    page = upload(logged_in(people.staff), *((f"part{n}.pdf", pdf) for n in range(21)))
    assert error_at(page, "document") == (
        "Not uploaded: at most 20 documents at a time: choose fewer and upload the rest after."
    )
    assert not Job.objects.exists()


def test_upload_without_a_file_says_so(people: People) -> None:
    response = logged_in(people.staff).post("/inbox/upload/", {}, follow=True)
    assert error_at(response.content, "document") == "Choose a document to upload."


def held_copies(template: Job, title: str, numbers: range) -> None:
    """More held one-page jobs of the template's owner and document, written in one insert."""
    Job.objects.bulk_create(
        Job(
            owner=template.owner,
            title=title.format(number),
            source=template.source,
            document_name=template.document_name,
            page_count=1,
            expires_at=template.expires_at,
        )
        for number in numbers
    )


def test_inbox_shows_each_held_job_with_pages_age_expiry_and_a_thumbnail(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff, pages=4, title="thesis")
    client = logged_in(people.staff)
    page = client.get("/inbox/").content.decode()
    assert "thesis" in page
    assert "4 pages" in page
    assert "Web upload" in page
    assert "received" in page
    assert "expires in" in page
    assert f"/jobs/{job.pk}/pages/1.png" in page
    assert ">Release all…</a>" in page
    thumbnail = client.get(f"/jobs/{job.pk}/pages/1.png")
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/png"
    assert thumbnail.getvalue().startswith(b"\x89PNG")
    assert client.get(f"/jobs/{job.pk}/pages/9.png").status_code == 404


def test_an_upload_of_many_slow_documents_takes_its_conversion_budget_and_no_more(
    people: People, printer: Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each PostScript file could take two minutes of Ghostscript, and one request may carry
    twenty: forty minutes of a web thread. A PDF needs no conversion and is still held."""
    monkeypatch.setattr(portal_services, "UPLOAD_CONVERSION_SECONDS", 3)
    endless = b"%!PS\n{} loop\n"
    started = time.monotonic()
    page = upload(
        logged_in(people.staff),
        *[(f"loop-{number}.ps", endless) for number in range(1, 5)],
        ("memo.pdf", pdf_bytes(tmp_path)),
    )
    assert time.monotonic() - started < 10
    assert "loop-1.ps: the PostScript took too long to convert" in html.unescape(page)
    for number in range(2, 5):
        assert (
            f"loop-{number}.ps: not converted: converting the documents before it took the 3 "
            "seconds an upload may take; upload it again on its own"
        ) in html.unescape(page)
    assert [job.title for job in Job.objects.filter(owner=people.staff)] == ["memo"]


def test_an_image_needing_more_memory_than_a_conversion_may_have_is_refused(
    people: People, printer: Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PNG of a few hundred kilobytes near the pixel limit took this process 1.4 GB (and
    twenty in one request as many times the seconds): it is converted in a limited child."""
    monkeypatch.setattr(convert, "_IMAGE_MEMORY_BYTES", 400 * 1024**2)
    large = tmp_path / "poster.png"
    # Made in a child: 400 MB decoded, which this process must not count as its own.
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from PIL import Image; "
            "Image.new('RGBA', (12000, 8300), (200, 30, 30, 128)).save(sys.argv[1])",
            str(large),
        ],
        check=True,
    )
    spool = Path(settings.SPOOL_DIR)
    stored = set(spool.iterdir()) if spool.exists() else set()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    page = html.unescape(upload(logged_in(people.staff), ("poster.png", large.read_bytes())))
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # kB
    assert (
        "Not uploaded: poster.png: the image takes too much memory or time to convert: send it "
        "with fewer pixels, or on its own."
    ) in page
    assert not Job.objects.filter(owner=people.staff).exists()
    assert set(spool.iterdir()) == stored


def test_a_page_too_slow_to_draw_shows_an_hourglass_and_a_placeholder_after_its_last_try(
    people: People, printer: Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page waited for as long as PDFium drew (minutes for some pages), holding a thread;
    then it was crossed out at its first try, which a loaded server may fail."""
    monkeypatch.setattr(thumbnails, "THUMBNAIL_RENDER_SECONDS", 0.5)
    monkeypatch.setattr(thumbnails, "THUMBNAIL_RETRY_SECONDS", 0.0)  # tried at each view
    job = job_create_held(
        people.staff, slow_page_pdf(tmp_path / "plan.pdf"), title="plan", source=JobSource.WEB
    )
    client = logged_in(people.staff)
    for tried in range(1, thumbnails.THUMBNAIL_RENDER_ATTEMPTS + 1):
        started = time.monotonic()
        thumbnail = client.get(f"/jobs/{job.pk}/pages/1.png")
        assert time.monotonic() - started < 2.5
        assert thumbnail.status_code == 200
        assert thumbnail["Content-Type"] == "image/png"
        if tried < thumbnails.THUMBNAIL_RENDER_ATTEMPTS:
            assert thumbnail.content == thumbnails.busy_png()
            assert thumbnail["Cache-Control"] == "no-store"
    assert thumbnail.content == thumbnails.placeholder_png()
    assert thumbnail["Cache-Control"] == "private, max-age=3600"


@pytest.mark.django_db(transaction=True)  # the request in a thread of its own sees the job
def test_a_thumbnail_without_a_child_in_time_shows_an_hourglass_for_now(
    people: People, printer: Printer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was answered 503, which the page showed as a broken image; then with the crossed-out
    page of one that cannot be drawn, which told the user their document was broken."""
    monkeypatch.setattr(thumbnails, "THUMBNAIL_WAIT_SECONDS", 0.5)
    plan = pikepdf.open(slow_page_pdf(tmp_path / "slow.pdf"))
    plan.add_blank_page()
    plan.save(tmp_path / "plan.pdf")
    job = job_create_held(people.staff, tmp_path / "plan.pdf", title="plan", source=JobSource.WEB)

    viewer = logged_in(people.staff)

    def view_slow_page() -> None:
        viewer.get(f"/jobs/{job.pk}/pages/1.png")
        connection.close()

    # Page 1 is being drawn, for seconds: page 2 waits for it.
    drawing = threading.Thread(target=view_slow_page)
    drawing.start()
    deadline = time.monotonic() + 10
    while people.staff.pk not in thumbnails._POOL._drawing_since:  # page 1 has its child
        assert time.monotonic() < deadline, "page 1 was never drawn"
        time.sleep(0.01)
    client = logged_in(people.staff)
    thumbnail = client.get(f"/jobs/{job.pk}/pages/2.png")
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/png"
    assert thumbnail.content == thumbnails.busy_png() != thumbnails.placeholder_png()
    # Wider than any page drawn: what the page's script knows it by, to ask again.
    busy_width = Image.open(io.BytesIO(thumbnail.content)).width
    assert busy_width == thumbnails.BUSY_THUMBNAIL_WIDTH_PX > thumbnails.THUMBNAIL_WIDTH_PX
    assert thumbnail["Cache-Control"] == "no-store"
    drawing.join()
    # Busy is not given up: no mark keeps the page from being drawn when it is asked again.
    target = thumbnail_path(job.document_name, 2)
    assert not target.with_suffix(".given-up").exists()
    assert not target.exists()


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_thumbnails_of_the_inbox_and_a_job_say_how_to_know_one_not_drawn_yet(
    people: People, printer: Printer, held: Callable[..., Job], language: str
) -> None:
    """The page's script asks again for a thumbnail whose picture is the busy one, and says so
    in its alt text, in the page's language."""
    job = held(people.staff, pages=2)
    client = logged_in(people.staff)
    busy_alt = {"en": "Preview not ready yet", "de": "Vorschau noch nicht fertig"}[language]
    for url, images in (
        ("/inbox/", "//ul[@class='jobs']"),
        (f"/jobs/{job.pk}/", "//ul[@class='thumbs']"),
    ):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content
        (listing,) = parse(page).xpath(images)
        assert listing.get("data-thumbnails") is not None
        assert listing.get("data-busy-width") == str(thumbnails.BUSY_THUMBNAIL_WIDTH_PX)
        assert listing.get("data-busy-alt") == busy_alt
        assert listing.xpath(".//img")


def test_inbox_lists_newest_first_escapes_titles_and_rounds_times_down(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    older = held(people.staff, title='<em>memo & "draft"')
    held(people.staff, title="newer")
    now = timezone.now()
    Job.objects.filter(pk=older.pk).update(
        created_at=now - timedelta(minutes=7, seconds=50),
        expires_at=now + timedelta(hours=49, minutes=59),
    )
    page = logged_in(people.staff).get("/inbox/").content.decode()
    assert page.count('<li class="card job">') == 2
    assert page.index("newer") < page.index("&lt;em&gt;memo &amp; &quot;draft&quot;")
    assert "<em>memo" not in page
    assert "received 7 minutes ago · expires in 2 days" in page
    assert f'action="/jobs/{older.pk}/cancel/"' in page
    assert 'class="pager"' not in page


def test_a_jobs_page_says_when_it_expires_as_german_says_it(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff)
    Job.objects.filter(pk=job.pk).update(expires_at=timezone.now() + timedelta(hours=71))
    client = logged_in(people.staff)
    client.cookies["django_language"] = "de"
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    # Not Django's "läuft ab in 2 Tage, 22 Stunden": "in" takes the dative.
    assert "läuft ab in 2 Tagen" in page
    assert "Tage," not in page


def test_inbox_shows_fifty_jobs_a_page_newest_first_with_links_between_pages(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    oldest = held(people.staff, pages=1, title="job 000.")
    held_copies(oldest, "job {:03d}.", range(1, 60))
    client = logged_in(people.staff)

    def inbox(query: str = "") -> tuple[str, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/inbox/{query}")
        assert response.status_code == 200
        return response.content.decode(), len(queries)

    first, first_queries = inbox()
    assert first.count('<li class="card job">') == 50
    assert "Jobs 1–50 of 60, newest first." in first
    assert "Page 1 of 2" in first
    assert 'href="/inbox/?page=2" rel="next"' in first
    assert 'rel="prev"' not in first
    assert first.index("job 059.") < first.index("job 010.")
    assert "job 009." not in first

    second, second_queries = inbox("?page=2")
    assert second.count('<li class="card job">') == 10
    assert "Jobs 51–60 of 60, newest first." in second
    assert 'href="/inbox/?page=1" rel="prev"' in second
    assert 'rel="next"' not in second
    assert "job 000." in second
    assert "job 010." not in second
    assert second_queries == first_queries
    # Canceling a job brings the user back to the page it was on.
    assert f'action="/jobs/{oldest.pk}/cancel/?page=2"' in second
    assert 'cancel/?page=1"' not in first
    canceled = client.post(f"/jobs/{oldest.pk}/cancel/?page=2")
    assert canceled.status_code == 302
    assert canceled["Location"] == "/inbox/?page=2"
    assert Job.objects.get(pk=oldest.pk).state == JobState.CANCELED

    # Past the end: the last page. Not a page number: the first. Never an error.
    assert "Page 2 of 2" in inbox("?page=7")[0]
    for nonsense in ("0", "-1", "abc", "²", "9" * 40):
        assert "Page 1 of 2" in inbox(f"?page={nonsense}")[0]


def test_inbox_query_count_does_not_grow_with_the_number_of_jobs(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    client = logged_in(people.staff)

    def queries_for_inbox() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/inbox/").status_code == 200
        return len(queries)

    for number in range(5):
        held(people.staff, pages=1, title=f"few-{number}")
    with_five = queries_for_inbox()
    template = Job.objects.filter(owner=people.staff).first()
    assert template is not None
    held_copies(template, "many-{}", range(45))
    assert Job.objects.filter(owner=people.staff, state=JobState.HELD).count() == 50
    assert queries_for_inbox() == with_five


def test_history_query_count_does_not_grow_with_the_number_of_jobs(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    client = logged_in(people.staff)
    template = held(people.staff, pages=1)

    def make(count: int) -> None:
        Job.objects.bulk_create(
            Job(
                owner=people.staff,
                title=f"done-{number}",
                source=template.source,
                document_name=template.document_name,
                page_count=1,
                expires_at=template.expires_at,
                state=JobState.COMPLETED,
                printer=printer,
                price=Decimal("0.10"),
            )
            for number in range(count)
        )

    def queries_for_history() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/history/").status_code == 200
        return len(queries)

    make(5)
    with_five = queries_for_history()
    make(45)
    assert queries_for_history() == with_five


# ---------------------------------------------------------------- release


def test_job_page_offers_the_printer_options_with_defaults_and_a_price(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff, pages=3)
    page = logged_in(people.staff).get(f"/jobs/{job.pk}/").content.decode()
    for label in (
        "Printer",
        "Copies",
        "Pages",
        "Account to charge",
        "Two-sided",
        "Staple",
        "Paper size",
        "Colour",
        "Punch",
        "Fold",
        "Booklet",
        "Front cover",
        "Rotate 180°",
        "Pages per side",
    ):
        assert re.search(rf"<label for=\"[^\"]+\"[^>]*>{re.escape(label)}</label>", page), label
    assert 'value="one-sided" selected' in page
    assert "This job came with options" not in page  # it came with none
    assert "finisher — Room 12 (Idle)" in page
    # 3 one-sided grey A4 sides at 0.10 (and each finishing's "none" costs nothing).
    assert "0.30 EUR" in page
    assert 'name="expected_price" value="0.3' in page
    assert 'aria-live="polite"' in page
    for number in (1, 2, 3):
        assert f"/jobs/{job.pk}/pages/{number}.png" in page
    assert ">Release</button>" in page
    assert ">Cancel</button>" in page


def came_from_a_print_dialog(job: Job) -> Job:
    """The job as the IPP printer holds one: two copies of pages 1-2, two-sided, stapled, on
    US Letter (which the test printer does not have)."""
    Job.objects.filter(pk=job.pk).update(
        copies=2,
        page_ranges="1-2",
        options={
            "sides": "Two-Sided-Long-Edge",
            "org.savapage-finishings-staple": "20",
            "media": "na_letter_8.5x11in",
        },
    )
    return Job.objects.get(pk=job.pk)


def test_the_release_dialog_starts_from_what_the_job_came_with(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = came_from_a_print_dialog(held(people.staff, pages=4))
    page = logged_in(people.staff).get(f"/jobs/{job.pk}/").content.decode()
    assert re.search(r'name="copies" value="2"', page)
    assert re.search(r'name="pages" value="1-2"', page)
    assert 'value="two-sided-long-edge" selected' in page
    assert 'value="20" selected' in page
    assert 'value="iso_a4_210x297mm" selected' in page  # Letter is not offered: the default
    assert "This job came with options this printer cannot do" in page
    assert "US Letter" in page
    # 2 copies of 2 two-sided sides at 0.08, and a staple at 0.05 per copy.
    assert "0.42 EUR" in page


def test_release_all_sends_each_job_as_it_came(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = came_from_a_print_dialog(held(people.staff, pages=4))
    client = logged_in(people.staff)
    client.post("/inbox/release-all/", release_all_data(client, printer))
    released = Job.objects.get(pk=job.pk)
    assert released.state == JobState.RELEASED
    assert (released.copies, released.page_ranges, released.price) == (2, "1-2", Decimal("0.42"))
    assert released.options["sides"] == "two-sided-long-edge"
    assert released.options["org.savapage-finishings-staple"] == "20"
    assert released.options["media"] == "iso_a4_210x297mm"


def test_release_all_keeps_a_job_whose_finishing_the_printer_cannot_do(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    # Stapled in two places on the desktop; this printer staples one corner only. Released
    # with the printer's default, it printed unstapled, unseen.
    # It was named by its IPP name and value (org.savapage-finishings-staple=28), in English
    # to a German reader too: now as the release dialog names them.
    job = held(people.staff, pages=2)
    Job.objects.filter(pk=job.pk).update(options={"org.savapage-finishings-staple": "28"})
    client = logged_in(people.staff)
    for language, refusal in (
        ("de", "Heften „Zwei Heftklammern links“ bietet dieser Drucker nicht an."),
        ("en", "Staple “Two staples left” is not offered by this printer."),
    ):
        page = client.post(
            "/inbox/release-all/",
            release_all_data(client, printer),
            follow=True,
            HTTP_ACCEPT_LANGUAGE=language,
        ).content.decode()
        assert Job.objects.get(pk=job.pk).state == JobState.HELD
        assert refusal in html.unescape(page)
        assert "org.savapage" not in page
    assert not LedgerEntry.objects.filter(job_id=job.pk).exists()


def test_release_all_says_a_price_that_changed_in_the_readers_language(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    """A job's price changed between the total and its release: the German portal said "the
    price changed from 0.01 to 0.10: check it and release again", amounts unlocalized."""
    job = held(people.staff, pages=1)
    with translation.override("de"):
        (outcome,) = portal_services.jobs_release_all(
            people.staff,
            printer.pk,
            account_id=people.staff.personal_account.pk,
            job_ids=[job.pk],
            prices={job.pk: Decimal("0.01")},
        )
    assert outcome.problem == (
        "sein Preis hat sich von 0,01 EUR auf 0,10 EUR geändert: Prüfen Sie ihn und geben Sie "
        "ihn frei"
    )
    assert Job.objects.get(pk=job.pk).state == JobState.HELD


def test_release_all_says_how_much_money_is_missing_in_the_readers_language(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    """The German portal said "29.70 ist mehr als die verfügbaren 20.00 …": amounts as Python
    writes them, not as the reader does."""
    job = held(people.staff, pages=3, title="thesis")
    Job.objects.filter(pk=job.pk).update(copies=99)  # 29.70 EUR; 20.00 EUR available
    client = logged_in(people.staff)
    page = client.post(
        "/inbox/release-all/",
        release_all_data(client, printer),
        follow=True,
        HTTP_ACCEPT_LANGUAGE="de",
    ).content.decode()
    assert (
        "thesis bleibt angehalten: nicht genug Geld auf dem Konto: es fehlen 9,70 EUR"
        in html.unescape(page)
    )
    assert Job.objects.get(pk=job.pk).state == JobState.HELD


def test_quote_follows_duplex_and_staple_with_its_breakdown(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff, pages=4)
    client = logged_in(people.staff)
    data = release_data(job, printer, client, **{SIDES: "two-sided-long-edge", STAPLE: "20"})
    fragment = client.post(f"/jobs/{job.pk}/quote/", data).content.decode()
    # 4 two-sided sides at 0.08 = 0.32, plus a staple at 0.05 per copy.
    assert "0.37 EUR" in fragment
    assert "staple" in fragment
    assert 'name="expected_price" value="0.37' in fragment


def test_the_breakdown_speaks_the_pages_language(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff, pages=4)
    client = logged_in(people.staff)
    client.cookies["django_language"] = "de"
    data = release_data(job, printer, client, **{SIDES: "two-sided-long-edge", STAPLE: "20"})
    fragment = client.post(f"/jobs/{job.pk}/quote/", data).content.decode()
    assert "0,37 EUR" in fragment
    cells = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td>", fragment)
    assert "je Seite, beidseitig" in [scope for _, scope in cells]
    assert "je Exemplar" in [scope for _, scope in cells]
    # The stored form keeps the plain notation the release checks against.
    assert 'name="expected_price" value="0.37' in fragment


def test_a_forbidden_combination_is_named_and_not_released(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff)
    client = logged_in(people.staff)
    data = release_data(job, printer, client, **{STAPLE: "20", MEDIA: "iso_a5_148x210mm"})
    fragment = client.post(f"/jobs/{job.pk}/quote/", data).content.decode()
    # In the words of the print dialog, not the rule file's.
    in_words = "Staple “Staple top left” cannot be combined with Paper size “A5” on this printer."
    assert html.unescape(fragment).count(in_words) == 1
    assert "no-staple-a5" not in fragment
    response = client.post(f"/jobs/{job.pk}/", {**data, "action": "release"})
    assert response.status_code == 409
    page = html.unescape(response.content.decode())
    assert "Not released: correct what the price box names." in page
    assert in_words in page
    assert Job.objects.get(pk=job.pk).state == JobState.HELD


def test_release_charges_once_and_a_second_click_is_told_so(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff, pages=2)
    client = logged_in(people.staff)
    data = release_data(job, printer, client, **{SIDES: "two-sided-long-edge", STAPLE: "20"})
    data["action"] = "release"
    first = client.post(f"/jobs/{job.pk}/", data, follow=True)
    assert "report was released to finisher" in first.content.decode()
    second = client.post(f"/jobs/{job.pk}/", data, follow=True)
    assert second.redirect_chain[-1][0] == "/history/"
    assert "released already" in second.content.decode()
    charges = LedgerEntry.objects.filter(kind=EntryKind.CHARGE, job_id=job.pk)
    assert [entry.amount for entry in charges] == [Decimal("-0.21")]
    released = Job.objects.get(pk=job.pk)
    assert released.state == JobState.RELEASED
    assert released.options["org.savapage-finishings-staple"] == "20"


def test_releasing_a_job_canceled_in_another_tab_says_nothing_was_printed(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    """It said the job "was released already": its owner went to the printer for it."""
    job = held(people.staff, pages=2)
    client = logged_in(people.staff)
    data = {**release_data(job, printer, client), "action": "release"}
    client.post(f"/jobs/{job.pk}/cancel/")
    response = client.post(f"/jobs/{job.pk}/", data, follow=True)
    assert response.redirect_chain[-1][0] == "/history/"
    page = response.content.decode()
    assert "report is canceled: it was never released, so nothing was printed or charged." in page
    assert "released already" not in page
    assert not LedgerEntry.objects.filter(kind=EntryKind.CHARGE, job_id=job.pk).exists()


def test_a_changed_price_is_shown_and_asked_again(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff, pages=2)
    client = logged_in(people.staff)
    data = release_data(job, printer, client)
    assert data["expected_price"].startswith("0.2")
    printer.side_prices.filter(color=False).update(one_sided=Decimal("0.15"))
    response = client.post(f"/jobs/{job.pk}/", {**data, "action": "release"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "The price changed from 0.20 EUR to 0.30 EUR" in page
    assert 'name="expected_price" value="0.3' in page
    assert Job.objects.get(pk=job.pk).state == JobState.HELD
    again = release_data(job, printer, client)
    assert client.post(f"/jobs/{job.pk}/", {**again, "action": "release"}).status_code == 302
    assert Job.objects.get(pk=job.pk).price == Decimal("0.30")


def test_an_unreachable_printer_is_named_and_nothing_is_charged(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff)
    client = logged_in(people.staff)
    data = release_data(job, printer, client)
    Printer.objects.filter(pk=printer.pk).update(
        state=PrinterState.UNREACHABLE, state_message="connection refused"
    )
    fragment = client.post(f"/jobs/{job.pk}/quote/", data).content.decode()
    assert "Printer finisher is unreachable" in fragment
    response = client.post(f"/jobs/{job.pk}/", {**data, "action": "release"})
    assert response.status_code == 409
    assert "cannot be reached (connection refused)" in response.content.decode()
    assert not LedgerEntry.objects.filter(kind=EntryKind.CHARGE).exists()


def test_not_enough_money_says_how_much_is_missing(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff, pages=3)
    client = logged_in(people.staff)
    data = release_data(job, printer, client, copies="99")
    response = client.post(f"/jobs/{job.pk}/", {**data, "action": "release"})
    assert response.status_code == 409
    assert "Not enough money on the account: 9.70 EUR missing." in response.content.decode()


def test_the_thumbnails_of_the_selected_pages_are_ticked(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    """They were all unticked whatever the selection: a tick added after a refused release (or
    on a job that came with pages chosen) replaced the pages chosen before with its own."""

    def ticked(page: str) -> list[str]:
        return re.findall(r'name="pick" value="(\d+)" data-pick checked>', page)

    job = held(people.staff, pages=5)
    job.page_ranges = "2-3"  # chosen in a desktop's print dialog
    job.save()
    client = logged_in(people.staff)
    assert ticked(client.get(f"/jobs/{job.pk}/").content.decode()) == ["2", "3"]
    data = release_data(job, printer, client, pages="", copies="999")
    refused = client.post(f"/jobs/{job.pk}/", {**data, "pick": ["1", "4"], "action": "release"})
    assert refused.status_code == 409  # not enough money
    assert ticked(refused.content.decode()) == ["1", "4"]
    everything = release_data(job, printer, client, pages="")
    page = client.post(f"/jobs/{job.pk}/?check=1", {**everything, "action": "quote"})
    assert ticked(page.content.decode()) == []  # no selection is every page


def test_picked_thumbnails_become_the_page_selection_without_javascript(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff, pages=5)
    client = logged_in(people.staff)
    data = release_data(job, printer, client)
    data.pop("expected_price")
    # Ticks that are no page number ("²" passes str.isdigit()) are left out.
    picks = {**data, "pick": ["1", "2", "3", "5", "²", "0", "x"]}
    checked = client.post(f"/jobs/{job.pk}/?check=1", {**picks, "action": "quote"})
    assert checked.status_code == 200  # "Check price": the price of the ticked pages
    price = re.search(r'name="expected_price" value="([^"]*)"', checked.content.decode())
    assert price is not None
    assert price.group(1) == "0.40"
    assert Job.objects.get(pk=job.pk).state == JobState.HELD
    response = client.post(
        f"/jobs/{job.pk}/", {**picks, "expected_price": price.group(1), "action": "release"}
    )
    assert response.status_code == 302
    released = Job.objects.get(pk=job.pk)
    assert released.page_ranges == "1-3,5"
    assert released.price == Decimal("0.40")


def test_a_release_without_the_price_shown_charges_nothing_and_shows_it(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff, pages=2)
    client = logged_in(people.staff)
    data = release_data(job, printer, client, copies="0")
    refused = client.post(f"/jobs/{job.pk}/", {**data, "action": "release"})
    assert refused.status_code == 400
    # The corrected form as that page rendered it: no price was shown, so none is expected.
    corrected = {**data, "copies": "50", "expected_price": ""}
    response = client.post(f"/jobs/{job.pk}/", {**corrected, "action": "release"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Check the price, then press Release to print." in page
    assert 'name="expected_price" value="10.00"' in page
    assert Job.objects.get(pk=job.pk).state == JobState.HELD
    assert not LedgerEntry.objects.filter(kind=EntryKind.CHARGE).exists()


def test_check_price_without_javascript_releases_nothing(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff, pages=2)
    client = logged_in(people.staff)
    data = release_data(job, printer, client)
    response = client.post(f"/jobs/{job.pk}/?check=1", {**data, "action": "quote"})
    assert response.status_code == 200
    assert f'name="expected_price" value="{data["expected_price"]}"' in response.content.decode()
    assert Job.objects.get(pk=job.pk).state == JobState.HELD
    assert not LedgerEntry.objects.filter(kind=EntryKind.CHARGE).exists()


def test_a_stopped_printer_is_refused_at_release_as_in_the_price_box(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff)
    client = logged_in(people.staff)
    data = release_data(job, printer, client)
    Printer.objects.filter(pk=printer.pk).update(
        state=PrinterState.STOPPED, state_message="paper jam"
    )
    response = client.post(f"/jobs/{job.pk}/", {**data, "action": "release"})
    assert response.status_code == 409
    assert "printer finisher is stopped (paper jam)" in response.content.decode()
    assert not LedgerEntry.objects.filter(kind=EntryKind.CHARGE).exists()


@pytest.mark.parametrize("tampered", ["1e999", "99999999999999999999999999999.99", "Infinity"])
def test_a_tampered_expected_price_is_a_form_error(
    people: People, printer: Printer, held: Callable[..., Job], tampered: str
) -> None:
    job = held(people.staff)
    client = logged_in(people.staff)
    data = release_data(job, printer, client)
    response = client.post(
        f"/jobs/{job.pk}/", {**data, "expected_price": tampered, "action": "release"}
    )
    assert response.status_code == 400
    assert Job.objects.get(pk=job.pk).state == JobState.HELD


def test_bad_copies_and_page_ranges_are_marked_on_the_form(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff, pages=2)
    client = logged_in(people.staff)
    data = release_data(job, printer, client, copies="0")
    response = client.post(f"/jobs/{job.pk}/", {**data, "action": "release"})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    data = release_data(job, printer, client, pages="7-9")
    fragment = client.post(f"/jobs/{job.pk}/quote/", data).content.decode()
    assert 'role="alert"' in fragment
    assert "7" in fragment


def test_changing_printer_brings_that_printers_form(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    plain = Printer.objects.create(name="plain", uri="ipp://127.0.0.1:9/ipp/plain", kind="ipp")
    job = held(people.staff)
    client = logged_in(people.staff)
    fragment = client.get(f"/jobs/{job.pk}/?fragment=release&printer={plain.pk}").content.decode()
    assert "<html" not in fragment
    assert f'value="{plain.pk}" selected' in fragment
    assert "Staple" not in fragment


def test_choosing_another_printer_keeps_what_the_user_typed_and_chose(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    """The new printer's form came with the job's copies, pages and account again: five
    copies typed before choosing another printer became one, priced and printed so."""
    other = office_printer("ipp://127.0.0.1:9/ipp/other", name="other", rule_file=None)
    other.rule_file = printer.rule_file
    other.save()
    job = held(people.staff, pages=3)
    client = logged_in(people.staff)
    account = people.staff.personal_account.pk
    # What the page's script sends: the form as it is, and the printer chosen.
    carried: dict[str, str | int] = {
        "fragment": "release",
        "printer": other.pk,
        "copies": "5",
        "pages": "1-2",
        "account": account,
        SIDES: "two-sided-long-edge",
        STAPLE: "20",
        MEDIA: "na_letter_8.5x11in",  # the other printer has no such paper: its default
    }
    fragment = client.get(f"/jobs/{job.pk}/", carried).content.decode()
    assert f'value="{other.pk}" selected' in fragment
    assert re.search(r'<input type="number" name="copies" value="5"', fragment)
    assert re.search(r'<input type="text" name="pages" value="1-2"', fragment)
    assert f'<option value="{account}" selected>' in fragment
    assert '<option value="two-sided-long-edge" selected>' in fragment
    assert '<option value="20" selected>' in fragment
    assert '<option value="iso_a4_210x297mm" selected>' in fragment
    quote = job_quote(
        job,
        other,
        {"sides": "two-sided-long-edge", "org.savapage-finishings-staple": "20"},
        copies=5,
        page_ranges="1-2",
    )
    assert f'name="expected_price" value="{quote.total}"' in fragment


def test_release_all_releases_every_held_job_and_keeps_refused_ones(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    first, second = (
        held(people.staff, pages=1, title="one"),
        held(people.staff, pages=1, title="two"),
    )
    client = logged_in(people.staff)
    form = client.get("/inbox/release-all/").content.decode()
    assert "2 held jobs go to the printer" in form
    assert ">Release all</button>" in form
    response = client.post("/inbox/release-all/", release_all_data(client, printer), follow=True)
    assert "2 jobs released." in response.content.decode()
    third = held(people.staff, pages=1, title="three")
    response = client.post("/inbox/release-all/", release_all_data(client, printer), follow=True)
    assert "1 job released." in response.content.decode()
    assert Job.objects.get(pk=third.pk).state == JobState.RELEASED
    assert set(
        Job.objects.filter(pk__in=[first.pk, second.pk]).values_list("state", flat=True)
    ) == {JobState.RELEASED}


def test_release_all_shows_the_total_and_releases_only_for_the_total_shown(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    """Release all showed no price: jobs that came with copies from a print dialog were
    charged for them unseen."""
    dialog = came_from_a_print_dialog(held(people.staff, pages=4, title="dialog"))
    plain = held(people.staff, pages=1, title="plain")
    client = logged_in(people.staff)
    form = client.get("/inbox/release-all/").content.decode()
    # 2 copies of 2 two-sided sides with a staple (0.42), and one side (0.10).
    assert "Total: <strong>0.52 EUR</strong>" in form
    assert 'name="expected_total" value="0.52"' in form
    account = str(people.staff.personal_account.pk)
    unseen = client.post("/inbox/release-all/", {"printer": printer.pk, "account": account})
    assert unseen.status_code == 409  # a page that showed no total
    assert "Check the total, then press Release all." in unseen.content.decode()
    data = release_all_data(client, printer)
    printer.side_prices.filter(color=False).update(one_sided=Decimal("0.20"))
    changed = client.post("/inbox/release-all/", data)
    assert changed.status_code == 409
    page = changed.content.decode()
    assert "The total changed from 0.52 EUR to 0.62 EUR." in page
    assert 'name="expected_total" value="0.62"' in page
    assert {job.state for job in Job.objects.filter(pk__in=[dialog.pk, plain.pk])} == {
        JobState.HELD
    }
    assert not LedgerEntry.objects.filter(job_id__in=[dialog.pk, plain.pk]).exists()
    client.post("/inbox/release-all/", {**data, "expected_total": "0.62"})
    prices = dict(Job.objects.filter(owner=people.staff).values_list("title", "price"))
    assert prices == {"dialog": Decimal("0.42"), "plain": Decimal("0.20")}


def test_release_all_releases_the_jobs_the_page_showed_not_one_that_arrived_since(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    shown = held(people.staff, pages=1, title="shown")
    client = logged_in(people.staff)
    form = client.get("/inbox/release-all/").content.decode()
    assert "1 held job goes to the printer" in form
    jobs = re.search(r'name="jobs" value="([^"]*)"', form)
    assert jobs is not None
    # A phone sends 50 copies while the page is open: it was released and charged unseen.
    arrived = held(people.staff, pages=1, title="arrived")
    Job.objects.filter(pk=arrived.pk).update(copies=50)
    total = re.search(r'name="expected_total" value="([^"]*)"', form)
    assert total is not None
    account = people.staff.personal_account.pk
    response = client.post(
        "/inbox/release-all/",
        {
            "printer": printer.pk,
            "account": account,
            "jobs": jobs.group(1),
            "expected_total": total.group(1),
        },
        follow=True,
    )
    page = response.content.decode()
    assert "1 job released." in page
    assert "1 job arrived after the page was shown: it stays held." in page
    assert Job.objects.get(pk=shown.pk).state == JobState.RELEASED
    assert Job.objects.get(pk=arrived.pk).state == JobState.HELD
    assert not LedgerEntry.objects.filter(job_id=arrived.pk).exists()


def test_cancel_a_held_job_and_history_shows_failures_and_refunds(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    kept, dropped = held(people.staff, title="kept"), held(people.staff, title="dropped")
    client = logged_in(people.staff)
    response = client.post(f"/jobs/{dropped.pk}/cancel/", follow=True)
    assert "dropped was canceled." in response.content.decode()
    assert Job.objects.get(pk=dropped.pk).state == JobState.CANCELED
    data = release_data(kept, printer, client)
    client.post(f"/jobs/{kept.pk}/", {**data, "action": "release"})
    finish(kept.pk, JobState.FAILED, Text("printer says aborted: paper jam"))
    page = client.get("/history/").content.decode()
    assert "Failed" in page
    assert "paper jam" in page
    assert "refunded 0.30 EUR" in page
    assert "Canceled" in page
    assert client.post(f"/jobs/{dropped.pk}/cancel/", follow=True).status_code == 200


def rows_by_id(fragment: bytes) -> dict[str, str]:
    """A live table's rows by id, without their forms' CSRF tokens (new at each fetch)."""
    root = parse(b"<table><tbody>" + fragment + b"</tbody></table>")
    rows = root.xpath("//tr")
    for token in root.xpath("//input[@name='csrfmiddlewaretoken']"):
        token.attrib.pop("value")
    found = {str(row.get("id")): lxml_html.tostring(row, encoding="unicode") for row in rows}
    assert "None" not in found, "a row without an id"
    assert len(found) == len(rows), "an id on two rows"
    return found


def test_the_live_history_changes_only_the_row_of_the_job_that_changed(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    """The page replaces the rows that differ, by id (static/js/portal.js), so its live region
    reads those: it replaced the whole table, and a screen reader could read every row again."""
    budget, minutes = held(people.staff, title="Budget"), held(people.staff, title="Minutes")
    client = logged_in(people.staff)
    for job in (budget, minutes):
        client.post(f"/jobs/{job.pk}/", {**release_data(job, printer, client), "action": "release"})
    before = rows_by_id(client.get("/history/?fragment=rows").content)
    assert set(before) == {f"job-{budget.pk}", f"job-{minutes.pk}"}
    assert rows_by_id(client.get("/history/?fragment=rows").content) == before
    finish(budget.pk, JobState.FAILED, Text("printer says aborted: paper jam"))
    after = rows_by_id(client.get("/history/?fragment=rows").content)
    assert after[f"job-{minutes.pk}"] == before[f"job-{minutes.pk}"]
    assert "paper jam" in after[f"job-{budget.pk}"]


def test_the_live_printer_list_names_its_rows(people: People, printer: Printer) -> None:
    client = logged_in(people.printer_admin)
    first = rows_by_id(client.get("/manage/printers/?fragment=rows").content)
    assert set(first) == {f"printer-{printer.pk}"}
    assert rows_by_id(client.get("/manage/printers/?fragment=rows").content) == first
    printer.delete()
    assert set(rows_by_id(client.get("/manage/printers/?fragment=rows").content)) == {"no-printers"}


def test_my_account_shows_balances_and_transactions(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    page = logged_in(people.staff).get("/account/").content.decode()
    assert "20.00 EUR" in page
    assert "deposit" in page


def test_another_users_job_is_not_found_anywhere(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff)
    intruder = logged_in(people.other_staff)
    for url in (f"/jobs/{job.pk}/", f"/jobs/{job.pk}/pages/1.png"):
        assert intruder.get(url).status_code == 404
    for url in (f"/jobs/{job.pk}/", f"/jobs/{job.pk}/quote/", f"/jobs/{job.pk}/cancel/"):
        assert intruder.post(url, {"action": "release", "printer": printer.pk}).status_code == 404
    assert "report" not in intruder.get("/inbox/").content.decode()
    assert Job.objects.get(pk=job.pk).state == JobState.HELD


def test_forms_carry_csrf_tokens_and_posts_without_them_are_refused(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    job = held(people.staff)
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.staff)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert page.count("csrfmiddlewaretoken") >= 2
    response = client.post(f"/jobs/{job.pk}/cancel/")
    assert response.status_code == 403
    assert "The form expired" in response.content.decode()
    assert Job.objects.get(pk=job.pk).state == JobState.HELD


def test_thumbnails_of_documents_that_left_the_spool_are_pruned(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    prune_thumbnails()  # what earlier tests left behind
    kept, gone = held(people.staff, title="kept"), held(people.staff, title="gone")
    client = logged_in(people.staff)
    for job in (kept, gone):
        assert client.get(f"/jobs/{job.pk}/pages/1.png").status_code == 200
    finish(gone.pk, JobState.CANCELED, Text("canceled"))
    assert prune_thumbnails() == 1
    assert thumbnail_path(kept.document_name, 1).exists()
    assert not thumbnail_path(gone.document_name, 1).exists()
    assert prune_thumbnails() == 0


def test_follow_me_group_sends_the_job_to_a_printer_that_can_print_it(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    plain = office_printer(
        "ipp://127.0.0.1:9/ipp/plain", name="a-plain", rule_file=printer.rule_file
    )
    Printer.objects.filter(pk=plain.pk).update(
        capabilities={
            **OFFICE_CAPABILITIES,
            "finishings-supported": [3],
            "print-color-mode-default": ["color"],
        }
    )
    group = PrinterGroup.objects.create(name="floor-2")
    group.printers.set([plain, printer])
    job = held(people.staff, pages=2)
    client = logged_in(people.staff)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert f'<option value="group:{group.pk}">floor-2: any of a-plain, finisher</option>' in page
    # An option whose default differs between the group's printers starts at "the printer's
    # default": one printer's default may be a value another refuses.
    group_form = client.get(f"/jobs/{job.pk}/?printer=group:{group.pk}").content.decode()
    mode = re.search(r'<select name="opt.print-color-mode"[^>]*>(.*?)</select>', group_form, re.S)
    assert mode is not None
    assert '<option value="" selected>The printer&#x27;s default</option>' in mode.group(1)
    data = release_data(job, printer, client, printer=f"group:{group.pk}")
    assert (
        "Follow-me sends it to a-plain."
        in client.post(f"/jobs/{job.pk}/quote/", data).content.decode()
    )
    data = release_data(job, printer, client, printer=f"group:{group.pk}", **{STAPLE: "20"})
    fragment = client.post(f"/jobs/{job.pk}/quote/", data).content.decode()
    assert "Follow-me sends it to finisher." in fragment
    response = client.post(f"/jobs/{job.pk}/", {**data, "action": "release"}, follow=True)
    assert "report was released to finisher." in response.content.decode()
    assert Job.objects.get(pk=job.pk).printer_id == printer.pk


def _without_finishers(printer: Printer) -> Printer:
    """A printer with the same rule file that offers no finishing at all (only "none")."""
    plain = office_printer(
        "ipp://127.0.0.1:9/ipp/plain", name="a-plain", rule_file=printer.rule_file
    )
    Printer.objects.filter(pk=plain.pk).update(
        capabilities={**OFFICE_CAPABILITIES, "finishings-supported": [3]}
    )
    return plain


def test_a_printer_without_a_booklet_maker_gets_a_booklet_imposed_here(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    # Its rule file maps the booklet; the printer has no booklet maker but prints two-sided on
    # the short edge: the booklet is offered, imposed here and printed so (it was refused:
    # "choose one of: none").
    plain = _without_finishers(printer)
    job = held(people.staff, pages=8)
    booklet = {"org.savapage-finishings-booklet": "toleft-totop", "number-up": "2"}
    released = job_release(job.pk, people.staff, plain.pk, booklet)
    assert released.state == JobState.RELEASED
    assert released.options["sides"] == "two-sided-short-edge"


def test_a_finishing_the_printer_does_not_offer_is_refused_not_dropped(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    plain = _without_finishers(printer)
    job = held(people.staff, pages=2)
    with pytest.raises(ReleaseRefused) as refused:
        job_release(job.pk, people.staff, plain.pk, {"org.savapage-finishings-staple": "20"})
    # The number `lp -o` takes, with what it is.
    assert str(refused.value) == (
        "org.savapage-finishings-staple=20 is not offered by this printer (choose one of: 3 (none))"
    )
    # "none" (3) asks for nothing: released.
    job_release(job.pk, people.staff, plain.pk, {"org.savapage-finishings-staple": "3"})
    assert Job.objects.get(pk=job.pk).state == JobState.RELEASED


def test_job_sheets_the_rule_file_does_not_offer_are_refused_not_printed_for_free(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    # `lp -o` and a desktop's presets (Release-Job) reach job_release unfiltered: sheets the
    # rule file neither offers nor prices were printed, as separate jobs, for nothing.
    job = held(people.staff, pages=2)
    sheets = {"org.savapage-job-sheets": ["job-start-sheet", "job-end-sheet"]}
    with pytest.raises(ReleaseRefused, match="job-sheets=job-start-sheet is not offered"):
        job_release(job.pk, people.staff, printer.pk, sheets)
    assert Job.objects.get(pk=job.pk).state == JobState.HELD
    job_release(job.pk, people.staff, printer.pk, {"org.savapage-job-sheets": "none"})
    assert Job.objects.get(pk=job.pk).state == JobState.RELEASED


def test_a_choice_typed_in_another_case_is_priced_and_sent_as_the_printer_offers_it(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    # `lp -o sides=Two-Sided-Long-Edge -o print-color-mode=Color`: accepted whatever the case,
    # it was priced one-sided (the rules match "two-sided" exactly) and sent as typed.
    job = held(people.staff, pages=4)
    typed = {"sides": "Two-Sided-Long-Edge", "print-color-mode": "Color"}
    quote = job_quote(job, printer, typed)
    assert quote.total == job_quote(job, printer, {k: v.lower() for k, v in typed.items()}).total
    assert quote.total == 4 * Decimal("0.40")
    released = job_release(job.pk, people.staff, printer.pk, typed)
    assert released.options["sides"] == "two-sided-long-edge"
    assert released.options["print-color-mode"] == "color"
    assert released.price == 4 * Decimal("0.40")


def test_a_booklet_is_charged_for_the_sides_it_prints_padded_to_whole_sheets(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    # Six pages make a booklet of two sheets folded in two: four sides go through the printer
    # (its booklet maker, or our imposition, pads with blanks). Three were charged and expected.
    job = held(people.staff, pages=6)
    booklet = {
        "org.savapage-finishings-booklet": "toleft-totop",
        "number-up": "2",
        "sides": "two-sided-short-edge",
    }
    released = job_release(job.pk, people.staff, printer.pk, booklet)
    assert released.price == 4 * GREY_DUPLEX_SIDE + Decimal("0.25")
    assert released.expected_impressions == 4
    # Eight pages fill the two sheets: the same price.
    eight = held(people.staff, pages=8, title="eight")
    assert job_quote(eight, printer, booklet).total == released.price


def test_a_choice_the_rule_file_does_not_price_is_named_in_the_dialogs_words(
    people: People, printer: Printer, held: Callable[..., Job]
) -> None:
    unpriced_fold = PORTAL_RULES.replace(
        "*SPJob/Copy/Cost: 0.03 fold org.savapage-finishings-fold/93\n", ""
    )
    assert unpriced_fold != PORTAL_RULES
    Printer.objects.filter(pk=printer.pk).update(rule_file=finisher_rule_file(unpriced_fold))
    job = held(people.staff)
    client = logged_in(people.staff)
    data = release_data(job, printer, client, **{"opt.org.savapage-finishings-fold": "93"})
    fragment = html.unescape(client.post(f"/jobs/{job.pk}/quote/", data).content.decode())
    assert "Fold “Fold in half” has no price on this printer: choose another." in fragment
    assert "no copy cost rule" not in fragment
