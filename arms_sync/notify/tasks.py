"""The background task (Django's `django.tasks`; django-tasks-db by default), enqueued on
commit for each batch of deliveries. It receives primary keys only; the rows say what is still
to do."""

from __future__ import annotations

import os
import socket

from django.tasks import task

from arms_sync.notify import lanes, sending


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


@task
def deliver(delivery_ids: list[int]) -> dict[str, int]:
    """Send these deliveries (a batch of at most NOTIFY_BATCH_SIZE); returns the outcomes."""
    outcomes = sending.deliver_many(
        delivery_ids, worker_id=worker_id(), refill=lanes.in_worker.is_set()
    )
    return dict(outcomes)
