"""For tests that start real servers and processes on the loopback: a free port to give one,
a with block that stops it, and a bounded wait for what it does."""

from __future__ import annotations

import socket
import time
from typing import Self


def free_port() -> int:
    """A port nothing listens on now (bound and released: for a server that cannot report an
    ephemeral port it bound itself)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, *, timeout: float, step: float = 0.2):
    """`condition()`'s first truthy value within `timeout` seconds, else its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition()


class StartStop:
    """A server a test starts and must stop: `with Server() as server:` starts it and stops it
    however the block ends. A subclass gives start() (returning itself) and stop()."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
