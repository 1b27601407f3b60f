"""Rules §16 (issue 19): /metrics. Only to the bearer token of SAE_METRICS_TOKEN (404 when it is
unset); Prometheus' text format; deliveries by channel and outcome moving with real sends to the
loopback robot sink; intake posts by answer; the gauges computed from the tables at scrape time
(in a fixed number of queries); worker heartbeats."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from arms_sync.intake import services as intake_services
from arms_sync.intake.models import ReceivedAlert
from arms_sync.notify import heartbeat, outbox
from arms_sync.notify.models import Delivery, Event, WorkerHeartbeat
from arms_sync.notify.outbox import Recipient
from core import metrics
from tests.intake.support import post_alerts
from tests.notify.support import drain, run_commit_callbacks
from tests.ops.support import TOKEN, parse, scrape, value

pytestmark = pytest.mark.django_db

FAST_RETRIES = override_settings(
    NOTIFY_BACKOFF_SECONDS=0.001, NOTIFY_BACKOFF_MAX_SECONDS=0.002, NOTIFY_MAX_ATTEMPTS=2
)


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv("SAE_METRICS_TOKEN", TOKEN)
    return TOKEN


def robot_event(account, sink, token, *, kind="dingtalk"):
    return outbox.record_event(
        account=account,
        kind=Event.Kind.TEST,
        title="t",
        recipients=[Recipient(name="a", **{f"{kind}_url": sink.url(kind, token)})],
    )


# --- access -------------------------------------------------------------------------------------


def test_without_the_variable_metrics_is_the_ordinary_404(client, monkeypatch):
    monkeypatch.delenv("SAE_METRICS_TOKEN", raising=False)
    missing = client.get("/no-such-page")
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything")
    assert response.status_code == 404
    # The same page, the path it names aside (the language switch's `next`).
    assert _page(response) == _page(missing).replace(b"/no-such-page", b"/metrics")


def _page(response) -> bytes:
    """The page without what differs from one request to the next (CSP nonce, CSRF token)."""
    varying = rb'(nonce="|"X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]*"'
    return re.sub(varying, b"", response.content)


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "]
)
def test_without_the_right_token_metrics_is_401_and_shows_nothing(client, token, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"sae_" not in response.content


@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["console.example.com"])
def test_prometheus_scrapes_a_node_by_address_over_plain_http(client, token):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="10.0.0.7")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    names = {name for name, _ in parse(response.content.decode())}
    for name in (
        "sae_deliveries_pending",
        "sae_deliveries_sending",
        "sae_deliveries_retry_waiting",
        "sae_delivery_oldest_due_age_seconds",
        "sae_alerts_firing",
    ):
        assert name in names


# --- counters -----------------------------------------------------------------------------------


@FAST_RETRIES
def test_delivery_outcomes_are_counted_by_channel(
    client, token, account, robot_sink, django_capture_on_commit_callbacks
):
    before = scrape(client)
    with run_commit_callbacks(django_capture_on_commit_callbacks):
        robot_event(account, robot_sink, "ok-metrics-1")
        robot_event(account, robot_sink, "ok-metrics-2", kind="wecom")
        robot_event(account, robot_sink, "err300001-metrics")  # invalid robot: failed at once
        robot_event(account, robot_sink, "http500-metrics")  # retried, then failed
    drain(django_capture_on_commit_callbacks)
    after = scrape(client)

    def moved(channel, outcome):
        labels = {"channel": channel, "outcome": outcome}
        return value(after, "sae_deliveries_total", **labels) - value(
            before, "sae_deliveries_total", **labels
        )

    assert moved("dingtalk", "sent") == 1
    assert moved("wecom", "sent") == 1
    assert moved("dingtalk", "retried") == 1
    assert moved("dingtalk", "failed") == 2
    count = "sae_delivery_send_duration_seconds_count"
    assert value(after, count, channel="dingtalk") - value(before, count, channel="dingtalk") == 4
    assert value(after, "sae_delivery_send_duration_seconds_sum", channel="dingtalk") > 0


def test_a_send_the_guard_refuses_is_counted_as_refused(
    client, token, account, robot_sink, settings, django_capture_on_commit_callbacks
):
    before = scrape(client)
    robot_event(account, robot_sink, "ok-refused-later")  # saved while the sink was allowed
    settings.ROBOT_WEBHOOK_ALLOW_PRIVATE = False  # the loopback sink is now refused on send
    Delivery.objects.update(enqueued_at=None)  # its task was never run: the sweeper sends it
    drain(django_capture_on_commit_callbacks)
    after = scrape(client)
    labels = {"channel": "dingtalk", "outcome": "refused"}
    assert value(after, "sae_deliveries_total", **labels) == (
        value(before, "sae_deliveries_total", **labels) + 1
    )
    assert robot_sink.received("ok-refused-later") == []


def test_intake_posts_are_counted_by_answer(client, token, account):
    intake = intake_services.rotate_token(account=account, created_by="test")
    before = scrape(client)
    client.post("/intake/alertmanager/", data="{}", content_type="application/json")
    client.post(
        "/intake/alertmanager/",
        data="not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {intake}",
    )
    client.post(
        "/intake/alertmanager/",
        data=json.dumps({"version": "4", "status": "firing", "alerts": []}),
        content_type="text/plain",
        HTTP_AUTHORIZATION=f"Bearer {intake}",
    )
    after = scrape(client)
    for code in ("401", "400", "415"):
        assert value(after, "sae_intake_posts_total", code=code) == (
            value(before, "sae_intake_posts_total", code=code) + 1
        ), code


# --- gauges computed at scrape time -------------------------------------------------------------


def test_queue_gauges_count_the_delivery_rows(client, token, account, robot_sink):
    now = timezone.now()
    for i in range(5):
        robot_event(account, robot_sink, f"ok-queue-{i}")  # no task runs: all stay pending
    rows = list(Delivery.objects.order_by("id"))
    Delivery.objects.filter(pk=rows[0].pk).update(next_attempt_at=now - timedelta(seconds=400))
    Delivery.objects.filter(pk=rows[1].pk).update(status=Delivery.Status.SENDING)
    Delivery.objects.filter(pk=rows[2].pk).update(next_attempt_at=now + timedelta(minutes=5))
    samples = scrape(client)
    assert value(samples, "sae_deliveries_pending") == 3
    assert value(samples, "sae_deliveries_sending") == 1
    assert value(samples, "sae_deliveries_retry_waiting") == 1
    assert 400 <= value(samples, "sae_delivery_oldest_due_age_seconds") < 460


def test_the_scrape_runs_a_fixed_number_of_queries(
    client, token, account, robot_sink, django_assert_num_queries
):
    def queries():
        # Three for arms_sync's gauges, one for the cloud's (no account connected here).
        with django_assert_num_queries(4) as captured:
            scrape(client)
        return len(captured)

    few = queries()
    for i in range(30):
        robot_event(account, robot_sink, f"ok-many-{i}")
        heartbeat.beat(f"host:{i}")
    assert queries() == few


def test_alerts_firing_counts_alerts_in_the_firing_state(client, token, account):
    from tests.intake.test_endpoint import EXAMPLE

    intake = intake_services.rotate_token(account=account, created_by="test")
    post_alerts(client, intake, EXAMPLE)  # one firing, one resolved
    assert value(scrape(client), "sae_alerts_firing") == 1
    resolved = json.loads(json.dumps(EXAMPLE))
    resolved["alerts"] = [dict(EXAMPLE["alerts"][0], status="resolved")]
    resolved["status"] = "resolved"
    post_alerts(client, intake, resolved)
    assert ReceivedAlert.objects.count() == 3
    assert value(scrape(client), "sae_alerts_firing") == 0


def test_worker_heartbeats_are_timestamps_per_worker(client, token):
    then = timezone.now() - timedelta(seconds=30)
    heartbeat.beat("node-a:101", now=then)
    heartbeat.beat("node-b:202")
    samples = scrape(client)
    seen = value(samples, "sae_worker_heartbeat_timestamp_seconds", worker="node-a:101")
    assert seen == pytest.approx(then.timestamp())
    assert value(samples, "sae_worker_heartbeat_timestamp_seconds", worker="node-b:202") > seen
    heartbeat.stopped("node-b:202")
    samples = scrape(client)
    assert ("sae_worker_heartbeat_timestamp_seconds", (("worker", "node-b:202"),)) not in samples
    # A worker silent for an hour is gone for good: the next beat of another forgets it.
    heartbeat.beat("node-c:303", now=then + timedelta(hours=1, seconds=1))
    assert set(WorkerHeartbeat.objects.values_list("worker", flat=True)) == {"node-c:303"}


def test_a_failing_scrape_time_collector_costs_only_its_own_gauges(client, token, monkeypatch):
    def broken():
        raise RuntimeError("boom")
        yield  # pragma: no cover

    monkeypatch.setattr(metrics, "_scrape_collectors", [broken, *metrics._scrape_collectors])
    samples = scrape(client)
    assert ("sae_deliveries_pending", ()) in samples


def test_apps_add_their_gauges_through_the_registration_hook(client, token, monkeypatch):
    """The cloud connection's app adds its push gauges this way (named in core.metrics)."""
    from prometheus_client.core import GaugeMetricFamily

    def cloud():
        yield GaugeMetricFamily(metrics.CLOUD_PUSHES_PENDING, "pending", value=4)
        yield GaugeMetricFamily(metrics.CLOUD_PUSHES_FAILED, "failed", value=1)

    monkeypatch.setattr(metrics, "_scrape_collectors", list(metrics._scrape_collectors))
    metrics.register_scrape_collector(cloud)
    metrics.register_scrape_collector(cloud)  # idempotent
    samples = scrape(client)
    assert value(samples, "sae_cloud_pushes_pending") == 4
    assert value(samples, "sae_cloud_pushes_failed") == 1


def test_counting_never_costs_a_delivery_or_an_answer(monkeypatch, caplog):
    """A metrics directory that went away makes prometheus-client raise: logged, not raised."""

    class Broken:
        def labels(self, **labels):
            raise FileNotFoundError("/run/sae-console/metrics/counter_42.db")

    monkeypatch.setattr(metrics, "DELIVERIES", Broken())
    monkeypatch.setattr(metrics, "INTAKE_POSTS", Broken())
    metrics.record_delivery(channel="email", outcome="sent", seconds=0.1)
    metrics.record_intake(200)
    assert "could not count" in caplog.text


def test_a_process_started_before_its_metrics_directory_exists_makes_it(tmp_path):
    """A worker started on its own (no gunicorn made the directory) counts from its first
    delivery on, in multiprocess files."""
    import subprocess
    import sys

    from django.conf import settings

    path = tmp_path / "not-yet" / "metrics"
    code = (
        "from core import metrics; "
        "metrics.record_delivery(channel='email', outcome='sent', seconds=0.1); "
        "print(metrics.exposition(scrape_time=False)[0].decode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={"PROMETHEUS_MULTIPROC_DIR": str(path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert list(path.glob("counter_*.db"))
    samples = parse(result.stdout)
    assert value(samples, "sae_deliveries_total", channel="email", outcome="sent") == 1
