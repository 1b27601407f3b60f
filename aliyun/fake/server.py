"""FakeCloud: a loopback HTTP server answering RAM and ARMS OpenAPI calls as Alibaba Cloud does.

The real SDK clients talk to it (``Config(endpoint="127.0.0.1:PORT", protocol="http")``); every
request's ACS3-HMAC-SHA256 signature is checked; faults (latency, throttling, 5xx, refused
connections, denied actions) are switched on from the test. Nothing here logs a secret or a
parameter value: the optional log line is the action and the status.
"""

from __future__ import annotations

import calendar
import collections
import json
import socket
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from . import arms, ram, signing, sts, tls
from .errors import ApiError

RAM_VERSION = "2015-05-01"
ARMS_VERSION = "2019-08-08"
STS_VERSION = "2015-04-01"
PRODUCTS = {
    RAM_VERSION: ("ram", "ram.aliyuncs.com"),
    ARMS_VERSION: ("arms", "arms.aliyuncs.com"),
    STS_VERSION: ("sts", "sts.aliyuncs.com"),
}
ACTIONS = {"ram": ram.ACTIONS, "arms": arms.ACTIONS, "sts": sts.ACTIONS}
TLS_HANDSHAKE = 0x16  # the first byte a TLS client sends
MAX_BODY = 1 << 20
MAX_CONCURRENT = 64  # connections served at once; more wait in the listen queue
MAX_REQUESTS_KEPT = 200_000
NONCE_WINDOW = 15 * 60  # seconds a nonce is remembered (the gateway's replay window)
MAX_NONCES = 200_000
CLOCK_SKEW = 15 * 60


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, fake: FakeCloud):
        self.fake = fake
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENT)
        super().__init__(address, _Handler)

    def process_request(self, request, client_address):
        # Bounded threads: the serve loop waits for a free slot before taking a connection.
        self._slots.acquire()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            request = self._maybe_tls(request)
            if request is not None:
                super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _maybe_tls(self, request):
        """TLS and plain HTTP on one port: a TLS client speaks first with a handshake record."""
        try:
            request.settimeout(_Handler.timeout)
            first = request.recv(1, socket.MSG_PEEK)
            if first and first[0] == TLS_HANDSHAKE:
                return self.fake.tls.context.wrap_socket(request, server_side=True)
            return request
        except (OSError, ValueError):
            self.shutdown_request(request)
            return None


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so go_down() leaves no kept-alive socket behind.
    protocol_version = "HTTP/1.0"
    server_version = "FakeAlibabaCloud/1.0"
    sys_version = ""
    timeout = 30  # seconds a silent client may hold its connection
    disable_nagle_algorithm = True  # headers and body go in two writes: no wait between

    def do_POST(self):
        self.server.fake._handle(self)

    do_GET = do_POST

    def log_message(self, format, *args):
        # The default line holds the query string (parameter values); say nothing here.
        pass


class FakeCloud:
    def __init__(
        self,
        access_keys: dict[str, str] | None = None,
        account_id: str = "1234567890123456",
        *,
        port: int = 0,
        log=None,
    ):
        self.lock = threading.RLock()
        self.access_keys = dict(access_keys or {})
        self.account_id = account_id
        self.ram = ram.RamState(self.lock)
        self.arms = arms.ArmsState(self.lock)
        self.sts = sts.StsState(self.lock, account_id)
        self._tls: tls.Tls | None = None
        self.latency = 0.0
        self.calls: collections.Counter[str] = collections.Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []
        # A bug of the fake answers 500 InternalError like a server would; it is kept here too,
        # so that a test can tell it from a fail() it asked for.
        self.internal_errors: list[str] = []
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._log = log  # a callable taking one line, or None (silent)
        self.reset_faults()
        self._nonces: collections.OrderedDict[str, float] = collections.OrderedDict()

    # --- life cycle -----------------------------------------------------------------------------

    def start(self) -> FakeCloud:
        if self._server is not None:
            return self
        self._server = _Server(("127.0.0.1", self._port), self)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-cloud-{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    @property
    def tls(self) -> tls.Tls:
        with self.lock:
            if self._tls is None:
                self._tls = tls.Tls()
            return self._tls

    @property
    def ca_file(self) -> str:
        """The certificate HTTPS clients of this fake must trust (STS is HTTPS only)."""
        return self.tls.cert_file

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def close(self) -> None:
        """Stop, and remove the certificate files."""
        self.stop()
        if self._tls is not None:
            self._tls.cleanup()
            self._tls = None

    def go_down(self) -> None:
        """Close the listening socket: connections are refused until come_back()."""
        self.stop()

    def come_back(self) -> None:
        """Listen again on the same port."""
        deadline = time.monotonic() + 5
        while True:
            try:
                self.start()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @property
    def is_up(self) -> bool:
        return self._server is not None

    def __enter__(self) -> FakeCloud:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def port(self) -> int:
        return self._port

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self._port}"

    # --- faults ---------------------------------------------------------------------------------

    def throttle(self, n: int, retry_after_ms: int = 200, *, actions=None) -> None:
        """The next n calls (of these actions, if given) answer 400 Throttling.User."""
        with self.lock:
            self._throttle = [int(n), int(retry_after_ms), _action_set(actions)]

    def fail(self, n: int, status: int = 503, *, actions=None) -> None:
        """The next n calls (of these actions, if given) answer that 5xx."""
        if not 500 <= status <= 599:
            raise ValueError("fail() takes a 5xx status")
        with self.lock:
            self._fail = [int(n), int(status), _action_set(actions)]

    def lose_answers(self, n: int, *, actions=None) -> None:
        """The next n successful calls (of these actions, if given) are carried out, then the
        connection is closed without an answer: the caller cannot tell whether it happened (a
        timeout after the work was done), so a retry must look before it creates again."""
        with self.lock:
            self._lose = [int(n), _action_set(actions)]

    def deny(self, access_key_id: str, *actions: str) -> None:
        """That key (or role ARN: its temporary keys) is refused these actions ("ram:ListUsers",
        "arms:DescribeContacts", "ram:*")."""
        with self.lock:
            self._denied.setdefault(access_key_id, set()).update(actions)

    def reset_faults(self) -> None:
        """No throttling, failures or denials any more (latency is a setting: it stays)."""
        with self.lock:
            self._throttle = [0, 0, None]
            self._fail = [0, 503, None]
            self._lose = [0, None]
            self._denied: dict[str, set[str]] = {}

    # --- seeds ----------------------------------------------------------------------------------

    def seed_demo(self) -> None:
        from .seeds import seed_demo

        seed_demo(self)

    def seed_users(self, n: int) -> None:
        from .seeds import seed_users

        seed_users(self, n)

    # --- one request ----------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        action = handler.headers.get("x-acs-action") or ""
        version = handler.headers.get("x-acs-version") or ""
        product, host_id = PRODUCTS.get(version, ("", "openapi.aliyuncs.com"))
        path, _, raw_query = handler.path.partition("?")
        extra_headers: dict[str, str] = {}
        params: dict[str, str] = {}
        try:
            length = int(handler.headers.get("content-length") or 0)
            if length > MAX_BODY:
                raise ApiError(413, "RequestTooLarge", "The request body is too large.")
            body = handler.rfile.read(length) if length > 0 else b""
            params = dict(parse_qsl(raw_query, keep_blank_values=True))
            ctype = handler.headers.get("content-type") or ""
            if body and ctype.startswith("application/x-www-form-urlencoded"):
                params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            rpc = _is_rpc(handler, params)
            if rpc:  # the older RPC style: action and version are parameters
                action, version = params.get("Action") or "", params.get("Version") or ""
                product, host_id = PRODUCTS.get(version, ("", "openapi.aliyuncs.com"))
            with self.lock:
                # Only known names become keys: a header cannot grow the counter without bound.
                known = any(action in names for names in ACTIONS.values())
                self.calls[action if known else "(unknown)"] += 1
                self.requests.append((action[:100], dict(params)))
                if len(self.requests) > MAX_REQUESTS_KEPT:
                    del self.requests[: MAX_REQUESTS_KEPT // 2]
            answer = self._answer(handler, product, action, path, raw_query, body, params, rpc)
            status = 200
            if self._take_lost_answer(action):
                handler.close_connection = True
                if self._log is not None:
                    self._log(f"{action} done, answer lost on purpose")
                return
        except ApiError as exc:
            status = exc.status
            extra_headers = exc.headers
            answer = {"Code": exc.code, "Message": exc.message}
        except Exception as exc:  # a bug in the fake must still answer like a server
            status = 500
            answer = {"Code": "InternalError", "Message": f"The fake failed: {type(exc).__name__}"}
            # Where, not what: the frames and the type (a message could quote a parameter).
            where = "".join(traceback.format_tb(exc.__traceback__)) + type(exc).__name__
            with self.lock:
                self.internal_errors.append(where[-4000:])
                del self.internal_errors[:-100]
            print(f"aliyun.fake: internal error in {action}:\n{where}", file=sys.stderr)
        answer = {"RequestId": str(uuid.uuid4()).upper(), **answer}
        if status >= 400:
            answer["HostId"] = host_id
            answer["Recommend"] = f"https://api.aliyun.com/troubleshoot?q={answer['Code']}"
        delay = self.latency - (time.monotonic() - started)
        if delay > 0:
            time.sleep(delay)
        payload = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json;charset=utf-8")
            handler.send_header("Content-Length", str(len(payload)))
            handler.send_header("x-acs-request-id", answer["RequestId"])
            for name, value in extra_headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            return  # the client went away
        if self._log is not None:
            self._log(f"{action or '-'} {status}" + (f" {answer['Code']}" if status >= 400 else ""))

    def _answer(self, handler, product, action, path, raw_query, body, params, rpc) -> dict:
        headers: dict[str, list[str]] = {}
        for name, value in handler.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        with self.lock:
            secrets = {**self.access_keys, **self.sts.secrets()}
        if rpc:
            access_key_id = signing.verify_rpc(
                method=handler.command, params=params, secrets=secrets
            )
            self._check_freshness(params.get("Timestamp"), params.get("SignatureNonce"))
            token = params.get("SecurityToken")
        else:
            access_key_id = signing.verify(
                method=handler.command,
                path=path,
                raw_query=raw_query,
                headers=headers,
                body=body,
                secrets=secrets,
            )
            self._check_freshness(
                handler.headers.get("x-acs-date"), handler.headers.get("x-acs-signature-nonce")
            )
            token = handler.headers.get("x-acs-security-token")
        # A temporary key (STS) works only with its own token, and only until it expires.
        session = self.sts.check_token(access_key_id, token)
        if not product:
            raise ApiError(400, "InvalidVersion", "Specified parameter Version is not valid.")
        state = {"ram": self.ram, "arms": self.arms, "sts": self.sts}[product]
        if action not in ACTIONS[product]:
            raise ApiError(
                404,
                "InvalidAction.NotFound",
                "Specified api is not found, please check your url and method.",
            )
        with self.lock:
            self._take_fault(action)
            if self._is_denied(access_key_id, f"{product}:{action}") or (
                session is not None and self._is_denied(session.role_arn, f"{product}:{action}")
            ):
                if product == "ram":
                    raise ApiError(
                        403,
                        "NoPermission",
                        "You are not authorized to do this action. "
                        "You should be authorized by RAM.",
                    )
                raise ApiError(
                    403,
                    "Forbidden.RAM",
                    "User not authorized to operate on the specified resource, "
                    "or this API doesn't support RAM.",
                )
            if product == "sts":
                return getattr(state, action)(params, access_key_id)
            return getattr(state, action)(params)

    def _check_freshness(self, date: str | None, nonce: str | None) -> None:
        try:
            stamp = calendar.timegm(time.strptime(date or "", "%Y-%m-%dT%H:%M:%SZ"))
        except ValueError:
            raise ApiError(
                400, "InvalidTimeStamp.Format", "x-acs-date is not an ISO 8601 UTC time."
            ) from None
        now = time.time()
        if abs(now - stamp) > CLOCK_SKEW:
            raise ApiError(400, "InvalidTimeStamp.Expired", "x-acs-date is too far from now.")
        if not nonce:
            raise ApiError(400, "MissingSignatureNonce", "x-acs-signature-nonce is missing.")
        with self.lock:
            while self._nonces and (
                len(self._nonces) >= MAX_NONCES
                or next(iter(self._nonces.values())) < now - NONCE_WINDOW
            ):
                self._nonces.popitem(last=False)
            if nonce in self._nonces:
                raise ApiError(
                    400, "SignatureNonceUsed", "The request signature nonce has been used."
                )
            self._nonces[nonce] = now

    def _take_fault(self, action: str) -> None:
        count, status, only = self._fail
        if count > 0 and (only is None or action in only):
            self._fail[0] -= 1
            code = {500: "InternalError", 503: "ServiceUnavailable"}.get(
                status, "ServiceUnavailable"
            )
            raise ApiError(
                status, code, "The request has failed due to a temporary failure of the server."
            )
        count, retry_after, only = self._throttle
        if count > 0 and (only is None or action in only):
            self._throttle[0] -= 1
            raise ApiError(
                400,
                "Throttling.User",
                "Request was denied due to user flow control.",
                headers={"x-acs-retry-after": str(retry_after)},
            )

    def _take_lost_answer(self, action: str) -> bool:
        with self.lock:
            count, only = self._lose
            if count > 0 and (only is None or action in only):
                self._lose[0] -= 1
                return True
            return False

    def _is_denied(self, access_key_id: str, action: str) -> bool:
        denied = self._denied.get(access_key_id)
        if not denied:
            return False
        product = action.split(":", 1)[0]
        return action in denied or f"{product}:*" in denied or "*" in denied


def _is_rpc(handler, params: dict[str, str]) -> bool:
    """An RPC-style request: signed in the query (Signature), no ACS3 Authorization header."""
    return (
        not handler.headers.get("authorization")
        and "Signature" in params
        and "SignatureMethod" in params
    )


def _action_set(actions):
    if actions is None:
        return None
    if isinstance(actions, str):
        actions = [actions]
    return {a.split(":", 1)[-1] for a in actions}


__all__ = ["FakeCloud"]
