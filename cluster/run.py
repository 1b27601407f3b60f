"""`make cluster-test`: the scale-out proof of issue 19.

In network namespaces on this machine (cluster/net.py): two web nodes (gunicorn with
deploy/gunicorn.conf.py) behind HAProxy (Debian's package, health checks on /readyz), two
`notify_worker` nodes, the machine's PostgreSQL (reached through its unix socket, which
namespaces do not isolate; a database of its own, built fresh) and a robot sink on the bridge.
A bounded load goes through HAProxy: sign-ins, Contact Management page views, New Contact posts
across accounts and Alertmanager intake posts. Part-way through, web1 and wk1 are SIGKILLed
(every process of their namespace), and started again a few seconds later.

The run writes latest.json and latest.md and exits non-zero unless:
- every failed request was in flight at the moment of the kill, and no more failed than the
  killed node had workers (HAProxy's maxconn per node);
- contacts created (New Contact answered 302) = contacts confirmed in the database;
- deliveries expected (alerts the intake accepted) = deliveries delivered (alerts the sink
  received);
- duplicates <= the killed worker's sends in flight (rows it had claimed and not marked);
- at most 20 messages per robot in any 60 s.
Everything it starts is stopped and the namespaces deleted, also on failure.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from cluster import haproxy, load, net
from cluster.verdict import max_in_window

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Cluster-Console-2026"
WEB_WORKERS = 2  # gunicorn workers per web node = HAProxy's maxconn per node


@dataclass(frozen=True)
class Size:
    accounts: int
    contacts: int  # New Contact posts per account
    alerts: int  # intake posts per account (one alert each, one robot message each)
    views: int  # page views per account
    clients: int
    pause: float  # seconds between one client's requests
    settle: float  # the most seconds to wait for every delivery after the load


SIZES = {
    # CI: about a minute of load; below the robots' rate limit.
    "small": Size(accounts=4, contacts=6, alerts=8, views=6, clients=4, pause=0.25, settle=120),
    # make cluster-test: 30 alerts per robot in under a minute, so the rate limit is reached.
    "full": Size(accounts=8, contacts=15, alerts=30, views=15, clients=4, pause=0.2, settle=240),
}


def log(message: str) -> None:
    print(f"[cluster {time.strftime('%H:%M:%S', time.gmtime())}Z] {message}", flush=True)


class Failed(Exception):
    pass


class Cluster:
    def __init__(self, size: Size, *, database: str, output: Path, keep: Path):
        self.size, self.database, self.output, self.work = size, database, output, keep
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: list = []
        self.haproxy_port = 8080  # in the load balancer's namespace
        self.sink = None
        self.secret_key = secrets.token_urlsafe(48)
        from cryptography.fernet import Fernet

        self.fernet = Fernet.generate_key().decode()
        self.metrics_token = secrets.token_urlsafe(24)
        self.scraped: dict = {}

    # --- environment -------------------------------------------------------------------------
    def env(self, *, node: str = "", database_host: str = "") -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SAE_"))}
        keep.pop("PROMETHEUS_MULTIPROC_DIR", None)
        host = database_host or "%2Fvar%2Frun%2Fpostgresql"  # the unix socket
        entry = f"{net.HOST_ADDRESS}:{self.sink.port}"
        env = {
            **keep,
            "DJANGO_SETTINGS_MODULE": "sae_console.settings",
            "DJANGO_SECRET_KEY": self.secret_key,
            "DJANGO_ALLOWED_HOSTS": load.HOST,
            "DJANGO_SSL_REDIRECT": "0",
            "DJANGO_SECURE_COOKIES": "0",
            "DJANGO_HSTS_SECONDS": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DJANGO_CONN_MAX_AGE": "60",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "DATABASE_URL": f"postgres://postgres@{host}/{self.database}",
            "SAE_FIELD_ENCRYPTION_KEYS": self.fernet,
            "SAE_DINGTALK_HOSTS": entry,
            "SAE_WECOM_HOSTS": entry,
            "SAE_ROBOT_ALLOW_HTTP": "1",
            "SAE_ROBOT_ALLOW_PRIVATE": "1",
            # A killed worker's rows are taken over after 8 s rather than a minute.
            "SAE_NOTIFY_LEASE": "8",
            "SAE_NOTIFY_SWEEP": "1",
            "SAE_NOTIFY_REQUEUE_AFTER": "5",
            "SAE_METRICS_TOKEN": self.metrics_token,
        }
        if node:
            metrics = self.work / f"metrics-{node}"
            metrics.mkdir(exist_ok=True)
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
        return env

    # --- the database --------------------------------------------------------------------------
    def build_database(self) -> None:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{self.database}"')
        os.environ.update(self.env(database_host="127.0.0.1:5432"))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        call_command("collectstatic", verbosity=0, interactive=False)

    def seed(self) -> list[load.AccountJob]:
        """Accounts whose owner contact has a DingTalk robot on the sink (a token each; `slow`
        tokens answer after 0.1 s, so a worker is often mid-send), RAM users to add as
        contacts, an intake token each."""
        from arms_sync.intake import services as intake
        from contacts import services as contacts
        from ram_directory import services as ram
        from ram_directory.principal import Principal

        jobs = []
        for a in range(self.size.accounts):
            account = ram.create_account(
                account_id=f"{1900000000000000 + a}",
                login_name=f"owner{a}@cluster.example.com",
                password=PASSWORD,
            )
            contacts.create_contact(
                principal=Principal(account),
                ram_user=None,
                phone=f"+86139{a:04d}0000",
                dingtalk_webhook=self.sink.url("dingtalk", self.robot(a)),
            )
            users = []
            for u in range(self.size.contacts):
                user, _ = ram.upsert_ram_user(
                    account=account,
                    user_name=f"user{u:03d}",
                    display_name=f"User {u}",
                    mobile_phone=f"86-138{a:04d}{u:04d}",
                    email=f"user{u}@a{a}.cluster.example.com",
                )
                users.append((user.pk, f"+86138{a:04d}{u:04d}"))
            jobs.append(
                load.AccountJob(
                    login=f"owner{a}@cluster.example.com",
                    password=PASSWORD,
                    ram_users=users,
                    intake_token=intake.rotate_token(account=account, created_by="cluster"),
                    alerts=[f"ClusterA{a:02d}N{n:04d}Z" for n in range(self.size.alerts)],
                    views=self.size.views,
                )
            )
        return jobs

    @staticmethod
    def robot(a: int) -> str:
        return f"slowrobot{a:03d}"

    # --- processes -----------------------------------------------------------------------------
    def _start(self, label: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        out = (self.work / f"{label}.log").open("a")
        self.logs.append(out)
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[label] = proc
        return proc

    def start_web(self, node: str) -> None:
        env = {
            **self.env(node=node),
            "SAE_BIND": "0.0.0.0:8000",
            "SAE_WEB_WORKERS": str(WEB_WORKERS),
        }
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self._start(
            node,
            [*net.exec_prefix(node), gunicorn, "-c", "deploy/gunicorn.conf.py", "sae_console.wsgi"],
            env,
        )

    def start_worker(self, node: str, worker_id: str) -> None:
        self._start(
            node,
            [
                *net.exec_prefix(node),
                sys.executable,
                "manage.py",
                "notify_worker",
                "--interval",
                "0.1",
                "--worker-id",
                worker_id,
                # No web server on a worker node: the worker serves its own /metrics.
                "--metrics-bind",
                "0.0.0.0:9464",
            ],
            self.env(node=node),
        )

    def start_haproxy(self) -> None:
        self.stats_socket = self.work / "haproxy.sock"
        path = self.work / "haproxy.cfg"
        path.write_text(
            haproxy.config(
                stats_socket=self.stats_socket,
                port=self.haproxy_port,
                servers={node: net.NODES[node] for node in ("web1", "web2")},
                maxconn=WEB_WORKERS,
            )
        )
        self._start("haproxy", [*net.exec_prefix("lb"), "haproxy", "-db", "-f", str(path)])

    def server_status(self, node: str) -> str:
        return haproxy.server_status(self.stats_socket, node)

    def wait(self, condition, timeout: float, step: float = 0.05):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if value := condition():
                return value
            time.sleep(step)
        return condition()

    def kill_node(self, node: str, pids: list[int]) -> None:
        """SIGKILL every process of the node's namespace: the machine is gone."""
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc = self.procs.get(node)
        if proc is not None:
            proc.wait(timeout=10)

    def stop_all(self) -> None:
        for _label, proc in self.procs.items():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for node in net.NODES:
            for pid in net.pids(node):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        for node in net.NODES:  # anything left in a namespace
            for pid in net.pids(node):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        for out in self.logs:
            out.close()

    # --- the run -------------------------------------------------------------------------------
    def run(self) -> dict:
        from tests.notify.sink import RobotSink

        net.setup()
        self.sink = RobotSink(host=net.HOST_ADDRESS, slow_seconds=0.1).start()
        log(f"namespaces up; sink on {net.HOST_ADDRESS}:{self.sink.port}")
        self.build_database()
        jobs = self.seed()
        log(f"database {self.database}: {len(jobs)} accounts seeded")
        for node in ("web1", "web2"):
            self.start_web(node)
        self.start_worker("wk1", "wk1-a")
        self.start_worker("wk2", "wk2-a")
        self.start_haproxy()
        up = self.wait(
            lambda: all(self.server_status(n).startswith("UP") for n in ("web1", "web2")), 90, 0.3
        )
        if not up:
            raise Failed("the web nodes did not become ready behind HAProxy")
        log("web1 and web2 are UP behind HAProxy; load starts")
        return self.load(jobs)

    def load(self, jobs: list[load.AccountJob]) -> dict:
        from arms_sync.notify.models import Delivery

        outcome = load.Outcome()
        lanes = [jobs[k :: self.size.clients] for k in range(self.size.clients)]
        clients = [
            load.Client(net.NODES["lb"], self.haproxy_port, lane, self.size.pause, outcome)
            for lane in lanes
            if lane
        ]
        total = sum(1 + j.views + len(j.ram_users) + len(j.alerts) for j in jobs)
        started = time.monotonic()
        for client in clients:
            client.start()
        # Kill web1 and wk1 when a third of the load is done.
        self.wait(
            lambda: len(outcome.requests) >= total // 3 or not any(c.is_alive() for c in clients),
            300,
            0.02,
        )
        if outcome.errors:
            raise Failed(f"the load stopped: {outcome.errors[0]}")
        web_pids, worker_pids = net.pids("web1"), net.pids("wk1")
        kill_at = time.monotonic()
        self.kill_node("web1", web_pids)
        self.kill_node("wk1", worker_pids)
        killed_at = time.monotonic()  # every process of both nodes is gone
        # Rows the killed worker had claimed and not yet marked: its sends in flight (a task
        # claims as host:pid).
        claimers = [f"{socket.gethostname()}:{pid}"[:64] for pid in worker_pids]
        in_flight = Delivery.objects.filter(
            status=Delivery.Status.SENDING, claimed_by__in=claimers
        ).count()
        log(f"SIGKILL web1 {web_pids} and wk1 {worker_pids}; wk1 had {in_flight} sends in hand")
        down = self.wait(lambda: self.server_status("web1").startswith("DOWN"), 30, 0.02)
        failover = round(time.monotonic() - kill_at, 2) if down else None
        log(f"HAProxy marked web1 DOWN after {failover} s")
        time.sleep(max(0.0, kill_at + 5 - time.monotonic()))
        restart_at = time.monotonic()
        self.start_web("web1")
        self.start_worker("wk1", "wk1-b")
        back = self.wait(lambda: self.server_status("web1").startswith("UP"), 60, 0.05)
        restored = round(time.monotonic() - restart_at, 2) if back else None
        log(f"web1 and wk1 started again; web1 UP after {restored} s")
        for client in clients:
            client.join(timeout=600)
        load_s = time.monotonic() - started
        if outcome.errors:
            raise Failed(f"the load stopped: {outcome.errors[0]}")
        log(f"load done: {len(outcome.requests)} requests in {load_s:.1f} s")
        self.settle(outcome)
        self.scraped = self.scrape_nodes()
        return self.figures(
            outcome,
            kill_at=kill_at,
            killed_at=killed_at,
            started=started,
            failover=failover,
            restored=restored,
            in_flight=in_flight,
            killed=[
                {
                    "node": "web1",
                    "pids": web_pids,
                    "at_s": round(kill_at - started, 2),
                    "restarted_at_s": round(restart_at - started, 2),
                },
                {
                    "node": "wk1",
                    "pids": worker_pids,
                    "at_s": round(kill_at - started, 2),
                    "restarted_at_s": round(restart_at - started, 2),
                    "sends_in_flight": in_flight,
                },
            ],
            load_s=load_s,
        )

    def settle(self, outcome: load.Outcome) -> None:
        from arms_sync.notify.models import Delivery

        expected = set(outcome.alerts_accepted)

        def done() -> bool:
            open_rows = Delivery.objects.filter(
                status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING]
            ).exists()
            return not open_rows and expected <= self.received_names()

        began = time.monotonic()
        finished = self.wait(done, self.size.settle, 0.5)
        log(f"deliveries settled: {finished} after {time.monotonic() - began:.1f} s")

    def scrape_nodes(self) -> dict:
        """What Prometheus would read from the nodes: intake posts answered 200 by the web
        nodes and deliveries sent by the workers, each summed over the node's processes, the
        killed ones' included (their files stay in the node's metrics directory)."""
        from http.client import HTTPConnection

        from prometheus_client.parser import text_string_to_metric_families

        def total(node: str, port: int, name: str, **labels: str) -> float:
            conn = HTTPConnection(net.NODES[node], port, timeout=10)
            conn.request(
                "GET", "/metrics", headers={"Authorization": f"Bearer {self.metrics_token}"}
            )
            answer = conn.getresponse()
            text = answer.read().decode()
            conn.close()
            return sum(
                sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
            )

        try:
            return {
                "intake_posts_200": sum(
                    total(n, 8000, "sae_intake_posts_total", code="200") for n in ("web1", "web2")
                ),
                "deliveries_sent": sum(
                    total(n, 9464, "sae_deliveries_total", outcome="sent") for n in ("wk1", "wk2")
                ),
            }
        except (OSError, ValueError) as exc:
            log(f"could not scrape the nodes: {exc}")
            return {}

    def received_names(self) -> set[str]:
        return set(self.name_counts())

    def name_counts(self) -> Counter:
        import re

        counts: Counter = Counter()
        for message in self.sink.received():
            counts.update(set(re.findall(r"ClusterA\d\dN\d{4}Z", message.text())))
        return counts

    def figures(
        self, outcome, *, kill_at, killed_at, started, failover, restored, in_flight, killed, load_s
    ):
        from contacts.models import Contact

        failed = [r for r in outcome.requests if not r.ok]
        # In flight while the kill happened: begun before the last process was gone, not
        # finished before the first was killed.
        in_flight_at_kill = [r for r in failed if r.start <= killed_at and r.end >= kill_at]
        confirmed = Contact.objects.filter(ram_user_id__in=outcome.contacts_created).count()
        counts = self.name_counts()
        expected = set(outcome.alerts_accepted)
        delivered = sum(1 for name in expected if counts[name] >= 1)
        duplicates = sum(n - 1 for n in counts.values() if n > 1)
        per_robot: dict[str, list[float]] = defaultdict(list)
        for message in self.sink.received():
            per_robot[message.token].append(message.at)
        busiest = max((max_in_window(times, 60) for times in per_robot.values()), default=0)
        return {
            "requests_sent": len(outcome.requests),
            "requests_failed": len(failed),
            "contacts_created": len(outcome.contacts_created),
            "contacts_confirmed": confirmed,
            "deliveries_expected": len(expected),
            "deliveries_delivered": delivered,
            "duplicates": duplicates,
            "max_per_robot_per_60s": busiest,
            "lb_failover_s": failover,
            "killed": killed,
            # What the checks are judged against, and more detail.
            "failed_in_flight_at_kill": len(in_flight_at_kill),
            "failed_allowed": WEB_WORKERS,
            "failed_requests": [
                {
                    "kind": r.kind,
                    "status": r.status,
                    "note": r.note,
                    "start_s": round(r.start - started, 3),
                    "end_s": round(r.end - started, 3),
                }
                for r in failed
            ],
            "killed_worker_sends_in_flight": in_flight,
            "web1_back_up_s": restored,
            "requests_by_kind": dict(Counter(r.kind for r in outcome.requests)),
            "robot_messages": sum(len(v) for v in per_robot.values()),
            # From the nodes' /metrics (information, not judged): the intake posts the web
            # nodes answered 200 and the messages the workers counted as sent.
            "metrics": self.scraped,
            "load_s": round(load_s, 1),
            "size": self.size.__dict__,
        }
