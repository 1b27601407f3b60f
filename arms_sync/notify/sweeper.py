"""The sweeper (SPEC 8: the delivery rows, not the queue, are the truth). Run by every
`notify_worker` every few seconds; any number may run at once.

- A row left `sending` past its lease (its worker was killed mid-send) goes back to pending,
  with an attempt recorded that says so.
- A pending row that is due and has no live task (never enqueued, enqueued too long ago and
  lost, or waiting out a retry backoff or a rate window) gets a task. Rows are taken with
  `SELECT ... FOR UPDATE SKIP LOCKED`, so two sweepers enqueue different rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from arms_sync.notify import ratelimit
from arms_sync.notify.models import Delivery, DeliveryAttempt
from arms_sync.notify.outbox import enqueue_on_commit

BATCH = 500


@dataclass(frozen=True)
class SweepReport:
    reclaimed: int
    enqueued: int


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
    lost_before = now - timedelta(seconds=settings.NOTIFY_REQUEUE_AFTER_SECONDS)
    with transaction.atomic():
        pks = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=lost_before))
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:BATCH]
        )
        Delivery.objects.filter(pk__in=pks).update(enqueued_at=now)
        enqueue_on_commit(pks)
    return len(pks)


def sweep(*, now=None) -> SweepReport:
    now = now or timezone.now()
    report = SweepReport(reclaimed=reclaim_expired(now), enqueued=enqueue_due(now))
    ratelimit.prune(now=now)
    return report
