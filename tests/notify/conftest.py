"""Fixtures for the notification tests: the robot sink (a real loopback HTTP server) and
canary listeners that a refused webhook must never reach."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from arms_sync.notify import guard, http
from tests.notify.canary import Canary
from tests.notify.sink import RobotSink

# The sink's `slow` tokens wait this long; tests lower the read timeout below it.
READ_TIMEOUT = 0.5


@pytest.fixture(scope="session")
def _robot_sink_server() -> Iterator[RobotSink]:
    sink = RobotSink(slow_seconds=READ_TIMEOUT + 1).start()
    yield sink
    sink.stop()


@pytest.fixture
def robot_sink(_robot_sink_server: RobotSink, settings) -> Iterator[RobotSink]:
    """The sink, emptied, with settings that let robots reach it (http, its port, loopback)
    and a short read timeout. Kept-alive connections from earlier tests are closed first."""
    sink = _robot_sink_server
    sink.reset()
    http.close_pools()
    guard.forget_addresses()
    for name, value in sink.settings().items():
        setattr(settings, name, value)
    settings.ROBOT_HTTP_READ_TIMEOUT = READ_TIMEOUT
    yield sink
    http.close_pools()
    sink.reset()


@pytest.fixture
def canary() -> Iterator[Canary]:
    """A listener on 127.0.0.1 that counts connections; refused webhooks must leave it at 0."""
    with Canary() as listener:
        yield listener


@pytest.fixture
def resolve_as(monkeypatch):
    """resolve_as(name, *ips): socket.getaddrinfo answers `ips` for `name`, as a DNS server
    under someone else's control could; other names resolve as usual. Returns the list of
    every name looked up since the first call."""
    real = socket.getaddrinfo
    asked: list[str] = []
    answers: dict[str, tuple[str, ...]] = {}

    def fake(host, port, *args, **kwargs):
        asked.append(host)
        if host not in answers:
            return real(host, port, *args, **kwargs)
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (ip, port, 0, 0) if ":" in ip else (ip, port),
            )
            for ip in answers[host]
        ]

    def install(name: str, *ips: str) -> list[str]:
        answers[name] = ips
        guard.forget_addresses()
        monkeypatch.setattr(socket, "getaddrinfo", fake)
        return asked

    return install
