"""A real HTTP server on 127.0.0.1 that answers like the DingTalk and WeCom robot APIs, for the
transport, guard and worker tests (rules §8).

The token chooses the answer (`sink.url("dingtalk", "ok-anything")`):

| token starts with | answer |
|---|---|
| `ok` | HTTP 200 `{"errcode":0,"errmsg":"ok"}` |
| `err<digits>` (`err130101-a`) | HTTP 200 with that errcode |
| `http<status>` (`http500-aa`) | that HTTP status |
| `slow` | waits `sink.slow_seconds`, then answers ok (the client has given up) |
| `redirect` | 302 to `sink.redirect_location` (another host) |
| `hugelen` | 200 declaring and streaming a 10 MB body |
| `huge` | 200 streaming a 10 MB chunked body (no length declared) |
| `html` | 200 with an HTML page, not JSON |
| anything else | HTTP 200 errcode 300001 (DingTalk's unknown token) |

Tokens must pass the console's URL rule: 8 or more letters, digits, '-' and '_'.

Like DingTalk, it checks the signature of tokens listed in `sink.secrets` and the keyword of
tokens listed in `sink.keywords`, answering errcode 310000 when either fails. Every request is
recorded (`sink.received(token)`), with the client's port (`sink.connections` counts TCP
connections, for keep-alive). With `tls_context=` it speaks https.

With `delay=` every answer waits that long first (a robot across the internet answers in
50-300 ms); with `tls_context=` it speaks https, and `connections` is then the count of TLS
handshakes too. The benchmark's dispatch phase (bench/run.py) uses this same sink.

In tests under tests/notify, the `robot_sink` fixture gives a started, emptied sink with the
settings that let robots reach it. Elsewhere: `with RobotSink() as sink,
override_settings(**sink.settings()): ...`, or `sink.env()` for a worker process.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.loopback import StartStop

PATHS = {"dingtalk": "/robot/send", "wecom": "/cgi-bin/webhook/send"}
TOKEN_PARAMS = {"dingtalk": "access_token", "wecom": "key"}
HUGE_BYTES = 10 * 1024 * 1024
SIGN_MAX_SKEW_MS = 60 * 60 * 1000  # DingTalk refuses a timestamp more than an hour off
SIGN_NOT_MATCH = "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"
KEYWORD_MISSING = "keywords not in content"
TOKEN_UNKNOWN = "token is not exist"
_ERRCODE = re.compile(r"^err(\d+)")
_STATUS = re.compile(r"^http(\d{3})")


@dataclass(frozen=True)
class Received:
    """One request the sink received."""

    at: float  # time.time()
    kind: str  # "dingtalk", "wecom", or "" for another path
    path: str
    query: dict[str, str]
    token: str
    body: Any  # parsed JSON, or None
    raw: bytes
    headers: dict[str, str]
    client_port: int

    def text(self) -> str:
        """The message text as the robot reads it (markdown text, or text content)."""
        body = self.body if isinstance(self.body, dict) else {}
        for kind in ("markdown", "text"):
            part = body.get(kind) or {}
            if isinstance(part, dict) and ("text" in part or "content" in part):
                return str(part.get("text", part.get("content", "")))
        return ""


def dingtalk_sign(secret: str, timestamp: str) -> str:
    """DingTalk's own computation, written independently of the transport's."""
    mac = hmac.new(secret.encode(), (timestamp + "\n" + secret).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the robot APIs
    timeout = 10  # an idle or stuck connection ends on its own
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.sink._connected(self.connection, self.client_address[1])

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.sink._disconnected(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        sink = self.server.sink
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        kind = next((k for k, path in PATHS.items() if path == parts.path), "")
        token = query.get(TOKEN_PARAMS[kind], "") if kind else ""
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = None
        if sink.keep_bodies:
            with contextlib.suppress(ValueError):
                body = json.loads(raw.decode("utf-8"))
        else:
            raw = b""
        received = Received(
            at=time.time(),
            kind=kind,
            path=parts.path,
            query=query,
            token=token,
            body=body,
            raw=raw,
            headers=dict(self.headers.items()),
            client_port=self.client_address[1],
        )
        sink._record(received)
        if sink.delay:
            sink._stopping.wait(sink.delay)
        if not kind:
            self._send(404, b"not found", "text/plain")
            return
        refusal = sink._security_refusal(received)
        if refusal:
            self._json(310000, refusal)
            return
        self._behave(sink, token)

    def _behave(self, sink: RobotSink, token: str) -> None:
        if token.startswith("ok"):
            self._json(0, "ok")
        elif match := _ERRCODE.match(token):
            self._json(int(match.group(1)), f"sink errcode {match.group(1)}")
        elif match := _STATUS.match(token):
            self._send(int(match.group(1)), b'{"message":"sink status"}', "application/json")
        elif token.startswith("slow"):
            sink._stopping.wait(sink.slow_seconds)
            with contextlib.suppress(OSError):
                self._json(0, "ok")
        elif token.startswith("redirect"):
            self._send(302, b"", "text/plain", location=sink.redirect_location)
        elif token.startswith("huge"):
            self._stream_huge(sink, chunked=not token.startswith("hugelen"))
        elif token.startswith("html"):
            self._send(200, b"<html><body>Service busy</body></html>", "text/html")
        else:
            self._json(300001, TOKEN_UNKNOWN)

    def _json(self, errcode: int, errmsg: str) -> None:
        body = json.dumps({"errcode": errcode, "errmsg": errmsg}).encode()
        self._send(200, body, "application/json;charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str, location: str = "") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(body)

    def _stream_huge(self, sink: RobotSink, *, chunked: bool) -> None:
        block = b"x" * 65536
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(HUGE_BYTES))
        self.end_headers()
        self.close_connection = True
        try:
            for _block in range(HUGE_BYTES // len(block)):
                if sink._stopping.is_set():
                    return
                data = b"%x\r\n%s\r\n" % (len(block), block) if chunked else block
                self.wfile.write(data)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client hung up, as it should


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Workers keep dozens of sends in flight: their connects must not wait in a short backlog.
    request_queue_size = 256
    sink: RobotSink

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, peer = super().get_request()
        if self.sink.tls_context is not None:
            # The handshake happens in the handler's thread, on its first read.
            conn = self.sink.tls_context.wrap_socket(
                conn, server_side=True, do_handshake_on_connect=False
            )
        return conn, peer


class RobotSink(StartStop):
    """The fake robot API. Start with `start()` (or `with RobotSink() as sink:`), stop with
    `stop()`; `reset()` forgets requests, secrets and keywords between tests."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        slow_seconds: float = 1.5,
        delay: float = 0.0,
        keep_bodies: bool = True,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.slow_seconds = slow_seconds
        self.delay = delay  # seconds between a request's arrival (recorded) and its answer
        # The benchmark turns this off: parsing and keeping 20 KB bodies would take the CPU the
        # worker it measures needs (the robots' own CPU is not on this machine).
        self.keep_bodies = keep_bodies
        # With a server-side context the sink speaks https; `server_names` records the SNI
        # name of every handshake.
        self.tls_context = tls_context
        self.server_names: list[str | None] = []
        if tls_context is not None:
            tls_context.sni_callback = lambda _sock, name, _ctx: self.server_names.append(name)
        self.redirect_location = "http://127.0.0.2:9/robot/send?access_token=elsewhere"
        self.secrets: dict[str, str] = {}
        self.keywords: dict[str, str] = {}
        self._lock = threading.Lock()
        self._requests: list[Received] = []
        self._client_ports: list[int] = []
        self._open: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle ----------------------------------------------------------------------
    def start(self) -> RobotSink:
        self._server = _Server((self.host, 0), _Handler)
        self._server.sink = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self._open.clear()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- helpers for tests ---------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None, "start() the sink first"
        return self._server.server_address[1]

    def url(self, kind: str, token: str, *, host: str = "") -> str:
        """The webhook URL of robot `kind` ("dingtalk" or "wecom") with `token`; `host`
        names the sink otherwise than by its address (a name the test resolves to it)."""
        scheme = "https" if self.tls_context is not None else "http"
        netloc = f"{host or self.host}:{self.port}"
        return f"{scheme}://{netloc}{PATHS[kind]}?{TOKEN_PARAMS[kind]}={token}"

    def settings(self) -> dict[str, Any]:
        """override_settings(**sink.settings()): robots may reach this sink."""
        entry = f"{self.host}:{self.port}"
        return {
            "ROBOT_WEBHOOK_ALLOW_HTTP": True,
            "ROBOT_WEBHOOK_ALLOW_PRIVATE": True,
            "ROBOT_WEBHOOK_HOSTS": {"dingtalk": [entry], "wecom": [entry]},
        }

    def env(self) -> dict[str, str]:
        """The same as environment variables, for a worker started as another process."""
        entry = f"{self.host}:{self.port}"
        return {
            "SAE_ROBOT_ALLOW_HTTP": "1",
            "SAE_ROBOT_ALLOW_PRIVATE": "1",
            "SAE_DINGTALK_HOSTS": entry,
            "SAE_WECOM_HOSTS": entry,
        }

    def received(self, token: str | None = None) -> list[Received]:
        """Requests received so far (for one token), oldest first."""
        with self._lock:
            return [r for r in self._requests if token is None or r.token == token]

    @property
    def count(self) -> int:
        """Requests received so far (without copying them)."""
        with self._lock:
            return len(self._requests)

    @property
    def connections(self) -> int:
        """TCP connections accepted since the last reset."""
        with self._lock:
            return len(self._client_ports)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._client_ports.clear()
        self.secrets.clear()
        self.keywords.clear()
        self.server_names.clear()

    # --- called by the handler -----------------------------------------------------------
    def _connected(self, conn: socket.socket, port: int) -> None:
        with self._lock:
            self._client_ports.append(port)
            self._open.add(conn)

    def _disconnected(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.discard(conn)

    def _record(self, received: Received) -> None:
        with self._lock:
            self._requests.append(received)

    def _security_refusal(self, received: Received) -> str:
        """DingTalk's checks: the signature when the robot has a secret, the keyword when it
        has one. '' when the request passes."""
        secret = self.secrets.get(received.token)
        if secret:
            timestamp = received.query.get("timestamp", "")
            sign = received.query.get("sign", "")
            if (
                not timestamp.isdigit()
                or abs(time.time() * 1000 - int(timestamp)) > SIGN_MAX_SKEW_MS
                or not hmac.compare_digest(sign, dingtalk_sign(secret, timestamp))
            ):
                return SIGN_NOT_MATCH
        keyword = self.keywords.get(received.token)
        if keyword and keyword not in received.text():
            return KEYWORD_MISSING
        return ""
