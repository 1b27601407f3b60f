"""What every phase of the benchmark shares: its log line, and the failure that ends a run when
a check finds the console not doing what the figures would claim to measure."""

from __future__ import annotations

import time


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


class BenchError(RuntimeError):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise BenchError(message)
