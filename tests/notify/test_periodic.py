"""The worker's periodic jobs: each runs at its own pace, a failing one is tried again at its
next turn, and jobs other apps register run beside the sweeper."""

from __future__ import annotations

import threading
import time

from arms_sync.notify import periodic


def test_jobs_run_at_their_pace_and_a_failure_does_not_stop_them(monkeypatch):
    monkeypatch.setattr(periodic, "JOBS", [])
    runs = {"quick": 0, "failing": 0, "registered": 0}
    lock = threading.Lock()

    def count(name, fail=False):
        def job():
            with lock:
                runs[name] += 1
            if fail:
                raise RuntimeError("the database is away")

        return job

    periodic.register("registered", lambda: 0.05, count("registered"))
    periodic.register("registered", lambda: 0.05, count("registered"))  # once only
    runner = periodic.Runner(
        [
            periodic.Job("quick", lambda: 0.05, count("quick")),
            periodic.Job("failing", lambda: 0.05, count("failing", fail=True)),
        ]
    )
    assert [job.name for job in runner.jobs] == ["quick", "failing", "registered"]
    runner.start()
    deadline = time.monotonic() + 10
    while min(runs.values()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    runner.stopping.set()
    runner.join(timeout=5)
    assert not runner.is_alive()
    assert min(runs.values()) >= 3, runs
