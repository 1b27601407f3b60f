"""The gauges /metrics computes from arms_sync's tables when it is scraped (registered with
`core.metrics.register_scrape_collector` in `ArmsSyncConfig.ready()`): the delivery queue, the
oldest due delivery, alerts firing and worker heartbeats. Three queries a scrape, whatever the
number of rows."""

from __future__ import annotations

from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from arms_sync.intake.models import Alert
from arms_sync.notify.models import Delivery, WorkerHeartbeat
from core import metrics

Status = Delivery.Status


def delivery_queue(now=None):
    now = now or timezone.now()
    due = Q(status=Status.PENDING, next_attempt_at__lte=now)
    row = Delivery.objects.aggregate(
        pending=Count("pk", filter=due),
        sending=Count("pk", filter=Q(status=Status.SENDING)),
        waiting=Count("pk", filter=Q(status=Status.PENDING, next_attempt_at__gt=now)),
        oldest_due=Min("next_attempt_at", filter=due),
    )
    yield GaugeMetricFamily(
        metrics.DELIVERIES_PENDING,
        "Deliveries due now and waiting for a worker.",
        value=row["pending"],
    )
    yield GaugeMetricFamily(
        metrics.DELIVERIES_SENDING, "Deliveries a worker has claimed.", value=row["sending"]
    )
    yield GaugeMetricFamily(
        metrics.DELIVERIES_RETRY_WAITING,
        "Deliveries waiting for a later attempt (retry backoff or a robot's rate window).",
        value=row["waiting"],
    )
    age = (now - row["oldest_due"]).total_seconds() if row["oldest_due"] else 0.0
    yield GaugeMetricFamily(
        metrics.OLDEST_DUE_AGE,
        "How long the oldest due delivery has been due (0 when none is).",
        value=max(age, 0.0),
    )


def alerts_firing() -> int:
    """Alerts in the firing state: an alert is one row per account and fingerprint, opened by
    a firing post and closed by a resolved one (rules §15)."""
    return Alert.objects.filter(status=Alert.Status.FIRING).count()


def alerts(now=None):
    yield GaugeMetricFamily(
        metrics.ALERTS_FIRING,
        "Alerts received from Alertmanager and still firing.",
        value=alerts_firing(),
    )


def worker_heartbeats(now=None):
    family = GaugeMetricFamily(
        metrics.WORKER_HEARTBEAT,
        "When each notify_worker last said it was alive (Unix time).",
        labels=["worker"],
    )
    for worker, seen_at in WorkerHeartbeat.objects.order_by("worker").values_list(
        "worker", "seen_at"
    ):
        family.add_metric([worker], seen_at.timestamp())
    yield family


def register() -> None:
    for collect in (delivery_queue, alerts, worker_heartbeats):
        metrics.register_scrape_collector(collect)
