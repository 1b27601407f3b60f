"""A long RAM sync does not hold the notification sweeper (rules §8, §14): notify_worker's
periodic thread runs the sweeper and the cloud's round one after the other, so the cloud's
round only claims the sync and hands it to the process's cloud thread (aliyun.worker)."""

from __future__ import annotations

import time

import pytest

from aliyun import worker
from aliyun.models import CloudConnection
from arms_sync.management.commands.notify_worker import _cloud, _sweeper
from arms_sync.notify import periodic
from ram_directory.models import RamUser
from tests.cloud.helpers import connect

USERS = 40


@pytest.fixture(autouse=True)
def slow_ram(settings):
    settings.CLOUD_ALLOW_HTTP = True
    settings.RAM_SYNC_THREADS = 1  # ~3 calls per user, one after another


@pytest.mark.django_db(transaction=True)
def test_sweeper_rounds_go_on_while_a_slow_ram_sync_runs(account, cloud_fake):
    cloud_fake.seed_users(USERS)
    cloud_fake.latency = 0.05  # 3 x 40 calls: the sync takes 6 s or more
    connect(account, cloud_fake)
    sweeps: list[float] = []
    sweeper = _sweeper("test-worker")

    def sweep_and_note():
        report = sweeper()
        sweeps.append(time.monotonic())
        return report

    runner = periodic.Runner(
        [
            periodic.Job("cloud", lambda: 0.1, _cloud),
            periodic.Job("sweeper", lambda: 0.1, sweep_and_note),
        ]
    )
    started = time.monotonic()
    runner.start()
    try:
        deadline = started + 30
        while len(sweeps) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        # Five sweeper rounds went by, quickly, while RAM was still being read.
        assert len(sweeps) >= 5
        assert sweeps[0] - started < 2
        assert cloud_fake.calls["GetUser"] < USERS
        assert CloudConnection.objects.get(account=account).ram_sync_ok is None
    finally:
        runner.stopping.set()
        runner.join(timeout=10)
    assert worker.background.wait_idle(timeout=120)
    # The sync itself went through, once.
    assert CloudConnection.objects.get(account=account).ram_sync_ok is True
    assert RamUser.objects.filter(account=account).count() == USERS
    assert cloud_fake.calls["ListUsers"] == 1
