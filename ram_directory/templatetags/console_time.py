"""`{% zone_label %}`: the console's display time zone as "UTC+08:00", for the headers of the
columns that show local times (commands print UTC and say so; pages say which zone they use)."""

from __future__ import annotations

from django import template
from django.utils import timezone

register = template.Library()


@register.simple_tag
def zone_label() -> str:
    offset = timezone.localtime().strftime("%z")  # +0800
    return f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
