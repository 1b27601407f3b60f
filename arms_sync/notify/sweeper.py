"""The sweeper (rules §8: the delivery rows, not the queue, are the truth). Run by every
`notify_worker` every few seconds; any number may run at once.

- A row left `sending` past its lease (its worker was killed mid-send) goes back to pending,
  with an attempt recorded that says so.
- A send task left RUNNING by a worker that died (django-tasks-db cannot tell) is marked
  failed, so the queue shows no task running for ever: at once when its worker ran on this
  machine and its process is gone, else once it has run longer than any send task can.
- A pending row that is due and has no live task (never enqueued, enqueued too long ago and
  lost, or waiting out a retry backoff or a rate window) gets a task. Rows are taken with
  `SELECT ... FOR UPDATE SKIP LOCKED`, so two sweepers enqueue different rows.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Subquery
from django.tasks import TaskResultStatus
from django.utils import timezone

from arms_sync.notify import ratelimit
from arms_sync.notify.models import Delivery, DeliveryAttempt
from arms_sync.notify.outbox import enqueue_on_commit

BATCH = 500


# What a task left RUNNING by a dead worker is marked failed with.
LOST_TASK = "arms_sync.notify.sweeper.WorkerLost"
LOST_TASK_TEXT = "WorkerLost: the worker running this task stopped (killed mid-task); its "
LOST_TASK_TEXT += "deliveries were taken over through their leases."
SEND_TASK = "arms_sync.notify.tasks.deliver"


@dataclass(frozen=True)
class SweepReport:
    reclaimed: int
    enqueued: int
    lost_tasks: int = 0


def _dead_here(worker_ids) -> bool:
    """Whether the task's last worker ran on this machine (`host:pid`) and is gone."""
    if not worker_ids:
        return False
    host, _, pid = str(worker_ids[-1]).rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive, another user's process
    return False


def task_time_limit() -> timedelta:
    """Longer than any send task runs: it takes new rows for at most half a lease, then
    finishes sends bounded by their timeouts."""
    seconds = settings.NOTIFY_LEASE_SECONDS * 2
    seconds += settings.ROBOT_HTTP_CONNECT_TIMEOUT + settings.ROBOT_HTTP_READ_TIMEOUT
    return timedelta(seconds=seconds)


def reclaim_lost_tasks(now) -> int:
    """Mark send tasks whose worker died as failed (the rows they held are reclaimed by their
    leases; re-running the task would find nothing of its own to send)."""
    from django_tasks_db.models import DBTaskResult

    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, task_path=SEND_TASK)
    too_old = now - task_time_limit()
    lost = [
        pk
        for pk, started, workers in running.values_list("pk", "started_at", "worker_ids")[:BATCH]
        if (started and started < too_old) or _dead_here(workers)
    ]
    if not lost:
        return 0
    return running.filter(pk__in=lost).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        exception_class_path=LOST_TASK,
        traceback=LOST_TASK_TEXT,
    )


def reclaim_expired(now) -> int:
    with transaction.atomic():
        expired = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=Delivery.Status.SENDING, lease_until__lt=now)
            .values_list("pk", "attempts", "claimed_by")[:BATCH]
        )
        if not expired:
            return 0
        Delivery.objects.filter(pk__in=[pk for pk, _, _ in expired]).update(
            status=Delivery.Status.PENDING,
            claimed_by="",
            lease_until=None,
            enqueued_at=None,
            next_attempt_at=now,
            last_hint="lease_expired",
        )
        DeliveryAttempt.objects.bulk_create(
            DeliveryAttempt(
                delivery_id=pk,
                number=attempts,
                started_at=now,
                outcome=DeliveryAttempt.Outcome.RETRY,
                hint="lease_expired",
                errmsg="lease expired: the worker stopped mid-send",
                worker=worker[:64],
            )
            for pk, attempts, worker in expired
        )
    return len(expired)


def enqueue_due(now) -> int:
    """Give due rows without a live task one: one UPDATE marks them (its subquery locks them
    with SKIP LOCKED, so two sweepers mark different rows, and only while that statement runs:
    a worker's refill claim skipping locked rows never finds the due rows all held by a sweep),
    then the rows it marked, read back by their mark, get their tasks."""
    lost_before = now - timedelta(seconds=settings.NOTIFY_REQUEUE_AFTER_SECONDS)
    due = (
        Delivery.objects.select_for_update(skip_locked=True)
        .filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=lost_before))
        .order_by("next_attempt_at", "id")
        .values("pk")[:BATCH]
    )
    with transaction.atomic():
        if not Delivery.objects.filter(pk__in=Subquery(due)).update(enqueued_at=now):
            return 0
    marked = Delivery.objects.filter(enqueued_at=now, status=Delivery.Status.PENDING)
    pks = list(marked.order_by("next_attempt_at", "id").values_list("pk", flat=True))
    enqueue_on_commit(pks)
    return len(pks)


def sweep(*, now=None) -> SweepReport:
    now = now or timezone.now()
    report = SweepReport(
        reclaimed=reclaim_expired(now),
        enqueued=enqueue_due(now),
        lost_tasks=reclaim_lost_tasks(now),
    )
    ratelimit.prune(now=now)
    return report
