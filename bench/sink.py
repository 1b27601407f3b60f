"""A loopback robot API that answers like DingTalk (`{"errcode":0,"errmsg":"ok"}`, keep-alive),
for the dispatch figure. It times its own work on every request (read, parse, answer), so the
worker's overhead per delivery is what remains of the time between deliveries."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

ANSWER = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body are separate writes: without this, Nagle and delayed ACK add 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        started = time.perf_counter()
        query = dict(parse_qsl(urlsplit(self.path).query))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        json.loads(body or b"{}")
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)
        self.server.sink.record(query.get("access_token", ""), started)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sink: Sink


class Sink:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.times: list[float] = []  # time.time() of each answer
        self.busy: list[float] = []  # seconds the sink spent on each request
        self.tokens: set[str] = set()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.sink = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, token: str) -> str:
        return f"http://127.0.0.1:{self.port}/robot/send?access_token={token}"

    def env(self) -> dict[str, str]:
        """What a worker process needs to reach this sink."""
        entry = f"127.0.0.1:{self.port}"
        return {
            "SAE_ROBOT_ALLOW_HTTP": "1",
            "SAE_ROBOT_ALLOW_PRIVATE": "1",
            "SAE_DINGTALK_HOSTS": entry,
            "SAE_WECOM_HOSTS": entry,
        }

    def record(self, token: str, started: float) -> None:
        with self._lock:
            self.busy.append(time.perf_counter() - started)
            self.times.append(time.time())
            self.tokens.add(token)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.times)

    def __enter__(self) -> Sink:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
