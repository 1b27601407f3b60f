"""The cloud connection's gauges for /metrics, computed when it is scraped (registered with
`core.metrics.register_scrape_collector` in `AliyunConfig.ready()`): ARMS pushes pending and
failed. Nothing is reported while no account is connected; two queries a scrape."""

from __future__ import annotations

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from aliyun.models import ArmsPush, CloudConnection
from core import metrics

Status = ArmsPush.Status


def cloud_pushes():
    if not CloudConnection.objects.exists():
        return
    counts = dict(
        ArmsPush.objects.filter(status__in=[Status.PENDING, Status.FAILED])
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    yield GaugeMetricFamily(
        metrics.CLOUD_PUSHES_PENDING,
        "Changes waiting to be pushed to ARMS, all connected accounts.",
        value=counts.get(Status.PENDING, 0),
    )
    yield GaugeMetricFamily(
        metrics.CLOUD_PUSHES_FAILED,
        "Changes ARMS refused for good (shown on their contacts' rows).",
        value=counts.get(Status.FAILED, 0),
    )


def register() -> None:
    metrics.register_scrape_collector(cloud_pushes)
