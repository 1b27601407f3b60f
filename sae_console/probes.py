"""`/healthz`, `/readyz` and `/metrics` (rules §16): answered by the first middleware, before
anything else.

Load balancers and Prometheus reach a node by its address: their `Host` header is an IP (or
none at all: HAProxy's default health check is HTTP/1.0 without one), which
`DJANGO_ALLOWED_HOSTS` rightly refuses, and they speak plain HTTP, which the HTTPS redirect would
turn away. Answering these three paths ahead of `SecurityMiddleware` and host validation lets
them probe any node directly. Nothing here builds a URL from the Host header, sets a cookie or
shows data: the probes say "ok" or why not, and /metrics needs its bearer token.

- `GET /healthz`: the process answers (no database).
- `GET /readyz`: the database answers and no migration is pending; 503 with the reason
  otherwise. The migration check runs once per process until it passes (then it is cached);
  every probe still runs `SELECT 1`.
- `GET /metrics`: Prometheus' text format, only with `Authorization: Bearer $SAE_METRICS_TOKEN`
  (compared in constant time). Without the variable set the path does not exist: the request
  goes on to the URLconf, which answers its ordinary 404.
"""

from __future__ import annotations

import hmac
import logging
import os

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse

from core import metrics

logger = logging.getLogger("sae_console.probes")
PROBE_PATHS = ("/healthz", "/readyz", "/metrics")
_migrations_checked = False


def _plain(text: str, status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(text + "\n", status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def healthz(request) -> HttpResponse:
    return _plain("ok")


def _pending_migrations(connection) -> bool:
    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def readyz(request) -> HttpResponse:
    global _migrations_checked
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        if not _migrations_checked:
            if _pending_migrations(connection):
                return _plain("not ready: migrations pending", 503, Retry_After="10")
            _migrations_checked = True
    except Exception as exc:
        # The reason goes to the log; the answer names only what is wrong.
        logger.warning("readyz: database unavailable: %s", exc.__class__.__name__)
        return _plain("not ready: database unavailable", 503, Retry_After="5")
    return _plain("ok")


def metrics_token() -> str:
    return os.environ.get("SAE_METRICS_TOKEN", "")


def scrape(request, token: str) -> HttpResponse:
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if not (
        scheme.lower() == "bearer"
        and hmac.compare_digest(presented.strip().encode(), token.encode())
    ):
        return _plain("unauthorized", 401, WWW_Authenticate='Bearer realm="sae-metrics"')
    body, content_type = metrics.exposition()
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


class ProbeMiddleware:
    """First in MIDDLEWARE: the three operations paths, answered to GET and HEAD only."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path in PROBE_PATHS:
            token = metrics_token()
            if path == "/metrics" and not token:
                return self.get_response(request)
            if request.method not in ("GET", "HEAD"):
                return _plain("method not allowed", 405, Allow="GET, HEAD")
            if path == "/healthz":
                return healthz(request)
            if path == "/readyz":
                return readyz(request)
            return scrape(request, token)
        return self.get_response(request)
