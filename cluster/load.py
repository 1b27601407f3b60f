"""The bounded load through HAProxy: client threads, each signing in as account owners and then
interleaving page views, New Contact posts and Alertmanager intake posts, every request
recorded with its start, end and answer."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.client import HTTPConnection

HOST = "console.test"  # the Host the clients use (DJANGO_ALLOWED_HOSTS of the nodes)
CSRF = "c" * 32  # any 32-character secret: the cookie and the header carry the same one


@dataclass
class Request:
    kind: str  # signin, page, contact, intake
    start: float  # time.monotonic()
    end: float
    status: int  # 0: no answer (connection reset, timeout)
    ok: bool
    note: str = ""


@dataclass
class AccountJob:
    login: str
    password: str
    ram_users: list[tuple[int, str]]  # (pk, phone) to create contacts for
    intake_token: str
    alerts: list[str]  # one intake post per alert name
    views: int


@dataclass
class Outcome:
    requests: list[Request] = field(default_factory=list)
    contacts_created: list[int] = field(default_factory=list)  # RAM user pks answered 302
    contacts_failed: list[int] = field(default_factory=list)
    alerts_accepted: list[str] = field(default_factory=list)
    alerts_failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # a client that gave up
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)


def _alert_body(name: str) -> bytes:
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="{name}"}}',
            "status": "firing",
            "receiver": "sae-console",
            "groupLabels": {"alertname": name},
            "commonLabels": {"alertname": name},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.cluster.invalid:9093",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": name, "severity": "warning"},
                    "annotations": {"summary": f"cluster check {name}"},
                    "startsAt": "2026-12-01T10:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus.cluster.invalid:9090/graph",
                    # One alert per post: each opens an alert of its own and notifies once (a
                    # repeat of one fingerprint while firing would wait for the repeat interval).
                    "fingerprint": hashlib.sha256(name.encode()).hexdigest()[:16],
                }
            ],
        }
    ).encode()


class Client(threading.Thread):
    def __init__(
        self, host: str, port: int, jobs: list[AccountJob], pause: float, outcome: Outcome
    ):
        super().__init__(daemon=True)
        self.host, self.port, self.jobs, self.pause = host, port, jobs, pause
        self.outcome = outcome
        self.cookie = ""

    def _call(self, kind: str, method: str, path: str, body: bytes = b"", **headers: str):
        headers = {"Host": HOST, **headers}
        if self.cookie:
            headers["Cookie"] = f"{self.cookie}; csrftoken={CSRF}"
        else:
            headers["Cookie"] = f"csrftoken={CSRF}"
        start = time.monotonic()
        status, location, cookies, note = 0, "", [], ""
        try:
            conn = HTTPConnection(self.host, self.port, timeout=60)
            conn.request(method, path, body=body or None, headers=headers)
            answer = conn.getresponse()
            answer.read()
            status, location = answer.status, answer.getheader("Location") or ""
            cookies = answer.headers.get_all("Set-Cookie") or []
            conn.close()
        except OSError as exc:
            note = type(exc).__name__
        return start, time.monotonic(), status, location, cookies, note

    def _form(self, kind: str, path: str, fields: dict) -> tuple:
        return self._call(
            kind,
            "POST",
            path,
            urllib.parse.urlencode(fields).encode(),
            **{"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": CSRF},
        )

    def sign_in(self, job: AccountJob) -> None:
        for _ in range(3):  # a sign-in lost with a killed node is tried again
            start, end, status, location, cookies, note = self._form(
                "signin", "/signin/", {"username": job.login, "password": job.password}
            )
            session = next((c.split(";")[0] for c in cookies if c.startswith("sessionid=")), "")
            ok = status == 302 and bool(session)
            self.outcome.add(Request("signin", start, end, status, ok, note))
            if ok:
                self.cookie = session
                return
            time.sleep(self.pause)
        raise RuntimeError(f"could not sign in as {job.login}: {status} {location} {note}")

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:
            self.outcome.errors.append(f"{type(exc).__name__}: {exc}")
            raise

    def _run(self) -> None:
        for job in self.jobs:
            self.cookie = ""
            self.sign_in(job)
            steps = max(len(job.ram_users), len(job.alerts), job.views)
            for k in range(steps):
                if k < job.views:
                    start, end, status, _, _, note = self._call("page", "GET", "/contacts/")
                    self.outcome.add(Request("page", start, end, status, status == 200, note))
                    time.sleep(self.pause)
                if k < len(job.ram_users):
                    pk, phone = job.ram_users[k]
                    start, end, status, location, _, note = self._form(
                        "contact",
                        "/contacts/new/",
                        {"username_kind": "ram_user", "ram_user": pk, "phone": phone},
                    )
                    ok = status == 302 and "signin" not in location
                    self.outcome.add(Request("contact", start, end, status, ok, note))
                    with self.outcome.lock:
                        (
                            self.outcome.contacts_created if ok else self.outcome.contacts_failed
                        ).append(pk)
                    time.sleep(self.pause)
                if k < len(job.alerts):
                    name = job.alerts[k]
                    start, end, status, _, _, note = self._call(
                        "intake",
                        "POST",
                        "/intake/alertmanager/",
                        _alert_body(name),
                        **{
                            "Content-Type": "application/json",
                            "Authorization": f"Bearer {job.intake_token}",
                        },
                    )
                    ok = status == 200
                    self.outcome.add(Request("intake", start, end, status, ok, note))
                    with self.outcome.lock:
                        (self.outcome.alerts_accepted if ok else self.outcome.alerts_failed).append(
                            name
                        )
                    time.sleep(self.pause)
