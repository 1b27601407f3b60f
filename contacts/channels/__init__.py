"""A contact's notification channels (rules §4, §5, §8), each described once, in its own module
(`email`, `dingtalk`, `wecom`): its fields on Contact, form inputs, validation, masking, the ARMS
contact's field each is copied to, its part of a delivery target and its transport.

The forms, the contact services, the Contact Management table, the audit masks, linking,
reconcile and the notification outbox read this registry instead of naming channels;
docs/architecture.md ("Channels") says what adding one takes.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module

from contacts.channels.base import Channel, ChannelField

# The channel modules, in the order forms, tables and deliveries list them.
MODULES = ("email", "dingtalk", "wecom")

_REGISTRY: dict[str, Channel] = {}


def register(channel: Channel) -> Channel:
    if channel.name in _REGISTRY:
        raise ValueError(f"channel {channel.name!r} is registered twice")
    _REGISTRY[channel.name] = channel
    return channel


def unregister(name: str) -> None:
    """Take a channel out again (a test's fake channel)."""
    del _REGISTRY[name]


def all_channels() -> tuple[Channel, ...]:
    return tuple(_REGISTRY.values())


def get(name: str) -> Channel:
    """The channel called `name`; ValueError for any other (a programming error)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown channel {name!r}") from None


def all_fields() -> Iterator[ChannelField]:
    """Every channel's fields, channel by channel, each address before its companions."""
    for channel in _REGISTRY.values():
        yield from channel.fields


def field_names() -> list[str]:
    return [f.name for f in all_fields()]


def robot(kind: str):
    """The webhook URL shape of robot `kind`; ValueError for a channel that is not a robot."""
    found = _REGISTRY.get(kind)
    if found is None or found.robot is None:
        raise ValueError(f"unknown robot kind {kind!r}")
    return found.robot


for _module in MODULES:
    register(import_module(f"contacts.channels.{_module}").CHANNEL)
