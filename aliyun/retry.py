"""Which failed OpenAPI calls are tried again, and after how long (rules §14), for every caller:
the ARMS push outbox waits by rescheduling its row (aliyun.push); RAM reads (aliyun.ram_sync)
and RAM writes (aliyun.ram_writes) wait in line, within a budget of seconds.

Retryable: throttling (`Throttling*`, after the server's `x-acs-retry-after` when it gives one),
5xx and network errors (CloudError.retryable). Other failures (bounded by
SAE_CLOUD_PUSH_MAX_ATTEMPTS) back off exponentially with jitter, capped at
SAE_CLOUD_PUSH_BACKOFF_MAX; throttling is the server pacing us, not the call failing, so it
counts against a larger bound (4x).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from aliyun.clients import CloudError

THROTTLE_FACTOR = 4


def is_throttled(error: CloudError) -> bool:
    return error.code.startswith("Throttling")


def delay(failures: int, retry_after: float | None) -> float:
    """Seconds to wait: the server's x-acs-retry-after when it gave one (plus up to 10%);
    otherwise about BACKOFF x 2^(failures-1), with jitter, capped."""
    if retry_after is not None:
        return retry_after * (1 + random.random() / 10)
    base = settings.CLOUD_PUSH_BACKOFF_SECONDS * (2 ** max(failures - 1, 0))
    return min(base, settings.CLOUD_PUSH_BACKOFF_MAX_SECONDS) * (0.5 + random.random() / 2)


@dataclass
class Attempts:
    """What one call (or one outbox row) has been through so far."""

    attempts: int = 0
    throttled: int = 0

    def failed(self, error: CloudError) -> bool:
        """Count this failure; True when the call may be tried again."""
        self.attempts += 1
        self.throttled += is_throttled(error)
        limit = settings.CLOUD_PUSH_MAX_ATTEMPTS
        return (
            error.retryable
            and self.attempts - self.throttled < limit
            and self.throttled < THROTTLE_FACTOR * limit
        )

    def wait(self, error: CloudError) -> float:
        # Throttling waits what the server asks; other failures back off by their own count.
        return delay(self.attempts - self.throttled, error.retry_after)


def in_line[T](
    call: Callable[[], T],
    *,
    budget: float,
    sleep: Callable[[float], None] = time.sleep,
    retried: Callable[[CloudError], None] | None = None,
) -> T:
    """Make the call, trying again after a retryable failure as long as the bounds allow and
    the waits fit in `budget` seconds; then the last CloudError is raised. `retried` hears of
    each failure that is tried again."""
    state = Attempts()
    deadline = time.monotonic() + budget
    while True:
        try:
            return call()
        except CloudError as error:
            if not state.failed(error):
                raise
            pause = state.wait(error)
            if time.monotonic() + pause > deadline:
                raise
            if retried is not None:
                retried(error)
            sleep(pause)
