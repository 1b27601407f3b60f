"""At most ROBOT_RATE_LIMIT messages per robot in any ROBOT_RATE_WINDOW_SECONDS, shared by every
worker on every machine (rules §8: DingTalk and WeCom allow 20 a minute).

The window is a log of slots in the database: to send, a worker locks the robot's row
(`SELECT ... FOR UPDATE`; on SQLite the IMMEDIATE transaction holds the write lock), counts the
slots inside the window and takes one if fewer than the limit are used. Nothing lives in
process memory, so the limit holds across processes and restarts.

A slot is stamped when it is taken and stamped again when the send is over (`settle`): the
provider received the message between the two, so counting the window from the later stamp
means the 21st message cannot arrive less than a window after the 1st, whatever the network's
delays.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min
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
        _lock(robot_key)
        used = list(
            RobotRateSlot.objects.filter(robot_key=robot_key, sent_at__gt=start)
            .order_by("sent_at")
            .values_list("sent_at", flat=True)[:limit]
        )
        if len(used) < limit:
            slot = RobotRateSlot.objects.create(robot_key=robot_key, sent_at=now)
            return slot.pk, 0.0
    return None, max((used[0] + span - now).total_seconds(), 0.001)


def _lock(robot_key: str) -> None:
    """Lock the robot's row for the rest of the transaction (created on its first use)."""
    locked = RobotRateLock.objects.select_for_update().filter(robot_key=robot_key)
    if not list(locked.values_list("pk", flat=True)):
        RobotRateLock.objects.get_or_create(robot_key=robot_key)
        list(locked.values_list("pk", flat=True))


def prune(*, now=None) -> int:
    """Drop slots no window can still count (the sweeper calls this now and then)."""
    now = now or timezone.now()
    longest = max(settings.ROBOT_RATE_WINDOW_SECONDS, 60.0)
    cutoff = now - timedelta(seconds=longest * 2)
    deleted, _ = RobotRateSlot.objects.filter(sent_at__lt=cutoff).delete()
    return deleted


def acquire_many(wanted: dict[str, int], *, now=None) -> dict[str, tuple[list[int], float]]:
    """Slots for several robots at once (a worker's batch): for each robot key, the ids of
    the slots taken (at most what is wanted and what its window has left) and, when fewer
    than wanted, the seconds until its window frees one. One transaction; the robots' rows
    are locked in key order, so two workers cannot deadlock."""
    if not wanted:
        return {}
    now = now or timezone.now()
    span = window_length()
    keys = sorted(wanted)
    with transaction.atomic(savepoint=False):  # see sending.claim_due
        locked = RobotRateLock.objects.select_for_update().filter(robot_key__in=keys)
        if len(list(locked.order_by("robot_key").values_list("pk", flat=True))) < len(keys):
            RobotRateLock.objects.bulk_create(
                [RobotRateLock(robot_key=k) for k in keys], ignore_conflicts=True
            )
            list(locked.order_by("robot_key").values_list("pk", flat=True))
        windows = {
            row["robot_key"]: row
            for row in RobotRateSlot.objects.filter(robot_key__in=keys, sent_at__gt=now - span)
            .values("robot_key")
            .annotate(used=Count("id"), oldest=Min("sent_at"))
        }
        new_slots, waits = [], {}
        for key in keys:
            window = windows.get(key, {"used": 0, "oldest": now})
            free = max(settings.ROBOT_RATE_LIMIT - window["used"], 0)
            take = min(free, wanted[key])
            new_slots += [RobotRateSlot(robot_key=key, sent_at=now) for _ in range(take)]
            if take < wanted[key]:
                waits[key] = max((window["oldest"] + span - now).total_seconds(), 0.001)
        created = RobotRateSlot.objects.bulk_create(new_slots)
    granted: dict[str, tuple[list[int], float]] = {k: ([], waits.get(k, 0.0)) for k in keys}
    for slot in created:
        granted[slot.robot_key][0].append(slot.pk)
    return granted


def settle(*, used, unused=()) -> None:
    """Sends are over: the slots of those that reached the network count from now; those of
    sends that never left (the guard refused the address, or the send did not start) are
    given back, so a refusal does not use up the robot's window."""
    used = [pk for pk in used if pk is not None]
    unused = [pk for pk in unused if pk is not None]
    if used:
        RobotRateSlot.objects.filter(pk__in=used).update(sent_at=timezone.now())
    if unused:
        RobotRateSlot.objects.filter(pk__in=unused).delete()
