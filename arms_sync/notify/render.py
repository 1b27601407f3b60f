"""Turning an event into a message (SPEC 8): template files per event and language under
`templates/notify/<language>/<event>/` — `subject.txt`, `text.txt` (email text, WeCom text),
`markdown.md` (DingTalk, WeCom markdown) and `email.html` — Chinese by default, English by
`SAE_NOTIFY_LANGUAGE=en`. Times are shown in the console's time zone.

Operators may override any file by putting one at the same path in the project's `templates/`.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime

from arms_sync.notify import base

LANGUAGES = ("zh-hans", "en")
CHANNEL_NAMES = {
    "zh-hans": {base.EMAIL: "邮箱", base.DINGTALK: "钉钉机器人", base.WECOM: "企业微信机器人"},
    "en": {base.EMAIL: "Email", base.DINGTALK: "DingTalk Robot", base.WECOM: "WeCom Robot"},
}
KIND_NAMES = {
    "zh-hans": {"alert": "告警", "approval": "权限审批", "test": "测试"},
    "en": {"alert": "Alert", "approval": "Permission approval", "test": "Test"},
}


def language() -> str:
    lang = (settings.NOTIFY_LANGUAGE or "zh-hans").lower()
    return lang if lang in LANGUAGES else "zh-hans"


def _when(value) -> datetime | None:
    if isinstance(value, datetime):
        return timezone.localtime(value)
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.UTC)
    return timezone.localtime(parsed)


def _alerts(payload: dict, only: list[int] | None) -> list[dict]:
    alerts = []
    for position, alert in enumerate(payload.get("alerts", [])):
        if only is not None and position not in only:
            continue
        alerts.append(
            {
                **alert,
                # What tells alerts of one name apart (instance, service, ...).
                "label_text": " ".join(
                    f"{k}={v}"
                    for k, v in sorted((alert.get("labels") or {}).items())
                    if k not in ("alertname", "severity")
                ),
                "starts_at": _when(alert.get("starts_at")),
                "ends_at": _when(alert.get("ends_at")),
            }
        )
    # Firing first, then resolved (SPEC 8 via the intake issue).
    alerts.sort(key=lambda a: a.get("status") == "resolved")
    return alerts


def _context(event, channel: str, lang: str, only: list[int] | None = None) -> dict:
    payload = dict(event.payload or {})
    ctx = {
        **payload,
        "title": event.title,
        "kind": event.kind,
        "created_at": timezone.localtime(event.created_at),
        "channel": channel,
        "channel_name": CHANNEL_NAMES[lang].get(channel, channel),
    }
    if event.kind == "alert":
        ctx["alerts"] = _alerts(payload, only)
        ctx["firing"] = [a for a in ctx["alerts"] if a.get("status") != "resolved"]
        ctx["resolved"] = [a for a in ctx["alerts"] if a.get("status") == "resolved"]
    return ctx


# Characters that make markup anywhere in a line of the robots' markdown: emphasis, code,
# links and images, headings, tables, HTML tags, strike-through. (Values never start a line:
# line breaks are folded, so list and heading markers at a line's start cannot arise.)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()#!|<>~])")


def escape_markdown(value: str) -> str:
    """`value` as literal text in a robot's markdown: every markup character backslashed and
    line breaks turned into spaces, so text from outside (alert labels and annotations, names,
    reasons) cannot add links, images, headings or emphasis to a message."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(value.splitlines()))


def safe_url(value: str) -> str:
    """A link target from outside, usable in `[text](url)`: http(s) only (else nothing), with
    the characters that could end the link or start another one percent-encoded."""
    if not re.match(r"(?i)^https?://", value):
        return ""
    return quote(value, safe=":/?#@!$&'*+,;=%-._~")


def _markdown_context(value, key: str = ""):
    """The context for markdown templates: every string escaped (URLs made safe instead).
    Times and numbers are left as they are."""
    if isinstance(value, str):
        return safe_url(value) if key.endswith("url") else escape_markdown(value)
    if isinstance(value, dict):
        return {k: _markdown_context(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_markdown_context(v, key) for v in value]
    return value


def _render(folder: str, ctx: dict, lang: str, *, html: bool) -> base.Message:
    with translation.override(lang):
        subject = render_to_string(f"{folder}/subject.txt", ctx).strip()
        text = render_to_string(f"{folder}/text.txt", ctx).strip()
        markdown = render_to_string(f"{folder}/markdown.md", _markdown_context(ctx)).strip()
        body_html = render_to_string(f"{folder}/email.html", ctx).strip() if html else ""
    return base.Message(
        subject=" ".join(subject.split())[:200],
        text=text,
        markdown=markdown,
        html=body_html,
        mentions=tuple(ctx.get("mentions", ())),
    )


def render_event(
    event, *, channel: str, mentions: tuple[str, ...] = (), context: dict | None = None
) -> base.Message:
    """The message for one delivery of `event`; `context` is the delivery's (which of the
    event's alerts it carries)."""
    lang = language()
    only = (context or {}).get("alerts")
    ctx = _context(event, channel, lang, only) | {"mentions": mentions}
    return _render(f"notify/{lang}/{event.kind}", ctx, lang, html=channel == base.EMAIL)


def render_digest(events, *, channel: str, mentions: tuple[str, ...] = ()) -> base.Message:
    """One robot message that names every event of a backlog."""
    lang = language()
    ctx = {
        "events": [
            {
                "title": e.title,
                "kind_name": KIND_NAMES[lang].get(e.kind, e.kind),
                "created_at": timezone.localtime(e.created_at),
            }
            for e in events
        ],
        "rate": settings.ROBOT_RATE_LIMIT,
        "mentions": mentions,
    }
    return _render(f"notify/{lang}/digest", ctx, lang, html=False)
