"""Display helpers of the ARMS pages: robot tokens are secrets and are shown masked (SPEC 8)."""

from __future__ import annotations

from django import template

from contacts.validators import mask_robot_url

register = template.Library()


@register.filter
def masked_dingtalk(url: str) -> str:
    return mask_robot_url("dingtalk", url)


@register.filter
def masked_wecom(url: str) -> str:
    return mask_robot_url("wecom", url)
