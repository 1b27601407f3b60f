"""At most ROBOT_RATE_LIMIT messages per robot in any ROBOT_RATE_WINDOW_SECONDS, shared by every
worker on every machine (SPEC 8: DingTalk and WeCom allow 20 a minute).

The window is a log of slots in the database: to send, a worker locks the robot's row
(`SELECT ... FOR UPDATE`; on SQLite the IMMEDIATE transaction holds the write lock), counts the
slots inside the window and takes one if fewer than the limit are used. Nothing lives in
process memory, so the limit holds across processes and restarts.

A slot is stamped when it is taken and stamped again when the send is over (`release`): the
provider received the message between the two, so counting the window from the later stamp
means the 21st message cannot arrive less than a window after the 1st, whatever the network's
delays.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from arms_sync.notify.models import RobotRateLock, RobotRateSlot


def window_length() -> timedelta:
    return timedelta(seconds=settings.ROBOT_RATE_WINDOW_SECONDS)


def acquire(
    robot_key: str, *, now=None, limit: int | None = None, window: float | None = None
) -> tuple[int | None, float]:
    """Take a slot for one message to this robot: (slot id, 0) when taken, else (None, the
    seconds until the oldest slot in the window expires) and nothing is taken. `limit` and
    `window` default to the robots' (other keys, such as the Test button's, set their own)."""
    now = now or timezone.now()
    limit = settings.ROBOT_RATE_LIMIT if limit is None else limit
    span = window_length() if window is None else timedelta(seconds=window)
    start = now - span
    with transaction.atomic():
        RobotRateLock.objects.get_or_create(robot_key=robot_key)
        RobotRateLock.objects.select_for_update().get(robot_key=robot_key)
        # Slots that left the window are no longer needed by anyone.
        RobotRateSlot.objects.filter(robot_key=robot_key, sent_at__lte=start).delete()
        used = list(
            RobotRateSlot.objects.filter(robot_key=robot_key, sent_at__gt=start)
            .order_by("sent_at")
            .values_list("sent_at", flat=True)[:limit]
        )
        if len(used) < limit:
            slot = RobotRateSlot.objects.create(robot_key=robot_key, sent_at=now)
            return slot.pk, 0.0
    return None, max((used[0] + span - now).total_seconds(), 0.001)


def release(slot_id: int | None) -> None:
    """The send is over: the slot counts from now."""
    if slot_id is not None:
        RobotRateSlot.objects.filter(pk=slot_id).update(sent_at=timezone.now())
