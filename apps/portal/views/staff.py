"""Staff pages: upload, the inbox of held jobs, release with a live price, history, money."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.errors import AccountError, InsufficientFunds
from apps.accounts.roles import RELEASE_OWN_JOBS
from apps.accounts.selectors import (
    account_transactions,
    personal_account_of,
)
from apps.accounts.services import personal_account_ensure
from apps.jobs.choices import JobState
from apps.jobs.documents import DocumentError
from apps.jobs.models import Job
from apps.jobs.release import (
    PriceChanged,
    ReleaseRefused,
    job_release,
)
from apps.portal import selectors
from apps.portal.access import current_user, requires
from apps.portal.documents import documents_count
from apps.portal.forms import ReleaseAllForm, UploadForm
from apps.portal.page_cache import (
    INBOX_PAGES,
    TOKEN_MARKER,
    inbox_page_key,
    with_request_token,
)
from apps.portal.refusals import refusal_taken, refused
from apps.portal.release_page import ReleasePage, accounts_of
from apps.portal.services import (
    documents_upload,
    job_cancel_own,
    jobs_release_all,
    max_upload_request_bytes,
    release_all_prices,
)
from apps.portal.templatetags.portal import money
from apps.portal.thumbnails import (
    ThumbnailBusy,
    ThumbnailUnavailable,
    busy_png,
    placeholder_png,
    thumbnail_render,
)
from apps.printers.models import Printer
from printmgmt.digits import MAX_BYTE_COUNT, whole_number

# ---------------------------------------------------------------- inbox and upload


@require_GET
@requires(RELEASE_OWN_JOBS)
def inbox(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    refusal = refusal_taken(request)
    if refusal is not None:
        upload_form = refusal.shown_on(UploadForm(refusal.data, {}))
        return render(request, "portal/inbox.html", _inbox_context(request, upload_form))
    # The key (with the held-jobs stamp) is read before the jobs: see apps/jobs/held_stamp.py.
    key = inbox_page_key(request, user) if settings.INBOX_PAGE_CACHE_MB else None
    if key is not None and (kept := INBOX_PAGES.get(key)) is not None:
        return HttpResponse(with_request_token(kept, request))
    context = _inbox_context(request, UploadForm())
    if key is None:
        return render(request, "portal/inbox.html", context)
    built = render_to_string(
        "portal/inbox.html", {**context, "csrf_token": TOKEN_MARKER}, request=request
    ).encode()
    INBOX_PAGES.put(key, built)
    return HttpResponse(with_request_token(built, request))


@require_POST
@requires(RELEASE_OWN_JOBS)
def upload(request: HttpRequest) -> HttpResponse:
    """Each document sent becomes a held job, or all of them one job of several documents
    when the user asks so. One refused shows the inbox again with why at the Document field
    (which takes the focus); those taken are told at the top (held together, none is). Either
    way the answer is a redirect: reloading the inbox then never sends the documents again
    (those taken would be held twice)."""
    user = current_user(request)
    # Refuse a body far beyond the limit before reading it.
    declared = whole_number(request.META.get("CONTENT_LENGTH") or "", maximum=MAX_BYTE_COUNT) or 0
    if declared > max_upload_request_bytes():
        return _upload_refused(request, [_("The upload is too large.")])
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_refused(
            request,
            [str(e) for errors in form.errors.values() for e in errors],
            together=bool(form["together"].value()),
        )
    together = form.cleaned_data["together"]
    try:
        outcomes = documents_upload(user, form.cleaned_data["document"], together=together)
    except DocumentError as error:
        return _upload_refused(
            request, [_("Not uploaded: %(problem)s.") % {"problem": error}], together=together
        )
    for outcome in outcomes:
        if outcome.job is not None:
            messages.success(request, _upload_taken(outcome.job))
    problems = [
        _("Not uploaded: %(problem)s.") % {"problem": outcome.problem}
        for outcome in outcomes
        if outcome.job is None
    ]
    if problems:
        return _upload_refused(request, problems, together=together)
    return redirect("portal:inbox")


def _upload_taken(job: Job) -> str:
    pages = job.page_count
    if len(job.documents) > 1:
        return _("%(title)s is waiting in your inbox as one job of %(documents)s (%(pages)s).") % {
            "title": job.title,
            "documents": documents_count(len(job.documents)),
            "pages": ngettext("%(count)d page", "%(count)d pages", pages) % {"count": pages},
        }
    return ngettext(
        "%(title)s is waiting in your inbox (%(pages)d page).",
        "%(title)s is waiting in your inbox (%(pages)d pages).",
        pages,
    ) % {"title": job.title, "pages": pages}


def _upload_refused(
    request: HttpRequest, problems: list[str], *, together: bool = False
) -> HttpResponse:
    """The inbox, showing what was refused at the Document field (the files are not kept;
    the choice to hold them as one job is)."""
    form = UploadForm(data={"together": "on"} if together else {}, files={})
    form.show_refused({"document": problems})
    return refused(request, form, reverse("portal:inbox"))


def _inbox_context(request: HttpRequest, upload_form: UploadForm) -> dict[str, Any]:
    page = selectors.inbox_page(
        current_user(request), whole_number(request.GET.get("page", "")) or 1
    )
    return {"page": page, "jobs": page.lines, "upload_form": upload_form}


@requires(RELEASE_OWN_JOBS)
def release_all(request: HttpRequest) -> HttpResponse:
    """Every held job to one printer, each as it came (a job refused stays held), for the
    total the page showed."""
    user = current_user(request)
    printers = selectors.printers_for(user)
    held = list(selectors.held_jobs_of(user).values_list("pk", flat=True))
    form = ReleaseAllForm(
        request.POST or None,
        printers=printers,
        accounts=accounts_of(user),
        initial={"jobs": ",".join(map(str, held)), "printer": request.GET.get("printer", "")},
    )
    if request.method != "POST" or not form.is_valid():
        return _release_all_page(request, form, held, printers)
    job_ids = form.job_ids()
    printer_id = int(form.cleaned_data["printer"])
    prices = release_all_prices(user, printer_id, job_ids)
    total = sum(prices.values(), Decimal(0))
    seen = form.cleaned_data["expected_total"]
    if seen != total:
        # Never charge a total the user was not shown (another printer chosen, a job's price
        # changed, or a page from before totals were shown).
        problem = (
            _("Check the total, then press Release all.")
            if seen is None
            else _(
                "The total changed from %(seen)s to %(now)s. Check it and press Release all again."
            )
            % {"seen": money(seen), "now": money(total)}
        )
        return _release_all_page(request, form, held, printers, problem=problem, status=409)
    outcomes = jobs_release_all(
        user,
        printer_id,
        account_id=int(form.cleaned_data["account"]),
        job_ids=job_ids,
        prices=prices,
    )
    if job_ids is not None and (newer := len(set(held) - set(job_ids))):
        # Never printed (and charged) unseen: a phone's job sent while the page was open.
        messages.info(
            request,
            ngettext(
                "%(count)d job arrived after the page was shown: it stays held.",
                "%(count)d jobs arrived after the page was shown: they stay held.",
                newer,
            )
            % {"count": newer},
        )
    for outcome in outcomes:
        if outcome.problem:
            messages.error(
                request,
                _("%(title)s stays held: %(problem)s")
                % {"title": outcome.job.title, "problem": outcome.problem},
            )
    released = sum(1 for outcome in outcomes if not outcome.problem)
    if released:
        messages.success(
            request,
            ngettext("%(count)d job released.", "%(count)d jobs released.", released)
            % {"count": released},
        )
        return redirect("portal:history")
    return redirect("portal:inbox")


def _release_all_page(
    request: HttpRequest,
    form: ReleaseAllForm,
    held: list[int],
    printers: list[Printer],
    *,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    """The Release all form with the total for its printer (the one posted, or the first)."""
    named = form.job_ids() if form.is_bound and form.is_valid() else None
    shown = held if named is None else [pk for pk in named if pk in set(held)]
    usable = [printer.pk for printer in printers]
    chosen = whole_number(str(form["printer"].value() or ""))
    printer_id = chosen if chosen in usable else next(iter(usable), None)
    prices = (
        release_all_prices(current_user(request), printer_id, shown)
        if printer_id is not None and shown
        else {}
    )
    count = len(shown)
    total = sum(prices.values(), Decimal(0))
    return render(
        request,
        "portal/release_all.html",
        {
            "form": form,
            "held": count,
            "printers": printers,
            "total": total,
            "expected_total": str(total),  # as posted back, in no language's number format
            "unpriced": count - len(prices),
            "problem": problem,
        },
        status=status,
    )


@require_POST
@requires(RELEASE_OWN_JOBS)
def job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    user = current_user(request)
    job = selectors.own_job(user, job_id)
    try:
        job_cancel_own(user, job.pk)
    except ReleaseRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(title)s was canceled.") % {"title": job.title})
    if job.state != JobState.HELD:
        return redirect("portal:history")
    # Back to the inbox page the job was canceled from.
    page = whole_number(request.GET.get("page", ""))
    inbox_url = reverse("portal:inbox")
    return redirect(f"{inbox_url}?page={page}" if page and page > 1 else inbox_url)


@require_GET
@requires(RELEASE_OWN_JOBS)
def thumbnail(request: HttpRequest, job_id: int, page: int) -> HttpResponseBase:
    job = selectors.own_held_job(current_user(request), job_id)
    try:
        path = thumbnail_render(job.document_name, page, job.owner_id)
    except DocumentError:
        raise Http404 from None
    except ThumbnailBusy:
        # A picture the page can show (a 503 showed a broken image), not the crossed-out page
        # (it will be drawn), and not kept: the page's script asks again a little later.
        busy = HttpResponse(busy_png(), content_type="image/png")
        busy["Cache-Control"] = "no-store"
        return busy
    except ThumbnailUnavailable:
        # PDFium cannot draw it, or its last try failed: not tried again for every view.
        response: HttpResponseBase = HttpResponse(placeholder_png(), content_type="image/png")
        response["Cache-Control"] = "private, max-age=3600"
        return response
    response = FileResponse(path.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@requires(RELEASE_OWN_JOBS)
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    """A held job: its pages, and the release form with the live price."""
    user = current_user(request)
    job = selectors.own_job(user, job_id)
    if job.state != JobState.HELD:
        return _not_held(request, job)
    if request.method == "POST":
        if request.POST.get("action") == "quote":
            # "Check price" without JavaScript: the page with the price, nothing released.
            return render(request, "portal/job_detail.html", _quote_only(request, job))
        return _release(request, job)
    if request.GET.get("fragment") == "release":
        # Another printer chosen: its fields, with what the form held (sent by the script).
        carried = request.GET if "copies" in request.GET else None
        page = ReleasePage(request, job, carried=carried)
        return render(request, "portal/_release_form.html", page.context())
    return render(request, "portal/job_detail.html", ReleasePage(request, job).context())


def _not_held(request: HttpRequest, job: Job) -> HttpResponse:
    """The history, saying what became of a job that left the inbox."""
    if job.printer_id is None:
        # Canceled or expired in the inbox: nobody should look for it at a printer.
        text = _(
            "%(title)s is %(state)s: it was never released, so nothing was printed or charged."
        )
    else:
        text = _("%(title)s is %(state)s: it was released already and is not charged again.")
    messages.info(request, text % {"title": job.title, "state": job.get_state_display().lower()})
    return redirect("portal:history")


def _quote_only(request: HttpRequest, job: Job, **extra: Any) -> dict[str, Any]:
    """The page for the posted options with their current price, to confirm: the price field
    is left for the page to fill with the price shown."""
    posted = request.POST.copy()
    posted["expected_price"] = ""
    return ReleasePage(request, job, posted).context(**extra)


def _release(request: HttpRequest, job: Job) -> HttpResponse:
    page = ReleasePage(request, job, request.POST)
    if not page.form.is_valid() or page.printer is None:
        return render(request, "portal/job_detail.html", page.context(), status=400)
    cleaned = page.form.cleaned_data
    if cleaned["expected_price"] is None:
        # Never charge a price the user was not shown (after a form error, the page had none).
        return _to_confirm(request, job, _("Check the price, then press Release to print."))
    try:
        printer = page.target()
        job_release(
            job.pk,
            page.user,
            printer.pk,
            page.form.chosen_options(),
            copies=cleaned["copies"],
            page_ranges=cleaned["pages"],
            account_id=int(cleaned["account"]),
            expected_price=cleaned["expected_price"],
        )
    except PriceChanged as changed:
        problem = _(
            "The price changed from %(seen)s to %(now)s. Check the new price and press "
            "Release again."
        ) % {"seen": money(changed.seen), "now": money(changed.now)}
    except InsufficientFunds as error:
        problem = _("Not enough money on the account: %(missing)s missing.") % {
            "missing": money(error.missing)
        }
    except (ReleaseRefused, AccountError) as error:
        current = selectors.own_job(page.user, job.pk)
        if current.state != JobState.HELD:
            return _not_held(request, current)
        problem = str(error)
    else:
        messages.success(
            request,
            _("%(title)s was released to %(printer)s.")
            % {"title": job.title, "printer": printer.name},
        )
        return redirect("portal:history")
    return _to_confirm(request, job, problem)


def _to_confirm(request: HttpRequest, job: Job, problem: str) -> HttpResponse:
    """Not released: the page with the current price to confirm, and why."""
    context = _quote_only(request, job, problem=problem)
    shown = context["quote"].quote
    if shown is not None and shown.violations:
        # The price box names the options that cannot go together, in the dialog's words.
        context["problem"] = _("Not released: correct what the price box names.")
    return render(request, "portal/job_detail.html", context, status=409)


@require_POST
@requires(RELEASE_OWN_JOBS)
def job_quote_fragment(request: HttpRequest, job_id: int) -> HttpResponse:
    """The live price and rule messages for the options in the release form (fetched by JS)."""
    job = selectors.own_held_job(current_user(request), job_id)
    page = ReleasePage(request, job, request.POST)
    return render(request, "portal/_quote.html", {"quote": page.quote(), "job": job})


# ---------------------------------------------------------------- history and money


@require_GET
@requires(RELEASE_OWN_JOBS)
def history(request: HttpRequest) -> HttpResponse:
    jobs = list(selectors.job_history_of(current_user(request)))
    context = {"jobs": jobs, "live": selectors.jobs_in_progress(jobs)}
    if request.GET.get("fragment") == "rows":
        return render(request, "portal/_history_rows.html", context)
    return render(request, "portal/history.html", context)


@require_GET
@requires(RELEASE_OWN_JOBS)
def my_account(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    personal = personal_account_of(user) or personal_account_ensure(user)
    return render(
        request,
        "portal/my_account.html",
        {
            "accounts": accounts_of(user),
            "personal": personal,
            "entries": account_transactions(personal, limit=50),
        },
    )
