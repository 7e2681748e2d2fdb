"""Template helpers of the portal."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString

from apps.accounts import roles
from apps.accounts.money import format_money_for_people
from apps.portal.inbox import expiry_text, inbox_items_html
from apps.portal.selectors import InboxLine
from apps.portal.thumbnails import BUSY_THUMBNAIL_WIDTH_PX

register = template.Library()


@register.simple_tag
def optional_url(name: str) -> str:
    """The URL of a page another app may not have yet; empty when it does not exist."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@register.filter
def expires_in(moment: datetime) -> str:
    """ "expires in 2 days", as the inbox says it (Django's timeuntil gives "2 Tage, 3
    Stunden", which German cannot put after "in")."""
    return expiry_text(moment)


@register.filter
def group_label(name: str) -> str:
    """A group's name as the page shows it (roles in the page's language)."""
    return roles.group_label(name)


@register.filter
def money(amount: Decimal | None) -> str:
    """An amount as the page's language writes it, with the currency's places and code:
    "1,234.50 EUR" in English, "1.234,50 EUR" in German."""
    if amount is None:
        return ""
    return f"{format_money_for_people(Decimal(amount))} {settings.CURRENCY}"


@register.simple_tag
def busy_thumbnail_width() -> int:
    """The width by which the page's script knows a thumbnail not drawn yet (busy_png)."""
    return BUSY_THUMBNAIL_WIDTH_PX


@register.simple_tag(takes_context=True)
def inbox_items(context: template.Context, lines: list[InboxLine], page_number: int) -> SafeString:
    """The inbox's list items (apps/portal/inbox.py formats them in one pass)."""
    return inbox_items_html(lines, str(context.get("csrf_token", "")), page_number)
