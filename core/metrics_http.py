"""A `/metrics` endpoint for a process that has no web server: `notify_worker --metrics-bind`
on a machine where no gunicorn runs (where one does, the worker shares its
PROMETHEUS_MULTIPROC_DIR and the web node's /metrics already counts it). Same rules as the
web's: Prometheus' text format, only to `Authorization: Bearer $SAE_METRICS_TOKEN` (compared in
constant time), GET only."""

from __future__ import annotations

import hmac
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from core import metrics


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # a scrape every few seconds is not news
        pass


def parse_bind(value: str) -> tuple[str, int]:
    """`host:port` (`[::1]:9464` for IPv6) -> (host, port); ValueError otherwise."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {value!r}")
    return host.strip("[]"), int(port)


def app(token: str):
    def answer(environ, start_response):
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD")])
            return [b"method not allowed\n"]
        scheme, _, presented = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if not (
            scheme.lower() == "bearer"
            and hmac.compare_digest(presented.strip().encode(), token.encode())
        ):
            start_response(
                "401 Unauthorized",
                [
                    ("Content-Type", "text/plain"),
                    ("WWW-Authenticate", 'Bearer realm="sae-metrics"'),
                ],
            )
            return [b"unauthorized\n"]
        body, content_type = metrics.exposition(scrape_time=False)
        start_response("200 OK", [("Content-Type", content_type), ("Cache-Control", "no-store")])
        return [body]

    return answer


def serve(bind: str, token: str) -> WSGIServer:
    """Serve /metrics on `bind` from a daemon thread; `server.shutdown()` stops it."""
    host, port = parse_bind(bind)
    server = make_server(host, port, app(token), handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server
