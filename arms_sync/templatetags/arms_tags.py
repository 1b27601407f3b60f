"""Display helpers of the ARMS pages: robot tokens are secrets and are shown masked (SPEC 8);
a delivery's hint code reads as a sentence."""

from __future__ import annotations

from django import template

from arms_sync.notify import hints
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
