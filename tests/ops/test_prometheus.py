"""Rules §16 (issue 19) with Debian's Prometheus: docs/prometheus/rules.yml passes `promtool check
rules` and its unit tests; a real Prometheus scrapes a live gunicorn (deploy/gunicorn.conf.py,
two workers, multiprocess metrics) with the bearer token while a real `notify_worker` sends to
the loopback robot sink, and its HTTP API shows the delivery counters moving.

The scrape test starts processes and waits on real time: it runs once, on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from arms_sync.notify.models import Delivery, WorkerHeartbeat
from tests.commands import database_url
from tests.loopback import free_port, wait_until
from tests.markers import postgres_only
from tests.notify.sink import RobotSink
from tests.notify.support import pending_events
from tests.ops.support import TOKEN, Processes, get, parse, query, value

RULES = Path(settings.BASE_DIR) / "docs" / "prometheus"
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"


def test_the_shipped_rules_pass_promtool_check():
    result = subprocess.run(
        [PROMTOOL, "check", "rules", str(RULES / "rules.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_rules_fire_as_their_unit_tests_expect():
    """Queue stuck past 5 minutes, a silent worker, no worker at all, deliveries failing."""
    result = subprocess.run(
        [PROMTOOL, "test", "rules", "rules.test.yml"],
        cwd=RULES,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- a real scrape ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@postgres_only("gunicorn and a worker share the database: run once, on PostgreSQL")
def test_a_real_prometheus_sees_the_delivery_counters_move(account, tmp_path):
    multiproc = tmp_path / "metrics"
    web_port, prom_port = free_port(), free_port()
    procs = Processes("prometheus-scrape")
    with RobotSink() as sink:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SAE_"))},
            "DJANGO_SETTINGS_MODULE": "sae_console.settings",
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            "DJANGO_ALLOWED_HOSTS": "console.example.com",  # Prometheus comes by address
            "DJANGO_LOG_LEVEL": "WARNING",
            "SAE_FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "DATABASE_URL": database_url(),
            "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
            "SAE_METRICS_TOKEN": TOKEN,
            "SAE_BIND": f"127.0.0.1:{web_port}",
            "SAE_WEB_WORKERS": "2",
            "SAE_NOTIFY_SWEEP": "0.3",
            **sink.env(),
        }
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            "  - job_name: sae-console\n"
            "    authorization: {type: Bearer, credentials_file: " + str(tmp_path / "token") + "}\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{web_port}']}}]\n"
        )
        (tmp_path / "token").write_text(TOKEN)
        try:
            venv_bin = Path(sys.executable).parent
            procs.start(
                "gunicorn",
                [str(venv_bin / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "sae_console.wsgi"],
                cwd=settings.BASE_DIR,
                env=env,
            )
            worker = procs.start(
                "worker",
                [sys.executable, "manage.py", "notify_worker", "--interval", "0.05"],
                cwd=settings.BASE_DIR,
                env=env,
            )
            procs.start(
                "prometheus",
                [
                    PROMETHEUS,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                ],
            )
            prometheus = f"http://127.0.0.1:{prom_port}"
            sent = 'sum(sae_deliveries_total{channel="dingtalk",outcome="sent"}) or vector(0)'
            # Scraped, with the token, by address over plain HTTP; a worker beats.
            assert wait_until(lambda: query(prometheus, 'up{job="sae-console"}') == 1, timeout=60)
            assert wait_until(
                lambda: query(prometheus, "count(sae_worker_heartbeat_timestamp_seconds)") == 1,
                timeout=30,
            )
            assert query(prometheus, sent) == 0
            # No task in this process: the worker's sweeper sends them.
            pending_events(account, [sink.url("dingtalk", f"ok-prom-{i:03d}") for i in range(12)])
            assert wait_until(
                lambda: Delivery.objects.filter(status=Delivery.Status.SENT).count() == 12,
                timeout=60,
            )
            assert wait_until(lambda: query(prometheus, sent) == 12, timeout=30)
            histogram = 'sum(sae_delivery_send_duration_seconds_count{channel="dingtalk"})'
            assert query(prometheus, histogram) == 12
            assert query(prometheus, "sum(sae_deliveries_pending)") == 0
            # Gunicorn's workers each answer scrapes; the worker's counts are in every answer.
            assert len(list(multiproc.glob("counter_*.db"))) >= 1
            # A worker stopped with SIGTERM takes its heartbeat away (one killed leaves it).
            assert WorkerHeartbeat.objects.count() == 1
            os.kill(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
            assert WorkerHeartbeat.objects.count() == 0
        finally:
            procs.stop()


@pytest.mark.django_db(transaction=True)
@postgres_only("a worker process shares the database: run once, on PostgreSQL")
def test_a_worker_on_a_machine_without_web_serves_its_own_metrics(account, tmp_path):
    """`notify_worker --metrics-bind`: its own multiprocess directory, its own endpoint."""
    port = free_port()
    procs = Processes("worker-metrics")
    with RobotSink() as sink:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SAE_"))},
            "DJANGO_SETTINGS_MODULE": "sae_console.settings",
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            "DJANGO_ALLOWED_HOSTS": "console.example.com",
            "DJANGO_LOG_LEVEL": "WARNING",
            "SAE_FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "DATABASE_URL": database_url(),
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
            "SAE_METRICS_TOKEN": TOKEN,
            "SAE_NOTIFY_SWEEP": "0.3",
            **sink.env(),
        }
        (tmp_path / "metrics").mkdir()
        url = f"http://127.0.0.1:{port}/metrics"
        try:
            procs.start(
                "worker",
                [
                    *(sys.executable, "manage.py", "notify_worker", "--interval", "0.05"),
                    *("--metrics-bind", f"127.0.0.1:{port}"),
                ],
                cwd=settings.BASE_DIR,
                env=env,
            )
            assert wait_until(
                lambda: get(url, Authorization=f"Bearer {TOKEN}")[0] == 200, timeout=30
            )
            assert get(url)[0] == 401
            pending_events(account, [sink.url("wecom", f"ok-alone-{i:03d}") for i in range(5)])

            def sent() -> float:
                body = get(url, Authorization=f"Bearer {TOKEN}")[1].decode()
                return value(parse(body), "sae_deliveries_total", channel="wecom", outcome="sent")

            assert wait_until(lambda: sent() == 5, timeout=60)
        finally:
            procs.stop()
