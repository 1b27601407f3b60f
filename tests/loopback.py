"""For tests that start real servers and processes on the loopback: a free port to give one,
and a bounded wait for what it does."""

from __future__ import annotations

import socket
import time


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
