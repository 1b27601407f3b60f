"""The console's Prometheus metrics: their definitions and the small `record_*` helpers the
apps call, plus the scrape-time collectors the apps register (ground floor: no app imported).

Counters and histograms live in the process that counts them. With `PROMETHEUS_MULTIPROC_DIR`
set (production: gunicorn's workers and every `notify_worker` of a machine share one
directory), prometheus-client writes each process's values to files there and a scrape merges
them; without it, the process's default registry holds them and a scrape sees that process
only (`manage.py runserver`, tests).

Gauges that describe the database (deliveries waiting, alerts firing, worker heartbeats,
cloud pushes) are not kept in any process: they are computed when `/metrics` is scraped by the
functions apps add with `register_scrape_collector()` in their `AppConfig.ready()`, so every
web node answers the same whatever process wrote the rows.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Callable, Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger("core.metrics")

# prometheus-client writes each process's values to files in this directory; a process that
# starts before anything made it (a worker started on its own) makes it, rather than failing
# at its first count.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# --- counted in the process ----------------------------------------------------------------

# One delivery attempt's outcome per channel, each attempt counted once: sent (the provider
# accepted it), retried (a retryable failure: tried again later), failed (for good), refused
# (the outbound guard would not send to the address: nothing left the process).
DELIVERIES = Counter(
    "sae_deliveries",
    "Delivery attempts by channel and outcome.",
    ["channel", "outcome"],
)
SEND_DURATION = Histogram(
    "sae_delivery_send_duration_seconds",
    "Time one send took, from the request to the provider's answer.",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15),
)
INTAKE_POSTS = Counter(
    "sae_intake_posts",
    "Posts to the Alertmanager intake, by the HTTP status of the answer.",
    ["code"],
)

# --- computed at scrape time (names only: the apps compute them) ------------------------------
DELIVERIES_PENDING = "sae_deliveries_pending"  # due now, waiting for a worker
DELIVERIES_SENDING = "sae_deliveries_sending"  # claimed by a worker
DELIVERIES_RETRY_WAITING = "sae_deliveries_retry_waiting"  # pending, next attempt later
OLDEST_DUE_AGE = "sae_delivery_oldest_due_age_seconds"  # 0 when nothing is due
ALERTS_FIRING = "sae_alerts_firing"
WORKER_HEARTBEAT = "sae_worker_heartbeat_timestamp_seconds"  # {worker}, Unix time
# Filled by the cloud connection's app (aliyun) when an account is connected.
CLOUD_PUSHES_PENDING = "sae_cloud_pushes_pending"
CLOUD_PUSHES_FAILED = "sae_cloud_pushes_failed"


_OUTCOME_NAMES = {"retry": "retried"}  # DeliveryAttempt's "retry" reads as a counted past


def record_delivery(*, channel: str, outcome: str, seconds: float, refused: bool = False) -> None:
    """One delivery attempt ended (`outcome` "sent", "retry"/"retried" or "failed"): count it
    and how long the send took. `refused`: the outbound guard stopped it before any request,
    so it counts as "refused" and its duration says nothing about the provider."""
    name = "refused" if refused else _OUTCOME_NAMES.get(outcome, outcome)
    with _never_raises("record_delivery"):
        DELIVERIES.labels(channel=channel, outcome=name).inc()
        if not refused:
            SEND_DURATION.labels(channel=channel).observe(max(seconds, 0.0))


def record_intake(code: int) -> None:
    """One post to the intake was answered with this status."""
    with _never_raises("record_intake"):
        INTAKE_POSTS.labels(code=str(code)).inc()


@contextlib.contextmanager
def _never_raises(what: str):
    """Counting must never cost a delivery or an answer (a metrics directory that is gone or
    full): the failure is logged and the work goes on."""
    try:
        yield
    except Exception:
        logger.exception("%s: could not count", what)


def counts_intake_posts(view):
    """Wrap the intake view: every answer counted by its status (an exception as 500)."""

    @functools.wraps(view)
    def counted(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Exception:
            record_intake(500)
            raise
        record_intake(response.status_code)
        return response

    return counted


# --- scrape-time collectors --------------------------------------------------------------------

ScrapeCollector = Callable[[], Iterable[Metric]]
_scrape_collectors: list[ScrapeCollector] = []


def register_scrape_collector(collect: ScrapeCollector) -> None:
    """Add a function that yields metric families (prometheus_client.core's GaugeMetricFamily
    and the like) computed when /metrics is scraped. Idempotent; call it from
    `AppConfig.ready()`."""
    if collect not in _scrape_collectors:
        _scrape_collectors.append(collect)


class _ScrapeTime:
    """A collector over the registered functions; one that fails is logged and left out, so
    one broken gauge does not cost the whole scrape."""

    def collect(self) -> Iterable[Metric]:
        for collect in list(_scrape_collectors):
            try:
                yield from list(collect())
            except Exception:
                logger.exception("scrape-time collector %s failed", collect.__qualname__)


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def exposition(*, scrape_time: bool = True) -> tuple[bytes, str]:
    """The text /metrics answers, and its content type. `scrape_time=False` leaves out the
    gauges computed from the database (a worker's own endpoint: the web nodes give those)."""
    if multiprocess_dir():
        registry = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_ProcessRegistry())
    if scrape_time:
        registry.register(_ScrapeTime())
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _ProcessRegistry:
    """The default registry of this process (single-process mode)."""

    def collect(self) -> Iterable[Metric]:
        yield from REGISTRY.collect()
