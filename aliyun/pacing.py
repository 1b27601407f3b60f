"""SAE_CLOUD_QPS: an account's ARMS calls are spaced 1/QPS seconds apart, across every worker
and process, by a timestamp on its connection row (taken under a row lock, so two workers
never get the same slot). No process memory, no Redis."""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from aliyun.models import CloudConnection


def take_slot(account_pk: int) -> float:
    """Wait for this account's next call slot; returns the seconds waited. Call it outside
    any transaction (it commits its own, then sleeps)."""
    qps = settings.CLOUD_QPS
    if qps <= 0:
        return 0.0
    gap = timedelta(seconds=1 / qps)
    with transaction.atomic():
        rows = CloudConnection.objects.select_for_update().filter(account_id=account_pk)
        booked = rows.values_list("next_call_at", flat=True).first()
        now = timezone.now()
        start = max(now, booked) if booked else now
        rows.update(next_call_at=start + gap)
    wait = (start - now).total_seconds()
    if wait > 0:
        time.sleep(wait)
    return max(wait, 0.0)
