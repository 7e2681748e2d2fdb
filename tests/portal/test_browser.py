"""The portal in a real browser (Debian's Chromium, headless) against the product under uvicorn,
with a real Celery worker and a real IPP printer. Screenshots go to PRINTMGMT_TEST_ARTIFACTS."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pikepdf
import pytest
from playwright.sync_api import Browser, Page, Route, ViewportSize, expect, sync_playwright

from apps.accounts.models import User
from apps.accounts.roles import PRINTER_ADMIN, STAFF
from apps.jobs.choices import JobSource, JobState
from apps.jobs.models import Job
from apps.jobs.release import job_quote
from apps.jobs.services import job_create_held
from apps.portal.thumbnails import THUMBNAIL_WIDTH_PX, busy_png, placeholder_png
from apps.printers.models import Printer, SidePrice
from apps.printers.services import printer_add
from tests.jobs.conftest import wait_for_end
from tests.pdfs import make_pdf
from tests.peers import OFFICE_FINISHER_ATTRIBUTES, IppEvePrinterFactory
from tests.portal.conftest import (
    GREY_DUPLEX_SIDE,
    GREY_SIDE,
    PASSWORD,
    PORTAL_RULES,
    finisher_rule_file,
    person,
)
from tests.servers import AsgiServer
from tests.workers import WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.peers]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1200, "height": 900}


def artifacts() -> Path:
    folder = Path(os.environ.get("PRINTMGMT_TEST_ARTIFACTS", "var/test-artifacts")) / "portal"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser(asgi_server: AsgiServer, celery_worker: WorkerProcess) -> Iterator[Browser]:
    """Chromium, driven from this process. Playwright's sync API runs an event loop in this
    thread, so Django's guard against ORM calls from async code is lifted for the test process
    only; the server and the worker (started first) keep it."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Debian's chromium is not installed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture
def office(transactional_db: None, ippeveprinter_factory: IppEvePrinterFactory) -> Printer:
    peer = ippeveprinter_factory(name="Office Finisher", attributes=OFFICE_FINISHER_ATTRIBUTES)
    printer = printer_add("finisher", peer.uri, location="Room 12", rule_file=finisher_rule_file())
    for color, one, two in ((False, GREY_SIDE, GREY_DUPLEX_SIDE), (True, "0.50", "0.40")):
        SidePrice.objects.create(
            printer=printer,
            media="iso_a4_210x297mm",
            color=color,
            one_sided=Decimal(one),
            two_sided=Decimal(two),
        )
    return printer


def log_in(page: Page, server: AsgiServer, user: User) -> None:
    page.goto(f"{server.base_url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def fits_the_phone(page: Page) -> None:
    """Nothing makes the page scroll sideways on a phone."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def images_loaded(page: Page, selector: str) -> int:
    return int(
        page.eval_on_selector_all(
            selector, "images => images.filter(i => i.complete && i.naturalWidth > 0).length"
        )
    )


def test_staff_uploads_picks_options_sees_the_price_releases_and_sees_it_print(
    browser: Browser,
    asgi_server: AsgiServer,
    celery_worker: WorkerProcess,
    office: Printer,
    tmp_path: Path,
) -> None:
    staff = person("sam", STAFF)
    page = browser.new_page(viewport=PHONE)
    log_in(page, asgi_server, staff)

    page.goto(f"{asgi_server.base_url}/inbox/")
    page.get_by_label("Document").set_input_files(str(make_pdf(tmp_path / "minutes.pdf", 3)))
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("minutes is waiting in your inbox")
    page.wait_for_function("document.querySelector('img.thumb').naturalWidth > 0")
    # Dropping a file on the upload form uploads it too.
    dropped = page.evaluate_handle(
        """bytes => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], "agenda.pdf",
                                        {type: "application/pdf"}));
            return transfer;
        }""",
        list(make_pdf(tmp_path / "agenda.pdf", 1).read_bytes()),
    )
    page.dispatch_event("[data-dropzone]", "drop", {"dataTransfer": dropped})
    expect(page.get_by_role("status")).to_contain_text("agenda is waiting in your inbox")
    fits_the_phone(page)
    page.screenshot(path=artifacts() / "staff-1-inbox-phone.png", full_page=True)

    page.get_by_role("link", name=re.compile(r"^Release minutes")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("minutes")
    page.wait_for_function(
        "[...document.querySelectorAll('.thumbs img')].every(i => i.naturalWidth > 0)"
    )
    assert images_loaded(page, ".thumbs img") == 3
    page.get_by_label("Printer").select_option(label="finisher — Room 12 (Idle)")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#quote")).to_contain_text("0.30 EUR")  # 3 one-sided grey sides
    page.get_by_label("Two-sided").select_option("two-sided-long-edge")
    page.get_by_label("Staple").select_option(label="Staple top left")
    # A two-sided sheet (2 × 0.08), a last one-sided side (0.10) and a staple (0.05).
    expect(page.locator("#quote")).to_contain_text("0.31 EUR")
    page.get_by_text("How the price is made").click()
    expect(page.locator("#quote table")).to_contain_text("staple")
    fits_the_phone(page)
    page.screenshot(path=artifacts() / "staff-2-release-phone.png", full_page=True)

    page.get_by_role("button", name="Release", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("minutes was released to finisher")
    job = Job.objects.get(owner=staff, title="minutes")
    assert wait_for_end(job.pk).state == JobState.COMPLETED
    expect(page.locator(f"tr[data-job='{job.pk}']")).to_contain_text("Completed", timeout=15000)
    fits_the_phone(page)
    page.screenshot(path=artifacts() / "staff-3-history-phone.png", full_page=True)
    assert job.price is None or job.price == Decimal("0.31")
    assert Job.objects.get(pk=job.pk).options["org.savapage-finishings-staple"] == "20"

    page.get_by_role("link", name="My account").click()
    expect(page.locator("main")).to_contain_text("19.69 EUR")
    page.close()


def test_admin_breaks_a_rule_file_sees_where_fixes_activates_and_rolls_back(
    browser: Browser, asgi_server: AsgiServer, office: Printer, tmp_path: Path
) -> None:
    admin = person("pat", PRINTER_ADMIN)
    staff = person("sam", STAFF)
    job = job_create_held(staff, make_pdf(tmp_path / "a.pdf", 2), title="a", source=JobSource.WEB)
    staple = {"org.savapage-finishings-staple": "20"}
    price_before = job_quote(job, office, staple).total
    assert price_before is not None
    assert office.rule_file is not None
    rule_file = office.rule_file

    page = browser.new_page(viewport=DESKTOP)
    log_in(page, asgi_server, admin)
    page.goto(f"{asgi_server.base_url}/manage/rules/{rule_file.pk}/")
    broken = PORTAL_RULES + "*SPConstraint: broken org.savapage-finishings-staple/!3\n"
    line = broken.count("\n")
    page.get_by_label("Rules", exact=True).fill(broken)
    page.get_by_role("button", name="Validate").click()
    diagnostic = page.locator("#diagnostics li.error").first
    expect(diagnostic).to_contain_text(re.compile(rf"line {line}, column \d+: error"))
    expect(page.locator(f"#L{line}.error .caret")).to_be_visible()
    page.screenshot(path=artifacts() / "admin-1-rule-error.png", full_page=True)

    page.get_by_label("Comment").fill("broken on purpose")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("Saved as version 2 (1 error)")
    # The draft cannot be activated; version 1 keeps pricing jobs.
    expect(page.get_by_role("button", name="Activate v2")).to_have_count(0)
    assert job_quote(job, Printer.objects.get(pk=office.pk), staple).total == price_before

    cheaper = PORTAL_RULES.replace("0.05 staple", "0.02 staple")
    page.get_by_label("Rules", exact=True).fill(cheaper)
    page.get_by_role("button", name="Validate").click()
    expect(page.locator("#diagnostics")).to_contain_text("No problems found.")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("button", name="Activate v3").click()
    expect(page.get_by_role("status")).to_contain_text("Version 3 is active")
    assert job_quote(job, Printer.objects.get(pk=office.pk), staple).total == (
        price_before - Decimal("0.03")
    )
    page.get_by_role("link", name="Diff v3").click()
    expect(page.locator("pre.diff .add")).to_contain_text("0.02 staple")
    page.screenshot(path=artifacts() / "admin-2-diff.png", full_page=True)
    page.go_back()

    page.get_by_role("button", name="Roll back to v1").click()
    expect(page.get_by_role("status")).to_contain_text("Version 1 is active")
    page.screenshot(path=artifacts() / "admin-3-rolled-back.png", full_page=True)
    assert job_quote(job, Printer.objects.get(pk=office.pk), staple).total == price_before
    page.close()


def test_choosing_another_printer_keeps_the_copies_pages_and_options_chosen(
    browser: Browser, asgi_server: AsgiServer, office: Printer, tmp_path: Path
) -> None:
    # The new printer's form came with the job's copies and pages again: 5 copies became 1.
    other = Printer.objects.create(
        name="annex",
        uri="ipp://127.0.0.1:9/ipp/print",  # never sent to
        kind=office.kind,
        rule_file=office.rule_file,
        capabilities=office.capabilities,
        state=office.state,
    )
    staff = person("sam", STAFF)
    job = job_create_held(staff, make_pdf(tmp_path / "a.pdf", 4), title="a", source=JobSource.WEB)
    page = browser.new_page(viewport=DESKTOP)
    log_in(page, asgi_server, staff)
    page.goto(f"{asgi_server.base_url}/jobs/{job.pk}/")
    page.get_by_label("Printer").select_option(str(office.pk))
    page.wait_for_load_state("networkidle")
    page.get_by_label("Copies").fill("5")
    page.locator("[data-pick][value='2']").check()
    page.locator("[data-pick][value='3']").check()
    page.get_by_label("Staple").select_option(label="Staple top left")
    page.get_by_label("Printer").select_option(str(other.pk))
    expect(page.locator("[data-printer]")).to_have_attribute("data-printer", str(other.pk))
    expect(page.get_by_label("Copies")).to_have_value("5")
    expect(page.get_by_label("Pages", exact=True)).to_have_value("2-3")
    expect(page.get_by_label("Staple")).to_have_value("20")
    page.close()


def test_the_thumbnail_of_a_page_far_taller_than_wide_stays_in_its_box(
    browser: Browser, asgi_server: AsgiServer, office: Printer, tmp_path: Path
) -> None:
    # A till receipt: drawn at the thumbnail's width, it was 31680 pixels tall in the inbox.
    receipt = pikepdf.new()
    receipt.add_blank_page().MediaBox = pikepdf.Array([0, 0, 1, 100000])
    receipt.save(tmp_path / "receipt.pdf")
    staff = person("sam", STAFF)
    job = job_create_held(staff, tmp_path / "receipt.pdf", title="receipt", source=JobSource.WEB)
    page = browser.new_page(viewport=DESKTOP)
    log_in(page, asgi_server, staff)
    boxes = (("/inbox/", "img.thumb", 128), (f"/jobs/{job.pk}/", ".thumbs img", 170))
    for path, selector, most in boxes:
        page.goto(f"{asgi_server.base_url}{path}")
        page.wait_for_function(f"document.querySelector('{selector}').naturalWidth > 0")
        height = page.eval_on_selector(selector, "image => image.getBoundingClientRect().height")
        assert height <= most + 2, path  # and its border
    page.close()


def test_a_tick_keeps_the_selected_pages_past_the_last_thumbnail(
    browser: Browser, asgi_server: AsgiServer, office: Printer, tmp_path: Path
) -> None:
    # The page selection was made from the ticks alone: pages typed went, those past the 60
    # thumbnails too.
    staff = person("sam", STAFF)
    job = job_create_held(
        staff, make_pdf(tmp_path / "thesis.pdf", 90), title="thesis", source=JobSource.WEB
    )
    page = browser.new_page(viewport=DESKTOP)
    log_in(page, asgi_server, staff)
    page.goto(f"{asgi_server.base_url}/jobs/{job.pk}/")
    pages = page.get_by_label("Pages", exact=True)
    pages.fill("1-3,58-70,80-")
    expect(page.locator("[data-pick]:checked")).to_have_count(6)  # 1-3 and 58-60
    page.locator("[data-pick][value='2']").uncheck()
    expect(pages).to_have_value("1,3,58-60,61-70,80-")
    page.locator("[data-pick][value='10']").check()
    expect(pages).to_have_value("1,3,10,58-60,61-70,80-")
    page.close()


def test_a_thumbnail_not_drawn_yet_is_asked_for_again_and_one_given_up_is_not(
    browser: Browser, asgi_server: AsgiServer, transactional_db: None, tmp_path: Path
) -> None:
    """The busy picture was the crossed-out page, which stayed until the page was reloaded:
    users took their document for broken. Each page's first answer here is what the server
    answers when no drawing child is free in time (page 2), or for a page given up (page 1);
    the browser's next requests reach the server."""
    staff = person("sam", STAFF)
    job = job_create_held(
        staff, make_pdf(tmp_path / "memo.pdf", 2), title="memo", source=JobSource.WEB
    )
    page = browser.new_page(viewport=DESKTOP)
    log_in(page, asgi_server, staff)
    asked: dict[int, list[str]] = {1: [], 2: []}

    def first_answer(number: int, body: bytes) -> Callable[[Route], None]:
        def answer(route: Route) -> None:
            asked[number].append(route.request.url)
            if len(asked[number]) > 1:
                route.continue_()
                return
            route.fulfill(
                status=200,
                content_type="image/png",
                body=body,
                headers={"Cache-Control": "no-store"},
            )

        return answer

    page.route(f"**/jobs/{job.pk}/pages/1.png*", first_answer(1, placeholder_png()))
    page.route(f"**/jobs/{job.pk}/pages/2.png*", first_answer(2, busy_png()))
    page.goto(f"{asgi_server.base_url}/jobs/{job.pk}/")
    given_up, busy = page.locator(".thumbs img").nth(0), page.locator(".thumbs img").nth(1)
    expect(busy).to_have_attribute("alt", "Page 2 of memo — Preview not ready yet")
    # Asked for again without a reload, and drawn: its alt text as before.
    expect(busy).to_have_attribute("alt", "Page 2 of memo", timeout=15_000)
    assert busy.evaluate("image => image.naturalWidth") == THUMBNAIL_WIDTH_PX
    assert [url.rsplit("/", 1)[1] for url in asked[2]] == ["2.png", "2.png?try=1"]
    # The crossed-out page is final: not asked for again when the other page was.
    page.wait_for_timeout(500)
    assert asked[1] == [f"{asgi_server.base_url}/jobs/{job.pk}/pages/1.png"]
    expect(given_up).to_have_attribute("alt", "Page 1 of memo")
    page.close()
