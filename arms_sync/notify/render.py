"""Turning an event into a message (rules §8): template files per event and language under
`templates/notify/<language>/<event>/` — `subject.txt`, `text.txt` (email text, WeCom text),
`markdown.md` (DingTalk, WeCom markdown) and `email.html` — in the recipient's language (the
delivery's, rules §15), else the account's default: Chinese, English by
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


def language(chosen: str = "") -> str:
    """The language of a message: the recipient's own choice when it is one the templates
    exist in, else the account's default (SAE_NOTIFY_LANGUAGE)."""
    for lang in ((chosen or "").lower(), (settings.NOTIFY_LANGUAGE or "zh-hans").lower()):
        if lang in LANGUAGES:
            return lang
        if lang.startswith("zh"):
            return "zh-hans"
        if lang.startswith("en"):
            return "en"
    return "zh-hans"


DURATION_UNITS = {
    "zh-hans": (" 天", " 小时", " 分钟", " 秒"),
    "en": (" d", " h", " min", " s"),
}


def duration_text(seconds, lang: str) -> str:
    """ "1 h 5 min" / "1 小时 5 分钟": the two largest units (seconds only under a minute)."""
    if seconds is None:
        return ""
    seconds = max(int(seconds), 0)
    units = DURATION_UNITS[lang]
    if seconds < 60:
        return f"{seconds}{units[3]}"
    amounts = (seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60)
    shown = [f"{n}{unit}" for n, unit in zip(amounts, units[:3], strict=True) if n]
    return " ".join(shown[:2])


def _when(value) -> datetime | None:
    if isinstance(value, datetime):
        return timezone.localtime(value)
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.UTC)
    return timezone.localtime(parsed)


def _alerts(payload: dict, only: list[int] | None, lang: str) -> list[dict]:
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
                "lasted": duration_text(alert.get("duration_seconds"), lang)
                if alert.get("status") == "resolved"
                else "",
            }
        )
    # A robot message lists the firing alerts first, then the resolved ones (README, Alerts).
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
        ctx["alerts"] = _alerts(payload, only, lang)
        ctx["firing"] = [a for a in ctx["alerts"] if a.get("status") != "resolved"]
        ctx["resolved"] = [a for a in ctx["alerts"] if a.get("status") == "resolved"]
        # The names of the alerts this message carries, once (the title is the whole post's).
        names = sorted({a.get("name", "") for a in ctx["alerts"]})
        ctx["names"] = ", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else "")
        # A resolved message names the firing one it closes, with how long it lasted.
        only_one = ctx["alerts"][0] if len(ctx["alerts"]) == 1 else {}
        ctx["lasted"] = only_one.get("lasted", "")
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


def _tidy(text: str) -> str:
    """No trailing spaces and never two empty lines in a row: a field left out leaves no gap."""
    lines = [line.rstrip() for line in text.splitlines()]
    kept: list[str] = []
    for line in lines:
        if not line and (not kept or not kept[-1]):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def _render(folder: str, ctx: dict, lang: str, parts: frozenset[str]) -> base.Message:
    """The message's `parts` (base.SUBJECT, TEXT, MARKDOWN, HTML); the others are left empty.
    A markdown that comes out empty (an operator's template) brings the text in its place."""
    subject = text = markdown = body_html = ""
    with translation.override(lang):
        if base.SUBJECT in parts:
            subject = render_to_string(f"{folder}/subject.txt", ctx).strip()
        if base.MARKDOWN in parts:
            markdown = _tidy(render_to_string(f"{folder}/markdown.md", _markdown_context(ctx)))
        if base.TEXT in parts or (base.MARKDOWN in parts and not markdown):
            text = _tidy(render_to_string(f"{folder}/text.txt", ctx))
        if base.HTML in parts:
            body_html = render_to_string(f"{folder}/email.html", ctx).strip()
    return base.Message(
        subject=" ".join(subject.split())[:200],
        text=text,
        markdown=markdown,
        html=body_html,
        mentions=tuple(ctx.get("mentions", ())),
    )


def render_event(
    event,
    *,
    channel: str,
    mentions: tuple[str, ...] = (),
    context: dict | None = None,
    lang: str = "",
    parts: frozenset[str] = base.ALL_PARTS,
) -> base.Message:
    """The message for one delivery of `event`; `context` is the delivery's (which of the
    event's alerts it carries), `lang` its recipient's language, `parts` what its transport
    reads (`Transport.parts`; every form by default)."""
    lang = language(lang)
    only = (context or {}).get("alerts")
    ctx = _context(event, channel, lang, only) | {"mentions": mentions}
    return _render(f"notify/{lang}/{event.kind}", ctx, lang, parts)


def _translated_title(event, lang: str) -> str:
    with translation.override(lang):
        return event.display_title


def render_digest(
    events, *, parts: frozenset[str], mentions: tuple[str, ...] = (), lang: str = ""
) -> base.Message:
    """One robot message that names every event of a backlog, in the `parts` its robot's
    transport reads."""
    lang = language(lang)
    ctx = {
        "events": [
            {
                "title": _translated_title(e, lang),
                "kind_name": KIND_NAMES[lang].get(e.kind, e.kind),
                "created_at": timezone.localtime(e.created_at),
            }
            for e in events
        ],
        "rate": settings.ROBOT_RATE_LIMIT,
        "mentions": mentions,
    }
    return _render(f"notify/{lang}/digest", ctx, lang, parts)
