"""rules §8 with real `notify_worker` processes on PostgreSQL: a worker killed with SIGKILL loses
nothing; two workers never send one delivery twice; the real 60-second rate window holds
across processes.

These start processes and wait on real time, so they run once, on PostgreSQL (CI runs the
suite on both databases): on SQLite they are skipped with that reason.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from arms_sync.notify import outbox
from arms_sync.notify.models import Delivery, Event
from arms_sync.notify.outbox import Recipient
from core.processes import stop_processes
from tests.commands import database_url
from tests.notify.sink import RobotSink

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="worker processes share the database: run once, on PostgreSQL",
    ),
]
OUTPUT = Path(os.environ.get("SAE_TEST_OUTPUT", ".test-output"))


@pytest.fixture
def sink():
    """A sink of its own in this process; the workers reach it through their environment."""
    with RobotSink() as server:
        yield server


class Workers:
    """notify_worker processes started for one test and stopped by PID at its end."""

    def __init__(self, sink: RobotSink, name: str, **env: str):
        self.procs: list[subprocess.Popen] = []
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SAE_"))},
            "DJANGO_SETTINGS_MODULE": "sae_console.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            "DJANGO_ALLOWED_HOSTS": "localhost",
            "DJANGO_LOG_LEVEL": "WARNING",
            "SAE_FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "DATABASE_URL": database_url(),
            "SAE_NOTIFY_SWEEP": "0.3",
            "SAE_NOTIFY_LEASE": "3",
            **sink.env(),
            **env,
        }
        OUTPUT.mkdir(parents=True, exist_ok=True)
        self.log = (OUTPUT / f"notify-worker-{name}.log").open("w")

    def start(self) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "notify_worker", "--interval", "0.05"],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        stop_processes(self.procs)
        self.log.close()


@pytest.fixture
def workers(sink, request):
    made: list[Workers] = []

    def _make(**env: str) -> Workers:
        made.append(Workers(sink, request.node.name, **env))
        return made[-1]

    yield _make
    for group in made:
        group.stop()


def make_deliveries(account, sink: RobotSink, count: int, *, token=lambda i: f"ok-{i:05d}"):
    """`count` events, one robot each (distinct tokens, so no rate limit applies), written
    with no task: the workers' sweepers must find them in the table."""
    for i in range(count):
        outbox.record_event(
            account=account,
            kind=Event.Kind.TEST,
            title=f"event {i}",
            recipients=[Recipient(name="a", dingtalk_url=sink.url("dingtalk", token(i)))],
            claimed_by="nobody",
        )
    # Hand them to the workers as rows nobody is sending and no task exists for.
    Delivery.objects.update(
        status=Delivery.Status.PENDING, claimed_by="", lease_until=None, attempts=0
    )


def wait_until(condition, *, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def sent_count() -> int:
    return Delivery.objects.filter(status=Delivery.Status.SENT).count()


def test_a_worker_killed_mid_run_loses_nothing(account, sink, workers):
    """rules §8: 200 deliveries, a worker sending one at a time SIGKILLed part-way, a new one
    started: all 200 delivered, none lost, duplicates no more than the kills."""
    make_deliveries(account, sink, 200)
    group = workers(SAE_NOTIFY_CONCURRENCY="1")
    first = group.start()
    assert wait_until(lambda: len(sink.received()) >= 40, timeout=60), "first worker sent none"
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    at_kill = len(sink.received())
    assert at_kill < 200, "the kill came too late to test anything"
    started = time.monotonic()
    group.start()
    assert wait_until(lambda: sent_count() == 200, timeout=120), sent_count()
    elapsed = time.monotonic() - started
    tokens = Counter(r.token for r in sink.received())
    assert set(tokens) == {f"ok-{i:05d}" for i in range(200)}  # none lost
    duplicates = sum(n - 1 for n in tokens.values())
    assert duplicates <= 1  # one kill
    print(
        f"crash: killed after {at_kill} of 200; the new worker finished in {elapsed:.1f} s; "
        f"{duplicates} duplicate(s)"
    )


def test_with_sends_in_flight_a_kill_repeats_at_most_those_in_flight(account, sink, workers):
    """rules §8, §16: robots answering after 100 ms, two workers keeping 16 sends in flight
    each, one SIGKILLed mid-run: every delivery arrives, and the duplicates are at most the
    sends the killed worker had in flight."""
    in_flight = 16
    sink.delay = 0.1
    make_deliveries(account, sink, 400)
    group = workers(SAE_NOTIFY_CONCURRENCY=str(in_flight))
    victim, _other = group.start(), group.start()
    assert wait_until(lambda: len(sink.received()) >= 80, timeout=60), "nothing was sent"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    at_kill = len(sink.received())
    assert at_kill < 400, "the kill came too late to test anything"
    assert wait_until(lambda: sent_count() == 400, timeout=120), sent_count()
    tokens = Counter(r.token for r in sink.received())
    assert set(tokens) == {f"ok-{i:05d}" for i in range(400)}  # none lost
    duplicates = sum(n - 1 for n in tokens.values())
    assert duplicates <= in_flight
    print(f"killed after {at_kill} of 400 (100 ms robots): {duplicates} duplicate(s)")


def test_two_workers_never_send_one_delivery_twice(account, sink, workers):
    """rules §8: two notify_worker processes over 500 deliveries on PostgreSQL."""
    make_deliveries(account, sink, 500)
    group = workers()
    started = time.monotonic()
    group.start()
    group.start()
    assert wait_until(lambda: sent_count() == 500, timeout=180), sent_count()
    elapsed = time.monotonic() - started
    tokens = Counter(r.token for r in sink.received())
    assert len(tokens) == 500
    assert max(tokens.values()) == 1, [t for t, n in tokens.items() if n > 1]
    by_worker = Counter(
        Delivery.objects.filter(status=Delivery.Status.SENT).values_list("claimed_by", flat=True)
    )
    assert len(by_worker) == 2, by_worker  # both took part
    print(f"two workers: 500 deliveries in {elapsed:.1f} s ({500 / elapsed:.0f}/s), {by_worker}")


def test_the_real_60_second_window_holds_across_worker_processes(account, sink, workers):
    """rules §8: at most 20 messages a minute per robot, shared by all workers (real 60 s)."""
    make_deliveries(account, sink, 26, token=lambda i: "ok-one-robot-for-all")
    group = workers(SAE_ROBOT_DIGEST="0")
    group.start()
    group.start()
    assert wait_until(lambda: sent_count() == 26, timeout=100, step=0.5), sent_count()
    times = sorted(r.at for r in sink.received("ok-one-robot-for-all"))
    assert len(times) == 26
    # The first 20 go at once; the 21st not before a minute after the first.
    assert times[20] - times[0] >= 60
    for i in range(len(times) - 20):
        assert times[i + 20] - times[i] >= 60
