"""The outbound HTTP client for robot webhooks (rules §4, §8), on urllib3.

Each call passes the send-time guard right before connecting and connects to the address the
guard checked, with the webhook's host name in the Host header and, for https, in TLS SNI and
the certificate check. Redirects are never followed and nothing is retried here (a POST may
have been delivered; the worker decides on retries). Timeouts apply, and an answer is read
only up to a cap.

Connections are kept alive in pools shared by the threads of a process, one pool per
(scheme, host, ip, port) holding up to SAE_NOTIFY_CONCURRENCY connections, so a worker's sends
to one robot host (every DingTalk robot is on oapi.dingtalk.com) reuse their TCP connections
and TLS sessions across batches instead of a handshake per message.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import urllib3
from django.conf import settings
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError, ReadTimeoutError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from arms_sync.notify.guard import GuardRefused, PinnedAddress, resolve_robot
from contacts.validators import mask_secrets_in, robot_token

__all__ = [
    "GuardRefused",
    "HttpError",
    "HttpNetworkError",
    "HttpResult",
    "HttpTimeout",
    "HttpTooLarge",
    "close_pools",
    "encode_json",
    "post_json",
]

TIMED_OUT = "no answer within {seconds:g} s ({what})"
TOO_LARGE = "the answer is larger than {limit} bytes"
NAME_NOT_RESOLVED = "name resolution failed: {error}"
CONTENT_TYPE = "application/json;charset=utf-8"
_CHUNK = 16 * 1024


class HttpError(Exception):
    """A request that got no usable answer. `message` is plain text without the token."""

    def __init__(self, message: str, *, duration_ms: int = 0, nbytes: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.duration_ms = duration_ms
        self.nbytes = nbytes


class HttpTimeout(HttpError):
    """Connecting, or waiting for the answer, took longer than the timeout."""


class HttpNetworkError(HttpError):
    """Name resolution, connection, TLS or protocol failure."""


class HttpTooLarge(HttpError):
    """The answer passed settings.ROBOT_HTTP_MAX_RESPONSE_BYTES; the rest was not read."""


@dataclass(frozen=True)
class HttpResult:
    status: int
    json: Any | None  # the parsed answer, or None when it is not JSON
    nbytes: int  # bytes of body read
    duration_ms: int


_pools: dict[tuple[str, str, str, int], urllib3.HTTPConnectionPool] = {}
_pools_lock = threading.Lock()


def close_pools() -> None:
    """Close every kept-alive connection (tests; a process that is about to stop)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


def _forget_pools_in_child() -> None:
    # A forked worker must not share its parent's sockets; it opens its own.
    global _pools_lock
    _pools.clear()
    _pools_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pools_in_child)


def _pool(pinned: PinnedAddress) -> urllib3.HTTPConnectionPool:
    key = (pinned.scheme, pinned.host, pinned.ip, pinned.port)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            common: dict[str, Any] = {
                # As many as the worker has sends in flight: all robots of a provider share
                # one host, so one pool carries them all.
                "maxsize": settings.NOTIFY_CONCURRENCY,
                "block": False,
                "retries": False,
            }
            if pinned.scheme == "https":
                pool = urllib3.HTTPSConnectionPool(
                    pinned.ip,
                    pinned.port,
                    server_hostname=pinned.host,
                    assert_hostname=pinned.host,
                    cert_reqs="CERT_REQUIRED",
                    **common,
                )
            else:
                pool = urllib3.HTTPConnectionPool(pinned.ip, pinned.port, **common)
            _pools[key] = pool
        return pool


def encode_json(payload: dict) -> bytes:
    """The request body exactly as sent: compact UTF-8 JSON (robots limit bytes, and Chinese
    text as \\uXXXX escapes would take twice the room)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _scrub(text: str, kind: str, url: str) -> str:
    """An error text with the webhook's token masked, should a library ever include it."""
    return mask_secrets_in(text, robot_token(kind, url))


def _read_capped(response: urllib3.BaseHTTPResponse, limit: int, deadline: float) -> bytes:
    """At most `limit` bytes of the body; HttpTooLarge (without reading on) past it. The read
    timeout applies to each socket read; the deadline bounds the whole, so an answer that
    trickles in a byte at a time cannot hold a worker for long."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HttpTooLarge(TOO_LARGE.format(limit=limit))
    body = bytearray()
    while True:
        chunk = response.read(min(_CHUNK, limit + 1 - len(body)))
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > limit:
            raise HttpTooLarge(TOO_LARGE.format(limit=limit), nbytes=len(body))
        if time.monotonic() > deadline:
            raise HttpTimeout(
                TIMED_OUT.format(seconds=settings.ROBOT_HTTP_READ_TIMEOUT, what="reading")
            )


def _parse_json(body: bytes) -> Any | None:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def post_json(
    kind: str, url: str, payload: dict, *, query: Mapping[str, str] | None = None
) -> HttpResult:
    """POST `payload` as UTF-8 JSON to the `kind` robot webhook `url`, with `query` (DingTalk's
    timestamp and sign) appended after the guard has checked the saved URL.

    Returns the status and answer whatever the status (3xx included); raises GuardRefused,
    HttpTimeout, HttpNetworkError or HttpTooLarge. Exceptions carry no token.
    """
    started = time.monotonic()
    try:
        pinned = resolve_robot(kind, url)
    except OSError as exc:  # the name did not resolve
        raise HttpNetworkError(
            _scrub(NAME_NOT_RESOLVED.format(error=exc), kind, url),
            duration_ms=_elapsed_ms(started),
        ) from None
    path = pinned.path + ("&" + urlencode(query) if query else "")
    body = encode_json(payload)
    headers = {
        "Host": pinned.host_header,
        "Content-Type": CONTENT_TYPE,
        "Accept": "application/json",
        "Accept-Encoding": "identity",
        "User-Agent": "sae-contact-console",
    }
    deadline = started + settings.ROBOT_HTTP_CONNECT_TIMEOUT + settings.ROBOT_HTTP_READ_TIMEOUT
    response = None
    complete = False
    try:
        response = _pool(pinned).urlopen(
            "POST",
            path,
            body=body,
            headers=headers,
            redirect=False,
            retries=False,
            # Per request, so that a settings change reaches pools made before it.
            timeout=urllib3.Timeout(
                connect=settings.ROBOT_HTTP_CONNECT_TIMEOUT, read=settings.ROBOT_HTTP_READ_TIMEOUT
            ),
            preload_content=False,
            release_conn=False,
            assert_same_host=False,
        )
        data = _read_capped(response, settings.ROBOT_HTTP_MAX_RESPONSE_BYTES, deadline)
        complete = True
    except HttpError as exc:
        exc.duration_ms = _elapsed_ms(started)
        raise
    except ReadTimeoutError:
        raise HttpTimeout(
            TIMED_OUT.format(seconds=settings.ROBOT_HTTP_READ_TIMEOUT, what="reading"),
            duration_ms=_elapsed_ms(started),
        ) from None
    except Urllib3Timeout as exc:
        # NewConnectionError subclasses ConnectTimeoutError in urllib3 2: a refused connection
        # is a network error, only a real connect timeout is a timeout.
        if isinstance(exc, NewConnectionError):
            raise _network_error(exc, kind, url, started) from None
        raise HttpTimeout(
            TIMED_OUT.format(seconds=settings.ROBOT_HTTP_CONNECT_TIMEOUT, what="connecting"),
            duration_ms=_elapsed_ms(started),
        ) from None
    except (Urllib3Error, OSError) as exc:
        raise _network_error(exc, kind, url, started) from None
    finally:
        if response is not None:
            if not complete:
                # Whatever is left unread (a 10 MB answer) is dropped with the connection
                # rather than read to keep it alive.
                response.close()
            response.release_conn()
    return HttpResult(
        status=response.status,
        json=_parse_json(data),
        nbytes=len(data),
        duration_ms=_elapsed_ms(started),
    )


def _network_error(exc: Exception, kind: str, url: str, started: float) -> HttpNetworkError:
    text = f"{type(exc).__name__}: {exc}"
    return HttpNetworkError(_scrub(text, kind, url), duration_ms=_elapsed_ms(started))
