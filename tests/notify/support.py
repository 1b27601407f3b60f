"""Helpers shared by the notification tests."""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta

from django.utils import timezone

from arms_sync.notify import outbox
from arms_sync.notify.models import Delivery, Event
from arms_sync.notify.outbox import Recipient
from arms_sync.notify.sweeper import sweep


def deliveries_of(event: Event) -> list[Delivery]:
    return list(Delivery.objects.filter(event=event).order_by("channel", "id"))


@contextlib.contextmanager
def run_commit_callbacks(capture):
    """Run what the block registered with on_commit, and what those callbacks register in
    turn (the test transaction never commits). With the ImmediateBackend of the test
    settings, an enqueued task runs at once."""
    with capture(execute=True) as callbacks:
        yield callbacks


def drain(capture, *, rounds: int = 50, soon: float = 0.2) -> int:
    """Sweep (enqueue due rows and run their tasks) until no pending row falls due within
    `soon` seconds; bounded by `rounds`."""
    total = 0
    for _ in range(rounds):
        with capture(execute=True):
            report = sweep()
        total += report.enqueued
        horizon = timezone.now() + timedelta(seconds=soon)
        if not Delivery.objects.filter(
            status=Delivery.Status.PENDING, next_attempt_at__lte=horizon
        ).exists():
            break
        time.sleep(0.01)
    return total


def max_in_window(times: list[float], window: float) -> int:
    """The most of `times` (seconds) that fall within any `window` seconds: what a rate
    limit of N per window must keep at N or fewer."""
    times = sorted(times)
    best, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def pending_events(account, urls: list[str], *, kind=Event.Kind.TEST, payload=None) -> list[int]:
    """One event per URL, its delivery pending with no task (as the sweeper would find it)."""
    for n, url in enumerate(urls):
        channel = "wecom" if "/cgi-bin/" in url else "dingtalk"
        outbox.record_event(
            account=account,
            kind=kind,
            title=f"event {n}",
            payload=payload or {},
            recipients=[Recipient(name=f"p{n}", **{f"{channel}_url": url})],
            claimed_by="nobody",
        )
    Delivery.objects.update(
        status=Delivery.Status.PENDING,
        claimed_by="",
        lease_until=None,
        attempts=0,
        enqueued_at=None,
    )
    return list(Delivery.objects.order_by("id").values_list("pk", flat=True))
