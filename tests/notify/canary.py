"""A listening socket that only counts connections: where a refused webhook points, so that a
test can tell that nothing was connected to at all (rules §4)."""

from __future__ import annotations

import contextlib
import select
import socket
import threading

from tests.loopback import StartStop


class Canary(StartStop):
    """A listening socket that accepts and counts connections and answers nothing: a target a
    refused webhook must never reach."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.peers: list[tuple] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> Canary:
        self._sock.bind((self.host, 0))
        self._sock.listen(16)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        # Wake the accept loop at once; it does not count a connection made while stopping.
        with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), 1):
            pass
        self._thread.join(timeout=5)
        self._sock.close()

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self.peers)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            ready, _w, _x = select.select([self._sock], [], [], 1)
            if not ready:
                continue
            conn, peer = self._sock.accept()
            conn.close()
            if self._stopping.is_set():
                return
            with self._lock:
                self.peers.append(peer)
