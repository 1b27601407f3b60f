"""What each notify_worker does for connected accounts, every sweep round (arms_sync.cloud's
`periodic`): enqueue pushes a lost task left behind, pull RAM every SAE_RAM_SYNC_INTERVAL and
compare with ARMS every SAE_ARMS_RECONCILE_INTERVAL. A conditional UPDATE claims each job, so
of many workers exactly one runs it.

A RAM sync of thousands of users takes minutes, and the sweep round runs in the worker's one
periodic thread, beside the notification sweeper (arms_sync.notify.periodic): the round only
claims the long jobs and hands them to this process's own cloud thread (`Background`), one job
at a time, so that the sweeper's next round is never held up by the cloud.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection
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


def _sync_ram(cloud: CloudConnection) -> None:
    from aliyun.ram_sync import sync_ram

    try:
        sync_ram(connection=cloud)
    except CloudError as error:
        logger.warning("RAM sync of %s failed: %s", cloud.account_id, error.code)


def _compare(cloud: CloudConnection) -> None:
    from aliyun.reconcile import reconcile_remote

    try:
        reconcile_remote(connection=cloud, fix=False)
    except CloudError as error:
        logger.warning("ARMS comparison of %s failed: %s", cloud.account_id, error.code)


Run = Callable[[str, Callable[[], None]], object]


def _inline(key: str, job: Callable[[], None]) -> None:
    job()


class Background:
    """This process's cloud thread: long jobs one after another, off the periodic thread. A job
    already waiting or running is not queued twice (its key: the job and the account)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.jobs: queue.Queue[tuple[str, Callable[[], None]]] = queue.Queue()
        self.busy: set[str] = set()
        self.thread: threading.Thread | None = None
        self.idle = threading.Condition(self.lock)

    def submit(self, key: str, job: Callable[[], None]) -> bool:
        with self.lock:
            if key in self.busy:
                return False
            self.busy.add(key)
            if self.thread is None or not self.thread.is_alive():
                # A daemon: stopping the worker never waits for a sync (its claim expires).
                self.thread = threading.Thread(target=self._loop, name="aliyun-cloud", daemon=True)
                self.thread.start()
        self.jobs.put((key, job))
        return True

    def _loop(self) -> None:
        while True:
            key, job = self.jobs.get()
            try:
                close_old_connections()
                job()
            except Exception:  # one account's failure must not end the thread
                logger.exception("cloud job %s failed", key)
            finally:
                connection.close()
                with self.lock:
                    self.busy.discard(key)
                    self.idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Until no job waits or runs (tests, and a command that wants the results)."""
        with self.lock:
            return self.idle.wait_for(lambda: not self.busy, timeout)


background = Background()


def tick(*, run: Run = _inline) -> None:
    """One round: pushes swept now; the RAM sync and the ARMS comparison each account has due
    are claimed now and handed to `run` (the worker's round passes background.submit; inline
    by default, for a command or a test)."""
    sweep_pushes()
    for cloud in CloudConnection.objects.select_related("account"):
        if _claim(cloud, "ram_synced_at", settings.RAM_SYNC_INTERVAL):
            run(f"ram:{cloud.account_id}", lambda cloud=cloud: _sync_ram(cloud))
        if _claim(cloud, "reconciled_at", settings.ARMS_RECONCILE_INTERVAL):
            run(f"arms:{cloud.account_id}", lambda cloud=cloud: _compare(cloud))
