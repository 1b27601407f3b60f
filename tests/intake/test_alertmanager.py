"""rules §8 end to end with a real Alertmanager (Debian's prometheus-alertmanager, installed by
the test set-up as Chromium is): alerts posted to Alertmanager's API reach the console's intake
through Alertmanager's webhook receiver with the bearer token, become events and deliveries to
a loopback robot, and a resolved alert arrives as resolved."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.test import override_settings

from arms_sync.intake import services
from arms_sync.intake.models import Alert, ReceivedAlert
from arms_sync.models import NotificationPolicy
from arms_sync.notify.models import Delivery
from core.processes import stop_processes
from tests.factories import AccountFactory, owners_contact
from tests.loopback import free_port, wait_until

ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
OUTPUT = Path(os.environ.get("SAE_TEST_OUTPUT", ".test-output"))

pytestmark = pytest.mark.django_db(transaction=True)


class Alertmanager:
    """One Alertmanager process for a test, stopped by its PID."""

    def __init__(self, tmp_path: Path, webhook_url: str, token: str, repeat: str = "1h"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "route": {
                "receiver": "sae-console",
                "group_by": ["alertname"],
                "group_wait": "1s",
                "group_interval": "1s",
                "repeat_interval": repeat,
            },
            "receivers": [
                {
                    "name": "sae-console",
                    "webhook_configs": [
                        {
                            "url": webhook_url,
                            "send_resolved": True,
                            "http_config": {
                                "authorization": {"type": "Bearer", "credentials": token}
                            },
                        }
                    ],
                }
            ],
        }
        # YAML is a superset of JSON: Alertmanager reads this file as its configuration.
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.config = tmp_path / "alertmanager.yml"
        self.config.write_text(json.dumps(config))
        self.storage = tmp_path / "data"
        OUTPUT.mkdir(parents=True, exist_ok=True)
        self.log = (OUTPUT / "alertmanager.log").open("w")
        self.proc: subprocess.Popen | None = None

    def start(self) -> Alertmanager:
        self.proc = subprocess.Popen(
            [
                ALERTMANAGER,
                f"--config.file={self.config}",
                f"--storage.path={self.storage}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        ready = wait_until(self._ready, timeout=30)
        assert ready, f"Alertmanager did not start; see {self.log.name}"
        return self

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as answer:
                return answer.status == 200
        except OSError:
            return False

    def post_alerts(self, alerts: list[dict]) -> None:
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts",
            data=json.dumps(alerts).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 200

    def stop(self) -> None:
        stop_processes([self.proc], grace=10)
        self.log.close()


@pytest.fixture
def alertmanager(tmp_path, live_server):
    made: list[Alertmanager] = []

    def _start(token: str, repeat: str = "1h") -> Alertmanager:
        url = f"{live_server.url}/intake/alertmanager/"
        made.append(Alertmanager(tmp_path / str(len(made)), url, token, repeat))
        return made[-1].start()

    yield _start
    for am in made:
        am.stop()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_alerts_from_a_real_alertmanager_arrive_as_events_and_robot_messages(
    alertmanager, robot_sink
):
    if not os.access(ALERTMANAGER, os.X_OK):
        pytest.fail("prometheus-alertmanager is not installed (scripts/ensure-test-tools.sh)")
    account = AccountFactory()
    other = AccountFactory()
    owners_contact(
        account,
        phone="+8613800000701",
        dingtalk_webhook=robot_sink.url("dingtalk", "ok-alertmanager-robot"),
    )
    token = services.rotate_token(account=account)
    services.rotate_token(account=other)
    am = alertmanager(token)
    started = datetime.now(UTC) - timedelta(minutes=5)
    alert = {
        "labels": {"alertname": "DiskFull", "severity": "warning", "instance": "db-1"},
        "annotations": {"summary": "Disk almost full", "description": "/var is 97% full"},
        "startsAt": iso(started),
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=disk",
    }
    am.post_alerts([alert])

    firing = wait_until(
        lambda: ReceivedAlert.objects.filter(account=account, status="firing").first(),
        timeout=30,
    )
    assert firing, "Alertmanager's notification never reached the intake"
    assert firing.name == "DiskFull" and firing.labels["instance"] == "db-1"
    assert firing.matched_policies == ["sae:default"]
    assert wait_until(lambda: robot_sink.received("ok-alertmanager-robot"), timeout=10)
    first = robot_sink.received("ok-alertmanager-robot")[0].text()
    assert "DiskFull" in first and "Disk almost full" in first

    am.post_alerts([{**alert, "endsAt": iso(datetime.now(UTC) - timedelta(seconds=1))}])
    resolved = wait_until(
        lambda: ReceivedAlert.objects.filter(account=account, status="resolved").first(),
        timeout=30,
    )
    assert resolved, "the resolved notification never arrived"
    assert resolved.ends_at is not None
    assert wait_until(lambda: len(robot_sink.received("ok-alertmanager-robot")) >= 2, timeout=10)
    last = robot_sink.received("ok-alertmanager-robot")[-1].text()
    assert "已恢复" in last or "RESOLVED" in last
    # The sink has a message before the sender has its answer and marks the row sent.
    sent = Delivery.objects.filter(account=account, status=Delivery.Status.SENT)
    assert wait_until(lambda: sent.count() >= 2, timeout=10), sent.count()
    assert ReceivedAlert.objects.filter(account=other).count() == 0


@override_settings(INTAKE_DEDUP_SECONDS=1)
def test_an_alert_lives_through_firing_repeat_resolved_and_re_firing(alertmanager, robot_sink):
    """rules §15 with the real Alertmanager repeating its notification every 2 s: one alert,
    opened; Alertmanager's repeats move "last received" and stay quiet within the policy's
    repeat interval, notify again once it is 0; resolved closes it (the message names it, with
    how long it lasted); firing again re-opens it."""
    if not os.access(ALERTMANAGER, os.X_OK):
        pytest.fail("prometheus-alertmanager is not installed (scripts/ensure-test-tools.sh)")
    account = AccountFactory()
    owners_contact(
        account,
        phone="+8613800000702",
        dingtalk_webhook=robot_sink.url("dingtalk", "ok-lifecycle-robot"),
    )
    am = alertmanager(services.rotate_token(account=account), repeat="2s")
    started = datetime.now(UTC) - timedelta(minutes=3)
    alert = {
        "labels": {"alertname": "HighCPU", "severity": "critical", "instance": "app-1"},
        "annotations": {"summary": "CPU above 90%"},
        "startsAt": iso(started),
    }
    messages = lambda: robot_sink.received("ok-lifecycle-robot")  # noqa: E731
    posts = lambda *changes: ReceivedAlert.objects.filter(  # noqa: E731
        account=account, change__in=changes
    )

    am.post_alerts([alert])
    assert wait_until(lambda: posts("opened").exists(), timeout=30), "never arrived"
    assert wait_until(lambda: len(messages()) == 1, timeout=10)
    assert "【告警】" in messages()[0].text() and "[FIRING:1]" not in messages()[0].text()

    assert wait_until(lambda: posts("quiet").exists(), timeout=30), "no repeat arrived"
    assert len(messages()) == 1  # inside the 4-hour repeat interval: nobody notified again
    NotificationPolicy.objects.filter(account=account).update(repeat_interval=timedelta(0))
    assert wait_until(lambda: posts("repeated").exists(), timeout=30)
    assert wait_until(lambda: len(messages()) >= 2, timeout=10)

    am.post_alerts([{**alert, "endsAt": iso(datetime.now(UTC) - timedelta(seconds=1))}])
    assert wait_until(lambda: posts("resolved").exists(), timeout=30), "resolved never came"
    assert wait_until(lambda: "已恢复" in messages()[-1].text(), timeout=10)
    assert "持续" in messages()[-1].text()  # how long it fired

    am.post_alerts([{**alert, "startsAt": iso(datetime.now(UTC))}])
    assert wait_until(lambda: posts("reopened").exists(), timeout=30), "re-firing never came"
    (state,) = Alert.objects.filter(account=account)
    assert state.status == "firing" and state.ends_at is None
    assert state.posts.filter(change="opened").count() == 1
