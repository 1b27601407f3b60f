"""The send pipeline with many sends in flight (rules §8, §16), in process against the loopback
robot sink: a silent robot delays only its own message, the rate window holds with sends in
flight, a refused address is never connected to and does not use up the window, a batch's
emails share their SMTP connections, robot markdown carries no markup from alert labels, the
guard's name cache never skips the check, and a task left RUNNING by a dead worker is closed.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from arms_sync.notify import base, guard, outbox, render, sending
from arms_sync.notify.models import Delivery, DeliveryAttempt, Event, RobotRateSlot
from arms_sync.notify.outbox import Recipient
from arms_sync.notify.sweeper import LOST_TASK, SEND_TASK, sweep
from arms_sync.notify.transports import get_transport
from tests.notify.support import max_in_window, pending_events
from tests.notify.test_email_smtp import Recorder, running_smtp

pytestmark = pytest.mark.django_db
Status = Delivery.Status


def test_a_silent_robot_delays_only_its_own_message(account, robot_sink, settings):
    """rules §16: 40 robots answering after 100 ms and one that never answers, in one batch:
    the 40 are sent, each marked sent, long before the silent one's read timeout ends (one
    at a time, the 40 alone would take 4 s)."""
    settings.ROBOT_HTTP_READ_TIMEOUT = 3
    robot_sink.slow_seconds = 5
    robot_sink.delay = 0.1
    try:
        urls = [robot_sink.url("dingtalk", "slow-silent-robot")]
        urls += [robot_sink.url("dingtalk", f"ok-quick-{n:03d}") for n in range(40)]
        ids = pending_events(account, urls)
        started = timezone.now()
        outcomes = sending.deliver_many(ids, worker_id="w1", refill=False)
    finally:
        robot_sink.delay = 0
        robot_sink.slow_seconds = 1.5
    assert outcomes == {"sent": 40, "retry": 1}
    quick = Delivery.objects.filter(status=Status.SENT)
    assert quick.count() == 40
    last_sent = max(quick.values_list("sent_at", flat=True))
    assert last_sent - started < timedelta(seconds=2.5), last_sent - started
    silent = Delivery.objects.get(status=Status.PENDING)
    assert silent.last_hint == base.HINT_TIMEOUT
    (attempt,) = silent.attempt_log.all()
    assert attempt.duration_ms >= 3000  # it waited its whole timeout, alone


def test_the_rate_window_holds_with_sends_in_flight(account, robot_sink, settings):
    """rules §8: three robots, 30 messages each, claimed in one batch and sent concurrently: at
    most 20 per robot in any window (shortened to 1.5 s here), every message arrives, and
    waiting for the window is not an attempt."""
    settings.ROBOT_RATE_WINDOW_SECONDS = 1.5
    settings.ROBOT_RATE_LIMIT = 20
    settings.ROBOT_DIGEST = False
    robot_sink.delay = 0.05
    tokens = [f"ok-window-{r}" for r in range(3)]
    try:
        ids = pending_events(
            account, [robot_sink.url("dingtalk", tokens[n % 3]) for n in range(90)]
        )
        deadline = time.monotonic() + 30
        while Delivery.objects.exclude(status=Status.SENT).exists():
            assert time.monotonic() < deadline, "not every message was sent"
            sending.deliver_many(ids, worker_id="w1", refill=False)
            time.sleep(0.05)
    finally:
        robot_sink.delay = 0
    for token in tokens:
        times = [r.at for r in robot_sink.received(token)]
        assert len(times) == 30
        assert max_in_window(times, 1.5) <= 20
    assert set(DeliveryAttempt.objects.values_list("outcome", flat=True)) == {"sent"}


def test_a_refused_address_is_never_connected_to_and_keeps_the_window(
    account, robot_sink, canary, settings
):
    """rules §4, §8: 40 sends in flight to a webhook that the guard refuses at send time (its
    host is a loopback address): no connection reaches it, each fails at once with the
    reason, and the robot's rate window is left as it was."""
    entry = f"127.0.0.1:{canary.port}"
    settings.ROBOT_WEBHOOK_HOSTS = {"dingtalk": [entry], "wecom": [entry]}
    url = f"http://{entry}/robot/send?access_token=refused-robot"
    ids = pending_events(account, [url] * 40)
    settings.ROBOT_WEBHOOK_ALLOW_PRIVATE = False
    settings.ROBOT_RATE_LIMIT = 20
    settings.ROBOT_DIGEST = False
    for _round in range(3):
        sending.deliver_many(ids, worker_id="w1", refill=False)
        Delivery.objects.filter(status=Status.PENDING).update(next_attempt_at=timezone.now())
    assert canary.connections == 0
    assert Delivery.objects.filter(status=Status.FAILED).count() == 40
    assert set(Delivery.objects.values_list("last_hint", flat=True)) == {"refused_by_guard"}
    assert not RobotRateSlot.objects.exists()


class PeerRecorder(Recorder):
    """Also notes the client port of every message, so connections can be counted."""

    def __init__(self) -> None:
        super().__init__()
        self.peers: list = []

    async def handle_DATA(self, server, session, envelope):
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


def test_a_batchs_emails_share_their_smtp_connections(account, settings, monkeypatch):
    """30 emails in one batch travel over at most SAE_NOTIFY_SMTP_CONNECTIONS connections."""
    from tests.notify import test_email_smtp

    monkeypatch.setattr(test_email_smtp, "Recorder", PeerRecorder)
    settings.NOTIFY_SMTP_CONNECTIONS = 2
    with running_smtp(settings) as server:
        outbox.record_event(
            account=account,
            kind=Event.Kind.TEST,
            title="mail",
            payload={"contact": "alice"},
            recipients=[Recipient(name=f"p{n}", email=f"p{n}@example.com") for n in range(30)],
            claimed_by="nobody",
        )
        Delivery.objects.update(status=Status.PENDING, claimed_by="", attempts=0)
        ids = list(Delivery.objects.values_list("pk", flat=True))
        assert sending.deliver_many(ids, worker_id="w1", refill=False) == {"sent": 30}
        assert len(server.messages) == 30
        assert 1 <= len(set(server.peers)) <= 2


def test_robot_markdown_carries_no_markup_from_alert_labels(account):
    """A label or annotation cannot add a link, an image, a heading or emphasis to a robot's
    markdown message: its markup characters arrive escaped; the text keeps them as typed."""
    alert = {
        "status": "firing",
        "name": "Disk [full](https://evil.example/x)",
        "severity": "critical",
        "summary": "**urgent** ![img](https://evil.example/i.png)",
        "description": "line one\n### heading\n<font color=red>red</font>",
        "labels": {"alertname": "Disk", "team": "[ops](https://evil.example)"},
        "starts_at": "2026-12-01T10:00:00+00:00",
        "ends_at": None,
        "url": "https://prometheus.example/graph?g0.expr=up) [x](https://evil.example",
    }
    event = outbox.record_event(
        account=account,
        kind=Event.Kind.ALERT,
        title="[FIRING:1] Disk",
        payload={"alerts": [alert]},
        recipients=[],
    )
    message = render.render_event(event, channel=base.DINGTALK)
    markdown = message.markdown
    for markup in ("[full](", "![img](", "**urgent**", "\n### heading", "[ops]("):
        assert markup not in markdown, markup
    assert not re.search(r"(?<!\\)<font", markdown)
    assert r"\<font color=red\>" in markdown
    assert r"\[full\]\(https://evil.example/x\)" in markdown
    assert "up%29%20%5Bx%5D%28https://evil.example" in markdown
    assert "[ops](https://evil.example)" in message.text  # plain text shows it as typed


def _test_deliveries(account, **channels) -> dict[str, Delivery]:
    event = outbox.record_event(
        account=account,
        kind=Event.Kind.TEST,
        title="Alice",
        payload={"contact": "Alice"},
        recipients=[Recipient(name="Alice", phone="+8613811112222", **channels)],
        claimed_by="nobody",
    )
    return {d.channel: d for d in sending.with_events(list(event.deliveries.all()))}


def test_a_delivery_renders_only_what_its_transport_reads(account):
    """Each template rendered is a good part of a delivery's CPU: a DingTalk message is its
    subject (the title) and markdown, a WeCom one markdown or text, an email subject, text
    and HTML; nothing else is rendered."""
    rows = _test_deliveries(
        account,
        email="alice@example.com",
        dingtalk_url="https://oapi.dingtalk.com/robot/send?access_token=abc",
        wecom_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
    )
    dingtalk = sending.compose(rows[base.DINGTALK])
    assert (bool(dingtalk.subject), bool(dingtalk.markdown)) == (True, True)
    assert (dingtalk.text, dingtalk.html) == ("", "")
    wecom = sending.compose(rows[base.WECOM])
    assert (bool(wecom.text), bool(wecom.markdown)) == (True, True)
    assert (wecom.subject, wecom.html) == ("", "")
    email = sending.compose(rows[base.EMAIL])
    assert (bool(email.subject), bool(email.text), bool(email.html)) == (True, True, True)
    assert email.markdown == ""


def test_an_empty_markdown_template_brings_the_text_in_its_place(account, settings):
    """An operator may override a template with an empty one: a DingTalk message then goes
    as text (the transport's fallback) instead of going out empty."""
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "APP_DIRS": False,
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "loaders": [
                    (
                        "django.template.loaders.locmem.Loader",
                        {f"notify/{lang}/test/markdown.md": "" for lang in render.LANGUAGES},
                    ),
                    "django.template.loaders.filesystem.Loader",
                    "django.template.loaders.app_directories.Loader",
                ],
            },
        }
    ]
    rows = _test_deliveries(
        account, dingtalk_url="https://oapi.dingtalk.com/robot/send?access_token=abc"
    )
    message = sending.compose(rows[base.DINGTALK])
    assert message.markdown == ""
    assert "Alice" in message.text
    body = get_transport(base.DINGTALK).payload(sending.target_of(rows[base.DINGTALK]), message)
    assert body["msgtype"] == "text" and "Alice" in body["text"]["content"]


def test_the_name_cache_never_skips_the_check(settings, resolve_as):
    """The guard reuses a lookup for a short time but checks the addresses every time."""
    settings.ROBOT_WEBHOOK_HOSTS = {"dingtalk": ["robot.example.test"], "wecom": []}
    settings.ROBOT_WEBHOOK_ALLOW_PRIVATE = False
    settings.ROBOT_DNS_CACHE_SECONDS = 30
    asked = resolve_as("robot.example.test", "10.1.2.3")
    url = "https://robot.example.test/robot/send?access_token=cachedtoken"
    for _ in range(3):
        with pytest.raises(guard.GuardRefused):
            guard.resolve_robot("dingtalk", url)
    assert asked.count("robot.example.test") == 1  # looked up once, refused three times
    settings.ROBOT_DNS_CACHE_SECONDS = 0
    with pytest.raises(guard.GuardRefused):
        guard.resolve_robot("dingtalk", url)
    assert asked.count("robot.example.test") == 2


def _task(worker: str, *, started_ago: float) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status="RUNNING",
        args_kwargs=json.loads('{"args": [[1]], "kwargs": {}}'),
        task_path=SEND_TASK,
        backend_name="default",
        run_after=timezone.now(),
        started_at=timezone.now() - timedelta(seconds=started_ago),
        worker_ids=[worker],
    )


def test_a_task_left_running_by_a_dead_worker_is_closed_by_the_sweeper(db):
    """A worker killed mid-task leaves its django-tasks-db row RUNNING: the sweeper closes it
    at once when the worker ran here and its process is gone, or when it is older than any
    send task runs; a live worker's task is left alone."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    here = socket.gethostname()
    dead = _task(f"{here}:{gone.pid}", started_ago=1)
    elsewhere_old = _task("other-host:1234", started_ago=3600)
    alive = _task(f"{here}:{os.getpid()}", started_ago=1)
    elsewhere_recent = _task("other-host:1234", started_ago=1)
    assert sweep().lost_tasks == 2
    for task, status in (
        (dead, "FAILED"),
        (elsewhere_old, "FAILED"),
        (alive, "RUNNING"),
        (elsewhere_recent, "RUNNING"),
    ):
        task.refresh_from_db()
        assert task.status == status
    dead.refresh_from_db()
    assert dead.exception_class_path == LOST_TASK and dead.finished_at


def test_kept_alive_connections_carry_the_next_batch(account, robot_sink, settings):
    """Connections to a robot host are kept per worker (as many as it has sends in flight) and
    reused across batches: 40 sends in two batches of 20 concurrent ones open at most 20
    connections (TLS handshakes on https), not one per send."""
    settings.NOTIFY_CONCURRENCY = 20
    robot_sink.delay = 0.05
    try:
        urls = [robot_sink.url("dingtalk", f"ok-kept-{n:03d}") for n in range(40)]
        ids = pending_events(account, urls)
        assert sending.deliver_many(ids[:20], worker_id="w1", refill=False) == {"sent": 20}
        assert sending.deliver_many(ids[20:], worker_id="w1", refill=False) == {"sent": 20}
    finally:
        robot_sink.delay = 0
    assert 1 <= robot_sink.connections <= 20


@pytest.mark.parametrize("channel", ["dingtalk", "wecom"])
def test_the_transport_says_whether_a_message_fits(channel):
    """A digest grows while the robot's transport says the message still goes whole."""
    from arms_sync.notify.transports import get_transport

    transport = get_transport(channel)
    target = base.Target(channel, "https://example.invalid/robot/send?access_token=x")
    small = base.Message(subject="s", text="告警 " * 10, markdown="告警 " * 10)
    big = base.Message(subject="s", text="告警 " * 4000, markdown="告警 " * 4000)
    assert transport.fits(target, small)
    assert not transport.fits(target, big)
