"""Display helpers of the ARMS pages: robot tokens are secrets and are shown masked (rules §8);
a delivery's hint code reads as a sentence."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.translation import get_language

from arms_sync import selectors
from arms_sync.notify import hints
from arms_sync.notify import selectors as notify_selectors
from contacts.validators import mask_robot_url

register = template.Library()


@register.filter
def masked_dingtalk(url: str) -> str:
    return mask_robot_url("dingtalk", url)


@register.filter
def masked_wecom(url: str) -> str:
    return mask_robot_url("wecom", url)


@register.filter
def hint_text(code: str) -> str:
    """A delivery's hint code in plain words (arms_sync.notify.hints), in the page's language."""
    return hints.hint_text(code)


@register.filter
def plain_error(text: str) -> str:
    """A recorded error as people read it: a network failure in plain words (hints)."""
    return hints.plain_error(text or "")


@register.filter
def retry_attempt(delivery) -> dict | None:
    """For a pending delivery that was tried already and waits for its next attempt:
    {"attempt": the next attempt's number, "of": the budget, "at": when}; None otherwise. The
    page says "Retrying, attempt 4 of 6, next at 16:26" rather than "Pending"."""
    if delivery.status != "pending":
        return None
    tried = delivery.attempts - delivery.attempts_before_resend
    if tried <= 0:
        return None
    return {
        "attempt": tried + 1,
        "of": settings.NOTIFY_MAX_ATTEMPTS,
        "at": delivery.next_attempt_at,
    }


# The console menu's ARMS-side entries (base.html): each shown only to a principal the page
# lets in (the pages answer 403 otherwise); the rules are the pages' own.
_MENU_PAGES = {
    "deliveries": lambda principal: notify_selectors.may_view_deliveries(principal),
    "alerts": lambda principal: notify_selectors.may_view_deliveries(principal),
    "contacts": lambda principal: selectors.can_view(principal, selectors.SEARCH_CONTACTS),
    "groups": lambda principal: selectors.can_view(principal, selectors.SEARCH_GROUPS),
    "policies": lambda principal: selectors.can_view(principal, selectors.LIST_POLICIES),
}


@register.filter
def may_open(principal, page: str) -> bool:
    """`principal|may_open:"contacts"`: whether the menu links that ARMS-side page."""
    return bool(principal) and _MENU_PAGES[page](principal)


@register.filter
def duration(value) -> str:
    """A timedelta as "1 h 5 min" / "1 小时 5 分钟", in the page's language."""
    from arms_sync.notify.render import duration_text, language

    if value is None:
        return ""
    return duration_text(value.total_seconds(), language(get_language() or ""))


@register.filter
def safe_link(url: str) -> str:
    """The URL when it is http(s), else "" (anything else is shown as text, never linked)."""
    text = str(url or "")
    return text if text.lower().startswith(("http://", "https://")) else ""
