"""The one small interface every channel's transport implements (rules §8), and the rules shared
by all of them: what a target and a rendered message are, what an answer records, and cutting
a body to a byte limit without breaking a character.

A transport never raises for what a provider or the network did: it returns an `Answer` that
says whether the message was accepted, whether trying again may help, and a hint code the
console turns into plain words. Only programming errors raise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

EMAIL = "email"
DINGTALK = "dingtalk"
WECOM = "wecom"
CHANNELS = (EMAIL, DINGTALK, WECOM)

DEFAULT_DINGTALK_KEYWORD = "告警"

# Hint codes: what an answer means for the person reading the Deliveries page or the Test
# result. `arms_sync.notify.hints` turns each into a sentence.
HINT_OK = "ok"
HINT_KEYWORD_OR_SIGNATURE = "keyword_or_signature"  # DingTalk 310000
HINT_THROTTLED = "throttled"  # DingTalk 130101, HTTP 429
HINT_INVALID_ROBOT = "invalid_robot"  # DingTalk 300001 / 400xxx, WeCom 93000 / 40xxx
HINT_TIMEOUT = "timeout"
HINT_NETWORK = "network"  # refused, reset, DNS failure, TLS failure
HINT_SERVER_ERROR = "server_error"  # 5xx
HINT_REDIRECT = "redirect"  # 3xx: never followed
HINT_TOO_LARGE = "too_large"  # the answer passed the size cap
HINT_BAD_ANSWER = "bad_answer"  # not the JSON the robot API answers
HINT_REFUSED_BY_GUARD = "refused_by_guard"  # the outbound guard refused the address
HINT_REJECTED = "rejected"  # any other permanent refusal (4xx, unknown errcode)
HINT_MAILBOX_REFUSED = "mailbox_refused"  # SMTP 5xx for the recipient
HINT_RATE_LIMITED = "rate_limited"  # the console's own 20-a-minute limit (not sent)


@dataclass(frozen=True)
class Target:
    """Where one delivery goes. `address` is an email address or a robot webhook URL; the URL's
    token and `secret` are secrets and never leave the process unmasked."""

    channel: str
    address: str
    secret: str = ""  # DingTalk signing secret (SEC...)
    keyword: str = ""  # DingTalk security keyword; empty means DEFAULT_DINGTALK_KEYWORD


@dataclass(frozen=True)
class Message:
    """One rendered notification, in every form the channels use."""

    subject: str  # email subject; DingTalk markdown title
    text: str  # plain text: email text part, WeCom text, fallback
    markdown: str = ""  # DingTalk and WeCom markdown
    html: str = ""  # email HTML alternative
    # E.164 phones (+8613811112222) to @mention on robots.
    mentions: tuple[str, ...] = ()


@dataclass
class Answer:
    """What one attempt came to. `ok` only when the provider accepted the message (for robots:
    HTTP 200 and errcode 0)."""

    ok: bool
    retryable: bool = False
    hint: str = HINT_OK
    http_status: int | None = None
    errcode: int | None = None
    errmsg: str = ""
    duration_ms: int = 0


# The forms of a message (Message's fields); a transport renders only those it reads.
SUBJECT, TEXT, MARKDOWN, HTML = "subject", "text", "markdown", "html"
ALL_PARTS = frozenset({SUBJECT, TEXT, MARKDOWN, HTML})


class Transport(Protocol):
    channel: str
    # What of a Message this transport reads: the worker renders nothing else (each template
    # rendered is a good part of a delivery's CPU).
    parts: frozenset[str]

    def send(self, target: Target, message: Message) -> Answer: ...

    def fits(self, target: Target, message: Message) -> bool:
        """Whether the message reaches the target whole, without being cut."""
        ...


def cut_to_bytes(text: str, limit: int, *, marker: str = "…") -> str:
    """`text` cut so that its UTF-8 encoding is at most `limit` bytes, on a character
    boundary, ending in `marker` when anything was cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - len(marker.encode("utf-8"))
    if room <= 0:
        return ""
    # errors="ignore" drops the partial character the byte cut may leave at the end.
    return data[:room].decode("utf-8", errors="ignore") + marker


def national_mobile(e164: str) -> str:
    """`+8613811112222` -> `13811112222`: the form DingTalk and WeCom @mention."""
    return e164[3:] if e164.startswith("+86") else e164.lstrip("+")


# What each robot accepts in one message body (rules §8).
DINGTALK_MAX_BYTES = 20_000
WECOM_TEXT_MAX_BYTES = 2_048
WECOM_MARKDOWN_MAX_BYTES = 4_096
