"""What each notify_worker does for connected accounts, every sweep round (arms_sync.cloud's
`periodic`): enqueue pushes a lost task left behind, pull RAM every SAE_RAM_SYNC_INTERVAL and
compare with ARMS every SAE_ARMS_RECONCILE_INTERVAL. A conditional UPDATE claims each job, so
of many workers exactly one runs it."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from aliyun.clients import CloudError
from aliyun.models import ArmsPush, CloudConnection

logger = logging.getLogger(__name__)

REQUEUE_AFTER = timedelta(seconds=30)


def _claim(connection: CloudConnection, field: str, interval: float) -> bool:
    now = timezone.now()
    due = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": now - timedelta(seconds=interval)})
    # The claim is the timestamp itself: set now, so no other worker finds it due.
    return bool(CloudConnection.objects.filter(pk=connection.pk).filter(due).update(**{field: now}))


def sweep_pushes() -> int:
    """Enqueue a push for every account with due rows and no task seen recently."""
    from aliyun.tasks import push_arms

    now = timezone.now()
    due = (
        ArmsPush.objects.filter(status=ArmsPush.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - REQUEUE_AFTER))
        .values_list("account_id", flat=True)
        .distinct()
    )
    accounts = list(due)
    for account_pk in accounts:
        ArmsPush.objects.filter(account_id=account_pk, status=ArmsPush.Status.PENDING).update(
            enqueued_at=now
        )
        push_arms.enqueue(account_pk)
    return len(accounts)


def tick() -> None:
    sweep_pushes()
    from aliyun.ram_sync import sync_ram
    from aliyun.reconcile import reconcile_remote

    for connection in CloudConnection.objects.select_related("account"):
        if _claim(connection, "ram_synced_at", settings.RAM_SYNC_INTERVAL):
            try:
                sync_ram(connection=connection)
            except CloudError as error:
                logger.warning("RAM sync of %s failed: %s", connection.account_id, error.code)
        if _claim(connection, "reconciled_at", settings.ARMS_RECONCILE_INTERVAL):
            try:
                reconcile_remote(connection=connection, fix=False)
            except CloudError as error:
                logger.warning(
                    "ARMS comparison of %s failed: %s", connection.account_id, error.code
                )
