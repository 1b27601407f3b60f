"""The transport of each channel (rules §8): `get_transport(channel).send(target, message)`.

Transports keep no state of their own (the HTTP connection pools live in notify.http), so one
instance per channel serves every thread (made on first use: the channel names its class).
"""

from __future__ import annotations

from functools import cache

from django.utils.module_loading import import_string

from arms_sync.notify import base
from contacts import channels

UNKNOWN_CHANNEL = "no transport for channel {channel!r}"


@cache
def _transport(dotted_path: str) -> base.Transport:
    return import_string(dotted_path)()


def get_transport(channel: str) -> base.Transport:
    """The transport of `channel`, the one its channel module names (contacts/channels);
    ValueError for any other (a programming error, not a delivery outcome)."""
    try:
        spec = channels.get(channel)
    except ValueError:
        raise ValueError(UNKNOWN_CHANNEL.format(channel=channel)) from None
    return _transport(spec.transport)
