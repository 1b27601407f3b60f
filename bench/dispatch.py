"""The dispatch phase of the benchmark: notify_worker processes sending to the robot sink of
tests/notify/sink.py (the one sink the tests use too), as robots across the internet answer.

- Deliveries per second of one worker when the sink answers after 0, 100 and 300 ms, over TLS
  (a certificate made for the run that only the worker trusts, through SSL_CERT_FILE), and at
  0 ms over plain HTTP (the figure earlier runs gave). Each delivery goes to a robot of its
  own, so the 20-a-minute limit never binds. Also the worker's CPU milliseconds per delivery
  (from /proc, between the first and the last answer) and the TLS handshakes per 1,000
  deliveries (the sink's TCP connections).
- Time-to-notify: 10 accounts of 100 contacts, each contact a DingTalk robot of its own; one
  Alertmanager post of 100 alerts per account, all ten at once, to the served console
  (gunicorn sized for a burst: `bench.server.burst_size`, 4 workers of 3 threads on 2 cores, so
  that the ten posts are taken at once as a deployment would take them); two notify workers;
  the sink at 100 ms over TLS. Seconds from each post to the sink's receipt of each of the
  1,000 messages: p50, p99, max.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import BenchError, expect, log
from bench.server import burst_size
from core.processes import stop_processes

BASE_DIR = Path(__file__).resolve().parent.parent
RATE_ACCOUNT = 800_002
TTN_FIRST = 810_001  # the time-to-notify accounts: 810001..810010
TTN_ACCOUNTS = 10
TTN_CONTACTS = 100
LATENCIES_MS = (0, 100, 300)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


@dataclass
class Tls:
    """A certificate for 127.0.0.1 made for this run: the sink serves it; only the worker
    processes trust it (SSL_CERT_FILE in their environment)."""

    cert: str
    key: str

    def context(self):
        from tests.notify.certs import server_context

        return server_context(self.cert, self.key)


class Workers:
    """notify_worker processes, stopped by their PIDs."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.env = env
        self.log = log_path.open("w")
        self.procs: list[subprocess.Popen] = []

    def start(self, count: int = 1) -> list[subprocess.Popen]:
        for _ in range(count):
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "notify_worker", "--interval", "0.05"],
                    cwd=BASE_DIR,
                    env=self.env,
                    stdout=self.log,
                    stderr=subprocess.STDOUT,
                )
            )
        return self.procs

    def wait_ready(self, timeout: float = 120) -> None:
        """Until every worker has started its loop: its first heartbeat is written as its
        sweeper starts, right before it takes tasks (on a loaded machine a worker takes 10 s
        and more to import and connect, which a fixed sleep hid inside time-to-notify)."""
        from arms_sync.notify.models import WorkerHeartbeat

        names = {f"{socket.gethostname()}:{proc.pid}"[:64] for proc in self.procs}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            if WorkerHeartbeat.objects.filter(worker__in=names).count() == len(names):
                time.sleep(0.5)  # from the heartbeat to polling the task queue
                return
            time.sleep(0.1)
        raise BenchError(f"the workers were not ready within {timeout:g} s")

    def check(self) -> None:
        for proc in self.procs:
            if proc.poll() is not None:
                raise BenchError(f"notify_worker exited {proc.returncode}")

    def stop(self) -> None:
        stop_processes(self.procs, grace=30)
        self.log.close()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class Dispatch:
    def __init__(self, *, env: dict[str, str], logs: Path, deliveries: int, timeout: float):
        self.base_env = env
        self.logs = logs
        # Overrides for a run of the old one-at-a-time worker, which needs minutes at 300 ms.
        self.deliveries = int(os.environ.get("BENCH_DISPATCH_DELIVERIES", deliveries))
        self.timeout = float(os.environ.get("BENCH_DISPATCH_TIMEOUT", timeout))

    def worker_env(self, sink, tls: Tls | None) -> dict[str, str]:
        # The sweeper at its production interval (5 s): it hands the rate runs' rows over in
        # its first round, at the worker's start, and the time-to-notify's rows come with their
        # tasks. (Every 0.3 s, as earlier runs had it, it took a sixth of the worker's CPU.)
        env = {
            **self.base_env,
            **sink.env(),
            "DJANGO_SETTINGS_MODULE": "sae_console.settings",
        }
        if tls is not None:
            env["SSL_CERT_FILE"] = tls.cert
        return env

    def run(self, *, server_factory) -> dict[str, Any]:
        from tests.notify.certs import self_signed_certificate

        with tempfile.TemporaryDirectory(prefix="sae-bench-tls-") as folder:
            tls = Tls(*self_signed_certificate(Path(folder), ips=("127.0.0.1",)))
            by_latency = {}
            for latency in LATENCIES_MS:
                by_latency[str(latency)] = self.rate(latency, tls)
            plain = self.rate(0, None)
            ttn = self.time_to_notify(tls, server_factory)
        return {
            "per_s_by_latency_ms": {k: v["per_s"] for k, v in by_latency.items()},
            "per_s_plain_http_0ms": plain["per_s"],
            "cpu_ms_per_delivery": by_latency["100"]["cpu_ms_per_delivery"],
            "tls_handshakes_per_1000": by_latency["100"]["handshakes_per_1000"],
            "time_to_notify_s": ttn["time_to_notify_s"],
            "runs": {**{f"tls_{k}ms": v for k, v in by_latency.items()}, "plain_0ms": plain},
            "time_to_notify": ttn,
            "load_average": list(os.getloadavg()),
        }

    # --- deliveries per second of one worker ---------------------------------------------------
    def rate(self, latency_ms: int, tls: Tls | None) -> dict[str, Any]:
        from arms_sync.notify import outbox
        from arms_sync.notify.models import Delivery, Event
        from arms_sync.notify.outbox import Recipient
        from bench import data
        from tests.notify.sink import RobotSink

        if not data.account_exists(RATE_ACCOUNT):
            data.build(RATE_ACCOUNT, RATE_ACCOUNT + 1, ram_users=1, contacts=0)
        account = data.account(RATE_ACCOUNT)
        Event.objects.filter(account=account).delete()
        count = self.deliveries
        label = f"{'https' if tls else 'http'} {latency_ms} ms"
        sink = RobotSink(
            delay=latency_ms / 1000,
            keep_bodies=False,
            tls_context=tls.context() if tls else None,
        )
        with sink:
            for i in range(count):
                outbox.record_event(
                    account=account,
                    kind=Event.Kind.TEST,
                    title=f"benchmark {i}",
                    recipients=[
                        Recipient(
                            name=f"bench {i}", dingtalk_url=sink.url("dingtalk", f"ok-{i:06d}")
                        )
                    ],
                    claimed_by="nobody",
                )
            # Pending rows no task carries: the worker's sweeper finds them, as after a crash.
            Delivery.objects.filter(account=account).update(
                status=Delivery.Status.PENDING, claimed_by="", lease_until=None, attempts=0
            )
            _clear_tasks()
            started = time.time()
            with Workers(
                self.worker_env(sink, tls), self.logs / f"notify-worker-{latency_ms}.log"
            ) as workers:
                (proc,) = workers.start(1)
                first_cpu = None
                deadline = time.monotonic() + self.timeout
                while time.monotonic() < deadline:
                    workers.check()
                    if first_cpu is None and sink.count:
                        first_cpu = cpu_seconds(proc.pid)
                    if _sent(account) >= count:
                        break
                    time.sleep(0.05)
                last_cpu = cpu_seconds(proc.pid)
            received = sink.received()
            handshakes = sink.connections
        expect(len(received) >= 2, f"{label}: the worker sent nothing")
        tokens = {r.token for r in received}
        expect(len(tokens) == len(received), f"{label}: a delivery reached the sink twice")
        times = sorted(r.at for r in received)
        steady = (len(times) - 1) / (times[-1] - times[0])
        cpu_ms = 1000 * (last_cpu - (first_cpu or 0)) / len(received)
        per_1000 = round(1000 * handshakes / len(received), 1) if tls else None
        log(
            f"dispatch {label}: {len(received)} of {count} in {times[-1] - started:.1f} s; "
            f"{steady:.1f}/s between first and last; worker CPU {cpu_ms:.2f} ms per delivery; "
            f"{handshakes} connections; load {os.getloadavg()[0]:.2f}"
        )
        Event.objects.filter(account=account).delete()
        _clear_tasks()
        return {
            "deliveries": count,
            "received": len(received),
            "latency_ms": latency_ms,
            "tls": bool(tls),
            "per_s": round(steady, 1),
            "per_s_from_start": round(len(times) / (times[-1] - started), 1),
            "first_after_s": round(times[0] - started, 2),
            "cpu_ms_per_delivery": round(cpu_ms, 2),
            "connections": handshakes,
            "handshakes_per_1000": per_1000,
        }

    # --- time-to-notify --------------------------------------------------------------------------
    def time_to_notify(self, tls: Tls, server_factory) -> dict[str, Any]:
        from arms_sync.intake.services import rotate_token
        from bench import data
        from tests.notify.sink import RobotSink

        last = TTN_FIRST + TTN_ACCOUNTS
        data.build(TTN_FIRST, last, ram_users=TTN_CONTACTS, contacts=TTN_CONTACTS)
        sink = RobotSink(delay=0.1, keep_bodies=False, tls_context=tls.context())
        tokens: dict[int, str] = {}
        with ExitStack() as stack:
            stack.enter_context(sink)
            for i in range(TTN_FIRST, last):
                data.point_robots_at(i, lambda n, i=i: sink.url("dingtalk", f"ok-{i}-{n:04d}"))
                tokens[i] = rotate_token(account=data.account(i), created_by="benchmark")
            data.analyze()
            _clear_tasks()
            workers, threads = burst_size(TTN_ACCOUNTS)
            server = stack.enter_context(server_factory(workers=workers, threads=threads))
            workers = stack.enter_context(
                Workers(self.worker_env(sink, tls), self.logs / "notify-worker-ttn.log")
            )
            workers.start(2)
            workers.wait_ready()
            url = server.url + "/intake/alertmanager/"
            posted: dict[int, float] = {}
            answers: dict[int, dict] = {}
            answered: dict[int, float] = {}

            def post(i: int) -> None:
                from bench.run import _post_alerts

                posted[i] = time.time()
                answers[i] = _post_alerts(url, tokens[i], TTN_CONTACTS)
                answered[i] = time.time()

            threads = [threading.Thread(target=post, args=(i,)) for i in tokens]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            expected = TTN_ACCOUNTS * TTN_CONTACTS
            deadline = time.monotonic() + self.timeout
            while sink.count < expected and time.monotonic() < deadline:
                workers.check()
                time.sleep(0.05)
            received = sink.received()
        expect(
            all(a.get("deliveries") == TTN_CONTACTS for a in answers.values()),
            f"the intake answered {list(answers.values())[:2]}",
        )
        expect(bool(received), "no message arrived")
        delays = [r.at - posted[int(r.token.split("-")[1])] for r in received]
        # Messages that had not arrived by the deadline count as arriving then (a lower bound).
        waited = time.time() - min(posted.values())
        delays += [waited] * max(expected - len(received), 0)
        figures = {
            "p50": round(percentile(delays, 50), 3),
            "p99": round(percentile(delays, 99), 3),
            "max": round(max(delays), 3),
        }
        # The part of it after the intake answered (the workers' share).
        after = [r.at - answered[int(r.token.split("-")[1])] for r in received]
        intake_s = [answered[i] - posted[i] for i in posted]
        log(
            f"time-to-notify: {len(received)} messages from {TTN_ACCOUNTS} posts of "
            f"{TTN_CONTACTS} alerts, 2 workers, sink 100 ms over TLS: p50 {figures['p50']} s, "
            f"p99 {figures['p99']} s, max {figures['max']} s (the intake answered in "
            f"{max(intake_s):.2f} s at most; after its answers p99 {percentile(after, 99):.2f} s); "
            f"load {os.getloadavg()[0]:.2f}"
        )
        return {
            "time_to_notify_s": figures,
            "messages": len(received),
            "complete": len(received) >= expected,
            "posts": TTN_ACCOUNTS,
            "alerts_per_post": TTN_CONTACTS,
            "workers": 2,
            "server": server.described,
            "sink_latency_ms": 100,
            "duplicates": len(received) - len({r.token for r in received}),
            "intake_answer_s": {
                "p50": round(percentile(intake_s, 50), 3),
                "max": round(max(intake_s), 3),
            },
            "after_intake_answer_s": {
                "p50": round(percentile(after, 50), 3),
                "p99": round(percentile(after, 99), 3),
                "max": round(max(after), 3),
            },
        }


def _sent(account) -> int:
    from arms_sync.notify.models import Delivery

    return Delivery.objects.filter(account=account, status=Delivery.Status.SENT).count()


def _clear_tasks() -> None:
    """Forget queued send tasks (of rows deleted, or handed to the sweepers on purpose)."""
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()
