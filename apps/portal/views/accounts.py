"""Money and people: balances, deposits, adjustments, credit limits, shared accounts, users."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.allowances import (
    AllowanceTerms,
    allowance_change,
    allowance_create,
    allowance_end,
)
from apps.accounts.errors import AccountError, AmountError
from apps.accounts.models import Account, Allowance, User
from apps.accounts.money import format_money_for_people, parse_amount, refusal_for_people
from apps.accounts.movements import account_adjust, account_deposit, account_set_credit_limit
from apps.accounts.roles import MANAGE_ACCOUNTS, MANAGE_USERS, ROLES, VIEW_MONEY
from apps.accounts.selectors import account_entries, account_get
from apps.accounts.services import (
    shared_account_create,
    shared_account_members_add,
    shared_account_members_remove,
    user_create,
    user_roles_set,
)
from apps.portal.access import current_user, may, requires
from apps.portal.forms import (
    AdjustmentForm,
    AllowanceEditForm,
    AllowanceForm,
    AmountForm,
    MembersForm,
    MembersRemoveForm,
    PortalForm,
    SharedAccountForm,
    UserCreateForm,
    UserEditForm,
)
from apps.portal.refusals import refusal_taken, refused

ACCOUNTS_SHOWN = 500
ENTRIES_PER_PAGE = 100
ACCOUNT_CHANGES = ("deposit", "adjust", "limit", "members")
# The members change adds the members named, or removes those ticked when the form sends this
# as its action.
MEMBERS_REMOVE = "remove"
# What a refusal of a change is about (the amount typed, 0, or one the balance cannot hold); a
# refusal of the members is of the change as a whole.
REFUSED_FIELD = {"deposit": "amount", "adjust": "amount", "limit": "amount"}


@require_GET
@requires(MANAGE_ACCOUNTS, VIEW_MONEY)
def accounts(request: HttpRequest) -> HttpResponse:
    """The accounts, and the form to open a shared one (as it was sent, when refused)."""
    refusal = refusal_taken(request)
    if refusal is None:
        shared_form = SharedAccountForm()
    else:
        shared_form = refusal.shown_on(SharedAccountForm(refusal.data))
    query = request.GET.get("q", "").strip()
    rows = Account.objects.select_related("owner").order_by("kind", "name", "owner__username")
    if query:
        rows = rows.filter(Q(name__icontains=query) | Q(owner__username__icontains=query))
    shown = list(rows[:ACCOUNTS_SHOWN])
    return render(
        request,
        "portal/accounts.html",
        {
            "accounts": shown,
            # The page lists ACCOUNTS_SHOWN; it says so when there are more, so that nobody
            # takes the list (shared accounts come last) for all of them.
            "total": rows.count() if len(shown) == ACCOUNTS_SHOWN else len(shown),
            "query": query,
            "allowances": _allowance_rows(),
            "shared_form": shared_form,
            "may_manage": may(current_user(request), MANAGE_ACCOUNTS),
        },
    )


@require_GET
@requires(MANAGE_ACCOUNTS, VIEW_MONEY)
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    """The account with its forms; a change refused a moment ago shows its form as it was
    sent, with what was wrong at its field."""
    account = _account_or_404(account_id)
    refusal = refusal_taken(request)
    shown: dict[str, PortalForm] = {}
    if refusal is not None and refusal.form in (*ACCOUNT_CHANGES, MEMBERS_REMOVE):
        form = _change_form(refusal.form, refusal.data, account)
        shown[refusal.form] = refusal.shown_on(form)
    return _account_page(request, account, shown)


def _account_or_404(account_id: int) -> Account:
    try:
        return account_get(account_id)
    except AccountError:
        raise Http404 from None


def _account_page(
    request: HttpRequest, account: Account, refused_forms: dict[str, PortalForm]
) -> HttpResponse:
    """The account with its forms; `refused_forms` (by change) are shown instead of empty
    ones."""
    # Every row of the ledger can be read, a page at a time: the page showed the latest 100
    # and nothing said there were more.
    entries = Paginator(account_entries(account), ENTRIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    forms_shown: dict[str, PortalForm] = {
        "deposit": AmountForm(prefix="deposit"),
        "adjust": AdjustmentForm(prefix="adjust"),
        "limit": AmountForm(
            prefix="limit",
            initial={"amount": format_money_for_people(account.credit_limit, grouped=False)},
        ),
        "members": MembersForm(prefix="members"),
        MEMBERS_REMOVE: MembersRemoveForm(prefix="remove", account=account),
        **refused_forms,
    }
    return render(
        request,
        "portal/account_detail.html",
        {
            "account": account,
            "entries": entries,
            "members": account.member_users.order_by("username"),
            "member_groups": account.member_groups.order_by("name"),
            "may_manage": may(current_user(request), MANAGE_ACCOUNTS),
            "members_remove": MEMBERS_REMOVE,
            **{f"{change}_form": form for change, form in forms_shown.items()},
        },
    )


def _change_form(change: str, data: QueryDict, account: Account) -> PortalForm:
    """The form of one change of the account, bound to what was sent."""
    if change == "deposit":
        return AmountForm(data, prefix="deposit")
    if change == "adjust":
        return AdjustmentForm(data, prefix="adjust")
    if change == "limit":
        return AmountForm(data, prefix="limit")
    if change == "members":
        return MembersForm(data, prefix="members")
    return MembersRemoveForm(data, prefix="remove", account=account)


@require_POST
@requires(MANAGE_ACCOUNTS)
def account_change(request: HttpRequest, account_id: int, change: str) -> HttpResponse:
    """One change of an account: deposit, adjust, limit or members (added or removed). A
    refused one leads back to the account page, which shows its form as sent with the error
    at its field (an amount that is no amount, or one the service refused, at "Amount")."""
    actor = current_user(request)
    account = _account_or_404(account_id)
    if change == "members" and request.POST.get("action") == MEMBERS_REMOVE:
        change = MEMBERS_REMOVE
    form = _change_form(change, request.POST, account)
    try:
        if change == "deposit":
            if form.is_valid():
                account_deposit(
                    account_id,
                    _typed_amount(form.cleaned_data["amount"]),
                    actor=actor,
                    reason=form.cleaned_data["reason"],
                    key=form.cleaned_data["submission"],
                )
        elif change == "adjust":
            if form.is_valid():
                account_adjust(
                    account_id,
                    _typed_amount(form.cleaned_data["amount"], negative=True),
                    actor=actor,
                    reason=form.cleaned_data["reason"],
                    key=form.cleaned_data["submission"],
                )
        elif change == "limit":
            if form.is_valid():
                account_set_credit_limit(
                    account_id,
                    _typed_amount(form.cleaned_data["amount"], label=_("credit limit")),
                    actor=actor,
                    reason=form.cleaned_data["reason"],
                )
        elif change == "members":
            if form.is_valid() and (users := _members_named(form)) is not None:
                shared_account_members_add(
                    account_id, actor=actor, users=users, groups=form.cleaned_data["groups"]
                )
        elif form.is_valid():
            shared_account_members_remove(
                account_id,
                actor=actor,
                users=form.cleaned_data["users"],
                groups=form.cleaned_data["groups"],
            )
    except AccountError as error:
        form.add_error(REFUSED_FIELD.get(change), refusal_for_people(error))
    if not form.is_valid():
        return refused(request, form, reverse("portal:account", args=[account_id]), name=change)
    messages.success(request, _("Saved."))
    return redirect("portal:account", account_id)


def _members_named(form: PortalForm) -> list[User] | None:
    """The users the form names; None when one is unknown, the error then at its field."""
    try:
        return _users_named(form.cleaned_data["usernames"])
    except AccountError as error:
        form.add_error("usernames", str(error))
        return None


def _typed_amount(text: str, *, negative: bool = False, label: str = "") -> Decimal:
    """An amount typed in a form, in the page's language ("12,50" in German)."""
    return parse_amount(text, negative=negative, label=label or _("amount"), localized=True)


def _users_named(text: str) -> list[User]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    found = list(User.objects.filter(username__in=names))
    missing = sorted(set(names) - {user.username for user in found})
    if missing:
        raise AccountError(_("no user named %(names)s.") % {"names": ", ".join(missing)})
    return found


@require_POST
@requires(MANAGE_ACCOUNTS)
def shared_account_new(request: HttpRequest) -> HttpResponse:
    """A refused one leads back to the accounts, which show the form as sent and why at its
    field."""
    form = SharedAccountForm(request.POST)
    if form.is_valid():
        try:
            account = shared_account_create(
                form.cleaned_data["name"],
                actor=current_user(request),
                credit_limit=_typed_amount(
                    form.cleaned_data["credit_limit"], label=_("credit limit")
                ),
                description=form.cleaned_data["description"],
            )
        except AmountError as error:
            form.add_error("credit_limit", str(error))
        except AccountError as error:
            # Its other refusals are of the name: not allowed, or taken.
            form.add_error("name", str(error))
    if not form.is_valid():
        return refused(request, form, reverse("portal:accounts"))
    messages.success(request, _("Shared account %(name)s opened.") % {"name": account.name})
    return redirect("portal:account", account.pk)


@requires(MANAGE_USERS)
def users(request: HttpRequest) -> HttpResponse:
    """The users, and the form to make one. A refused one leads back here, which shows the
    form as sent (but for the password) and why at its field."""
    if request.method == "POST":
        return _user_new(request)
    refusal = refusal_taken(request)
    form = UserCreateForm() if refusal is None else refusal.shown_on(UserCreateForm(refusal.data))
    rows = (
        User.objects.order_by("username")
        .prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name")))
        .select_related("personal_account")
    )
    return render(request, "portal/users.html", {"users": rows, "form": form})


def _user_new(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST)
    if form.is_valid():
        username = form.cleaned_data["username"].strip()
        password = form.cleaned_data["password"]
        if User.objects.filter(username=username).exists():
            form.add_error(
                "username", _("A user named %(name)s exists already.") % {"name": username}
            )
        else:
            try:
                validate_password(password, User(username=username))
            except ValidationError as error:
                form.add_error("password", error)
    if not form.is_valid():
        return refused(request, form, reverse("portal:users"))
    username = form.cleaned_data["username"].strip()
    role = next(r for r in ROLES if r.group_name == form.cleaned_data["role"])
    user_create(username, form.cleaned_data["password"], role=role)
    messages.success(request, _("User %(name)s created.") % {"name": username})
    return redirect("portal:users")


@requires(MANAGE_USERS)
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    """A user's roles and whether they may log in. A refused change leads back here, which
    shows it as sent with why."""
    person = get_object_or_404(User, pk=user_id)
    if request.method == "POST":
        form = UserEditForm(request.POST)
        if form.is_valid():
            roles = [role for role in ROLES if role.group_name in form.cleaned_data["roles"]]
            try:
                user_roles_set(
                    person.pk,
                    actor=current_user(request),
                    roles=roles,
                    is_active=form.cleaned_data["is_active"],
                )
            except AccountError as error:
                form.add_error(None, str(error))
        if not form.is_valid():
            return refused(request, form, reverse("portal:user", args=[person.pk]))
        messages.success(request, _("User %(name)s saved.") % {"name": person.username})
        return redirect("portal:users")
    refusal = refusal_taken(request)
    if refusal is None:
        role_names = {role.group_name for role in ROLES}
        form = UserEditForm(
            initial={
                "roles": [g.name for g in person.groups.all() if g.name in role_names],
                "is_active": person.is_active,
            }
        )
    else:
        form = refusal.shown_on(UserEditForm(refusal.data))
    return render(request, "portal/user_edit.html", {"person": person, "form": form})


# ---------------------------------------------------------------- allowances


@require_GET
@requires(MANAGE_ACCOUNTS, VIEW_MONEY)
def allowances(request: HttpRequest) -> HttpResponse:
    """The allowances, and the form to make one (as it was sent, when refused)."""
    refusal = refusal_taken(request)
    form = AllowanceForm() if refusal is None else refusal.shown_on(AllowanceForm(refusal.data))
    return render(
        request,
        "portal/allowances.html",
        {
            "allowances": _allowance_rows(),
            "form": form,
            "may_manage": may(current_user(request), MANAGE_ACCOUNTS),
        },
    )


@require_POST
@requires(MANAGE_ACCOUNTS)
def allowance_new(request: HttpRequest) -> HttpResponse:
    """A refused one leads back to the allowances, which show the form as sent and why."""
    form = AllowanceForm(request.POST)
    if form.is_valid():
        try:
            allowance_create(_terms(form), actor=current_user(request))
        except AccountError as error:
            form.add_error(None, str(error))
    if not form.is_valid():
        return refused(request, form, reverse("portal:allowances"))
    messages.success(request, _("Allowance created."))
    return redirect("portal:allowances")


def _allowance_rows() -> QuerySet[Allowance]:
    """Running allowances first."""
    return Allowance.objects.select_related("group").order_by("-is_active", "group__name", "period")


@requires(MANAGE_ACCOUNTS)
def allowance_edit(request: HttpRequest, allowance_id: int) -> HttpResponse:
    """An allowance's terms. A refused change leads back here, which shows it as sent with
    why."""
    allowance = get_object_or_404(Allowance.objects.select_related("group"), pk=allowance_id)
    if request.method == "POST":
        form = AllowanceEditForm(request.POST)
        if form.is_valid():
            try:
                allowance_change(
                    allowance.pk,
                    _terms(form),
                    actor=current_user(request),
                    is_active=form.cleaned_data["is_active"],
                )
            except AccountError as error:
                form.add_error(None, str(error))
        if not form.is_valid():
            return refused(request, form, reverse("portal:allowance", args=[allowance.pk]))
        messages.success(request, _("Allowance saved."))
        return redirect("portal:allowances")
    refusal = refusal_taken(request)
    if refusal is None:
        form = AllowanceEditForm(
            initial={
                "group": allowance.group,
                "amount": format_money_for_people(allowance.amount, grouped=False),
                "period": allowance.period,
                "cap": ""
                if allowance.cap is None
                else format_money_for_people(allowance.cap, grouped=False),
                "is_active": allowance.is_active,
            }
        )
    else:
        form = refusal.shown_on(AllowanceEditForm(refusal.data))
    return render(
        request,
        "portal/allowance_edit.html",
        {"allowance": allowance, "form": form},
    )


@require_POST
@requires(MANAGE_ACCOUNTS)
def allowance_stop(request: HttpRequest, allowance_id: int) -> HttpResponse:
    try:
        allowance_end(allowance_id, actor=current_user(request))
    except AccountError:
        raise Http404 from None
    messages.success(request, _("Allowance ended."))
    return redirect("portal:allowances")


def _terms(form: AllowanceForm) -> AllowanceTerms:
    return AllowanceTerms(
        group=form.cleaned_data["group"],
        amount=form.cleaned_data["amount"],
        period=form.cleaned_data["period"],
        cap=form.cleaned_data["cap"],
    )
