"""Jobs every `notify_worker` runs now and then, beside its tasks, in one thread.

The sweeper is the first (the worker's own); another app adds its own with `register(...)` (from
its `AppConfig.ready()`), e.g. a push that must reach a remote service even when its task was
lost.
Each job must be safe to run in any number of workers at once (rows taken with SKIP LOCKED).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections, connection

logger = logging.getLogger("arms_sync.notify")


@dataclass
class Job:
    name: str
    every: Callable[[], float]  # seconds between runs (read each time: settings may change)
    run: Callable[[], object]  # its report is logged when truthy


JOBS: list[Job] = []


def register(name: str, every: Callable[[], float], run: Callable[[], object]) -> None:
    if all(job.name != name for job in JOBS):
        JOBS.append(Job(name, every, run))


class Runner(threading.Thread):
    """Runs every registered job when it falls due; a failing job is logged and tried again
    at its next turn (a database that is away must not end the thread)."""

    def __init__(self, own: list[Job] = ()):
        """`own`: the worker's own jobs (the sweeper), run before the registered ones."""
        super().__init__(name="notify-periodic", daemon=True)
        self.jobs = [*own, *(job for job in JOBS if job.name not in {j.name for j in own})]
        self.stopping = threading.Event()

    def run(self) -> None:
        due = {job.name: 0.0 for job in self.jobs}
        while not self.stopping.is_set():
            for job in self.jobs:
                if time.monotonic() < due[job.name]:
                    continue
                try:
                    close_old_connections()
                    report = job.run()
                    if report:
                        logger.info("%s: %s", job.name, report)
                except Exception:
                    logger.exception("%s failed", job.name)
                due[job.name] = time.monotonic() + job.every()
            wake = min(due.values(), default=time.monotonic() + 1) - time.monotonic()
            self.stopping.wait(max(0.05, min(wake, 1.0)))
        connection.close()
