"""`{% column_heads _("Name") _("Email") … %}`: a console table's column headers, one
`<th scope="col">` each, so that every column header names its column to screen readers (rules
§12) and a table's head reads as the list of its columns. Labels are passed translated
(`_("…")`, which makemessages finds as it finds `{% translate %}`) and escaped as `{{ }}` does;
a header with more than a label (a time zone, a condition) is written out beside the tag."""

from __future__ import annotations

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def column_heads(*labels: str) -> SafeString:
    return format_html_join("\n", '<th scope="col">{}</th>', ((label,) for label in labels))
