"""Worker heartbeats: each `notify_worker` says it is alive once a sweep round, so /metrics
can show when every worker last answered (the `NoNotifyWorker` alert of
docs/prometheus/rules.yml)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from arms_sync.notify.models import WorkerHeartbeat

# A row not stamped for this long belongs to a worker that is gone for good (killed, its
# machine removed): dropped, so /metrics does not list it for ever.
FORGET_AFTER = timedelta(hours=1)


def beat(worker: str, *, now=None) -> None:
    now = now or timezone.now()
    if not WorkerHeartbeat.objects.filter(worker=worker).update(seen_at=now):
        WorkerHeartbeat.objects.get_or_create(
            worker=worker, defaults={"started_at": now, "seen_at": now}
        )
    WorkerHeartbeat.objects.filter(seen_at__lt=now - FORGET_AFTER).delete()


def stopped(worker: str) -> None:
    """A worker that stops cleanly takes its row away (one killed leaves it to go stale)."""
    WorkerHeartbeat.objects.filter(worker=worker).delete()
