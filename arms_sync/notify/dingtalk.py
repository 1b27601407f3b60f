"""DingTalk custom robot (rules §8): markdown (or text) messages with @mentions, the security
keyword in every message, the optional signature, bodies cut to 20,000 bytes.

https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from arms_sync.notify import base
from arms_sync.notify.base import Message, Target
from arms_sync.notify.http import encode_json
from arms_sync.notify.robot import RobotTransport, mention_numbers

BODY_LIMIT = 20_000  # bytes of the whole JSON body
# DingTalk shows the title only in the conversation list and the notification; a long one is
# cut there anyway.
TITLE_LIMIT = 256
KEYWORD_PREFIX = "【{keyword}】"

ERRCODE_THROTTLED = 130101  # more than 20 messages a minute
ERRCODE_KEYWORD_OR_SIGNATURE = 310000  # keyword missing, bad sign, or IP not allowed
ERRCODE_INVALID_TOKEN = 300001


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: Base64 of HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}").
    The HTTP client URL-encodes it as a query parameter."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def with_keyword(text: str, keyword: str) -> str:
    """`text`, prefixed with 【keyword】 unless it already contains the keyword."""
    return text if keyword in text else KEYWORD_PREFIX.format(keyword=keyword) + text


# Cuts found lately, by (text, room the body leaves it): one alert post reaches a hundred robots
# with the same text and @mentions of the same length, so the first robot's cut is where the
# others' search starts (and usually ends). Bounded; any thread may read or replace it.
_CUTS_MAX = 256
_cuts: dict[tuple[int, int, int], int] = {}


def fit_json(render: Callable[[str], dict[str, Any]], text: str, limit: int) -> dict[str, Any]:
    """`render(part)` for the longest `part` of `text` (cut on a character boundary) whose JSON
    body is at most `limit` bytes. What `render` adds around the text (keyword, @mentions,
    title) is kept whole; the text gives way.

    JSON escapes make the body grow by 1 to 6 bytes per byte of text, so removing as many text
    bytes as the body is over (and a few for the cut's marker) always fits: the search starts
    there (or at the cut found for the same text lately), climbs by what is left of the limit,
    and bisects the last few bytes."""
    empty = render("")
    key = (hash(text), len(text), limit - len(encode_json(empty)))
    data = text.encode("utf-8")
    guess = _cuts.get(key)
    if guess is None:
        payload = render(text)
        size = len(encode_json(payload))
        if size <= limit:
            return payload
        guess = max(0, min(len(data), limit, len(data) - (size - limit) - 8))
    best, cut = _longest(render, text, data, guess, limit=limit, empty=empty)
    if len(_cuts) >= _CUTS_MAX:
        _cuts.clear()
    _cuts[key] = cut
    return best


def _longest(render, text: str, data: bytes, guess: int, *, limit: int, empty):
    """(body, bytes of text) for the longest cut whose body fits, searched from `guess`."""
    marker = "…"
    room = len(marker.encode("utf-8"))

    def attempt(nbytes: int) -> tuple[dict[str, Any], int]:
        # base.cut_to_bytes(text, nbytes), without encoding the whole text each time.
        if nbytes >= len(data):
            part = text
        elif nbytes <= room:
            part = ""
        else:
            part = data[: nbytes - room].decode("utf-8", errors="ignore") + marker
        candidate = render(part)
        return candidate, len(encode_json(candidate))

    low, best = 0, empty
    high = min(len(data), limit)  # no longer part can fit
    while True:  # climb from a cut that fits by what the limit has left
        candidate, used = attempt(guess)
        if used > limit:
            high = guess - 1
            break
        if guess >= low:
            low, best = guess, candidate
        if used == limit or guess >= high:
            return best, low
        guess = min(high, guess + (limit - used))
    while low < high:
        middle = (low + high + 1) // 2
        candidate, used = attempt(middle)
        if used <= limit:
            low, best = middle, candidate
        else:
            high = middle - 1
    return best, low


class DingTalkTransport(RobotTransport):
    channel = base.DINGTALK
    # The subject is the markdown's title; text only stands in for an empty markdown.
    parts = frozenset({base.SUBJECT, base.MARKDOWN})

    def _render(self, target: Target, message: Message) -> tuple[Callable[[str], dict], str]:
        """(the body for a given text, the whole text): the keyword and @mentions go around
        whatever part of the text fits."""
        keyword = target.keyword or base.DEFAULT_DINGTALK_KEYWORD
        mobiles = mention_numbers(message)
        # DingTalk notifies only the mentions that also appear as @number in the text.
        mentions = ("\n\n" + " ".join(f"@{mobile}" for mobile in mobiles)) if mobiles else ""
        msgtype = "markdown" if message.markdown else "text"
        title = with_keyword(base.cut_to_bytes(message.subject or keyword, TITLE_LIMIT), keyword)

        def render(part: str) -> dict[str, Any]:
            text = with_keyword(part, keyword) + mentions
            body = {"title": title, "text": text} if message.markdown else {"content": text}
            return {
                "msgtype": msgtype,
                msgtype: body,
                "at": {"atMobiles": mobiles, "isAtAll": False},
            }

        return render, message.markdown or message.text

    def payload(self, target: Target, message: Message) -> dict[str, Any]:
        """Markdown when the message has it, else text; the keyword and @mentions in both."""
        render, text = self._render(target, message)
        return fit_json(render, text, BODY_LIMIT)

    def fits(self, target: Target, message: Message) -> bool:
        """Whether the whole message goes in one body, nothing cut."""
        render, text = self._render(target, message)
        return len(encode_json(render(text))) <= BODY_LIMIT

    def query(self, target: Target) -> dict[str, str] | None:
        if not target.secret:
            return None
        # Fresh per request: DingTalk refuses a timestamp more than an hour off.
        timestamp = int(time.time() * 1000)
        return {"timestamp": str(timestamp), "sign": sign(target.secret, timestamp)}

    def errcode_verdict(self, errcode: int) -> tuple[bool, str]:
        if errcode == ERRCODE_THROTTLED:
            return True, base.HINT_THROTTLED
        if errcode == ERRCODE_KEYWORD_OR_SIGNATURE:
            return False, base.HINT_KEYWORD_OR_SIGNATURE
        if errcode == ERRCODE_INVALID_TOKEN or 400000 <= errcode < 500000:
            return False, base.HINT_INVALID_ROBOT
        return False, base.HINT_REJECTED
