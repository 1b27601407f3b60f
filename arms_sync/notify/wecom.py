"""WeCom group robot (rules §8): a text message with `mentioned_mobile_list` when someone is
@mentioned (markdown cannot mention by phone), else markdown; each cut to WeCom's byte limit.

https://developer.work.weixin.qq.com/document/path/91770
"""

from __future__ import annotations

from typing import Any

from arms_sync.notify import base
from arms_sync.notify.base import Message, Target
from arms_sync.notify.robot import RobotTransport, mention_numbers

TEXT_LIMIT = 2048  # bytes of text.content
MARKDOWN_LIMIT = 4096  # bytes of markdown.content

ERRCODE_THROTTLED = 45009  # api freq out of limit
ERRCODE_INVALID_WEBHOOK = 93000  # invalid webhook url (key removed or wrong)


class WeComTransport(RobotTransport):
    channel = base.WECOM
    # Markdown, or text when someone is @mentioned (the mentions are added after rendering).
    parts = frozenset({base.TEXT, base.MARKDOWN})

    def payload(self, target: Target, message: Message) -> dict[str, Any]:
        mobiles = mention_numbers(message)
        if message.markdown and not mobiles:
            content = base.cut_to_bytes(message.markdown, MARKDOWN_LIMIT)
            return {"msgtype": "markdown", "markdown": {"content": content}}
        plain = message.text or message.markdown
        text: dict[str, Any] = {"content": base.cut_to_bytes(plain, TEXT_LIMIT)}
        if mobiles:
            text["mentioned_mobile_list"] = mobiles
        return {"msgtype": "text", "text": text}

    def fits(self, target: Target, message: Message) -> bool:
        """Whether the whole message goes in one body, nothing cut."""
        if message.markdown and not mention_numbers(message):
            return len(message.markdown.encode("utf-8")) <= MARKDOWN_LIMIT
        return len((message.text or message.markdown).encode("utf-8")) <= TEXT_LIMIT

    def errcode_verdict(self, errcode: int) -> tuple[bool, str]:
        if errcode == ERRCODE_THROTTLED:
            return True, base.HINT_THROTTLED
        # 40xxx: invalid credential, key, message type or parameter (40001, 40008, 40058).
        if errcode == ERRCODE_INVALID_WEBHOOK or 40000 <= errcode < 41000:
            return False, base.HINT_INVALID_ROBOT
        return False, base.HINT_REJECTED
