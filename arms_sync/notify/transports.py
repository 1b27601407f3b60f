"""The transport of each channel (rules §8): `get_transport(channel).send(target, message)`.

Transports keep no state of their own (the HTTP connection pools live in notify.http), so one
instance per channel serves every thread.
"""

from __future__ import annotations

from arms_sync.notify import base
from arms_sync.notify.dingtalk import DingTalkTransport
from arms_sync.notify.email import EmailTransport
from arms_sync.notify.wecom import WeComTransport

UNKNOWN_CHANNEL = "no transport for channel {channel!r}"

_TRANSPORTS: dict[str, base.Transport] = {
    base.EMAIL: EmailTransport(),
    base.DINGTALK: DingTalkTransport(),
    base.WECOM: WeComTransport(),
}


def get_transport(channel: str) -> base.Transport:
    """The transport for `channel` (base.EMAIL, base.DINGTALK or base.WECOM); ValueError for
    any other (a programming error, not a delivery outcome)."""
    try:
        return _TRANSPORTS[channel]
    except KeyError:
        raise ValueError(UNKNOWN_CHANNEL.format(channel=channel)) from None
