"""Stopping the child processes that tests, the benchmark and the cluster proof start: each by
its PID, SIGTERM first (so a worker finishes the send in hand and a server closes cleanly),
SIGKILL for whatever has not exited after the grace period, so no child outlives its caller."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterable


def stop_processes(procs: Iterable[subprocess.Popen | None], *, grace: float = 15) -> None:
    procs = [proc for proc in procs if proc is not None]
    for proc in procs:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
