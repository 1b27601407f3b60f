"""`python -m bench`: the console served as in production, measured beside its anchors.

1. A fresh PostgreSQL database (`sae_bench*`, never a test database), migrated; static files
   collected. Account 1 (100 RAM users, 100 contacts linked to ARMS contacts, robots) is built
   with bulk INSERT ... SELECT.
2. gunicorn (2 workers, debug off, CONN_MAX_AGE on) serves it; wrk, another process, loads each
   page signed in (a session made for the account owner, another for the platform operator),
   for a fixed time after a warm-up: (a) Contact Management, (b) the same with a query, (c) the
   admin change list of the same 100 contacts, (d) a bare view (the framework's limit), and the
   admin's other big lists. The query count of (a) for 1 and 100 contacts is taken in-process.
3. Accounts 2..N are added (N = 10,000: a million contacts), analysed, and the pages measured
   again: the growth.
4. Writes on accounts of their own: New Contact POSTs per second through the server (linking
   included), and Merge Contacts of an account with 100 RAM users.
5. Notification: Alertmanager posts per second into the intake (wrk), then one `notify_worker`
   processes sending to the loopback robot sink at 0, 100 and 300 ms, and the time from a
   burst of posts to the robots' receipt (bench/dispatch.py).
6. The figures go to `<output>/latest.json`, `latest.md` and `latest.png`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

from bench.common import expect, log

BASE_DIR = Path(__file__).resolve().parent.parent
MEASURED = 1  # the account whose pages are measured
CREATE_BASE = 600_000  # accounts that take the New Contact POSTs
MERGE_ACCOUNT = 700_001
INTAKE_ACCOUNT = 800_001
DISPATCH_ACCOUNT = 800_002
ONLY_PHASES = ("pages", "creates", "merge", "dispatch", "cloud")
PAGE_QUERY = "?field=username&q=user05"  # 10 of the 100 contacts
ADMIN_SEARCH = "?q=user5"

# What the benchmark's processes run with: production settings (debug off, manifest static
# files, persistent connections), plain HTTP on loopback, and the intake's per-token limit
# raised so that it measures throughput rather than the limit (the limit's row is still taken
# and updated on every post).
ENV_DEFAULTS = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "benchmark-only-secret-key-not-for-production-0123456789",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "SAE_FIELD_ENCRYPTION_KEYS": "qZ6xDbSiET_Ql3fv26hao3db_g_N0Vj6yE336BP_fxo=",
    "DJANGO_CONN_MAX_AGE": "600",
    "DJANGO_SSL_REDIRECT": "0",
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_LOG_LEVEL": "WARNING",
    "AXES_ENABLED": "1",
    "SAE_INTAKE_POSTS_PER_MINUTE": "100000000",
}


@dataclass(frozen=True)
class Plan:
    accounts: int  # the large scale
    seconds: float  # each page's measurement, split into rounds
    rounds: int
    warmup: float
    connections: int
    creates: int  # New Contact POSTs (100 per account)
    create_clients: int
    intake_seconds: float
    alerts_per_post: int
    intake_contacts: int
    deliveries: int
    dispatch_timeout: float


FULL = Plan(10_000, 15, 3, 3, 4, 1000, 4, 15, 10, 10, 3000, 120)
QUICK = Plan(200, 4, 2, 1, 4, 200, 4, 3, 10, 10, 300, 60)


@contextlib.contextmanager
def timed(into: dict, key: str):
    started = time.perf_counter()
    yield
    into[key] = round(time.perf_counter() - started, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a run of a few minutes (smoke)")
    parser.add_argument("--accounts", type=int, help="accounts at the large scale")
    parser.add_argument("--seconds", type=float, help="seconds of each wrk measurement")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sae_bench"
        ),
        help="PostgreSQL database to (re)create; its name must start with sae_bench or sae_perf_",
    )
    parser.add_argument("--output", default="docs/benchmarks", help="where latest.* go")
    parser.add_argument(
        "--only",
        choices=ONLY_PHASES,
        help="run one phase alone, on a fresh database as usual (pages: account 1's pages; "
        "creates, merge: the writes; dispatch: the notify workers; cloud: sync_ram and ARMS "
        "pushes against the fake); its figures go to <output>/only-<phase>.json and latest.* "
        "is left alone",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.accounts:
        plan = _replace(plan, accounts=max(2, args.accounts))
    if args.seconds:
        plan = _replace(plan, seconds=args.seconds)

    for name, value in ENV_DEFAULTS.items():
        os.environ.setdefault(name, value)
    os.environ["DJANGO_SETTINGS_MODULE"] = ENV_DEFAULTS["DJANGO_SETTINGS_MODULE"]
    os.environ["DATABASE_URL"] = args.database_url
    output = Path(args.output)
    if not output.is_absolute():
        output = BASE_DIR / output
    output.mkdir(parents=True, exist_ok=True)
    logs = BASE_DIR / ".bench-output"
    logs.mkdir(exist_ok=True)

    from bench import database

    started = time.perf_counter()
    database.recreate(args.database_url)
    import django

    django.setup()
    if args.only:
        figures = Bench(plan, logs).run_only(args.only)
        figures["total_s"] = round(time.perf_counter() - started, 1)
        path = output / f"only-{args.only}.json"
        path.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
        log(f"wrote {path}")
        print(json.dumps(figures, indent=2, ensure_ascii=False))
        return 0
    results = Bench(plan, logs).run()
    results["details"]["total_s"] = round(time.perf_counter() - started, 1)

    from bench import report

    paths = report.write(results, output)
    log("wrote " + ", ".join(str(p.relative_to(BASE_DIR)) for p in paths))
    print(report.markdown(results))
    return 0


def _replace(plan: Plan, **changes) -> Plan:
    return Plan(**{**plan.__dict__, **changes})


class Bench:
    def __init__(self, plan: Plan, logs: Path):
        self.plan = plan
        self.logs = logs
        self.details: dict[str, Any] = {
            "plan": plan.__dict__,
            "contacts_per_account": 100,
            "server": "gunicorn, 2 sync workers, DEBUG off, CONN_MAX_AGE 600, whitenoise",
            "load": f"wrk, {plan.connections} connections, 2 threads, "
            f"{plan.warmup:g} s warm-up, then {plan.rounds} rounds of "
            f"{plan.seconds / plan.rounds:g} s per page",
        }
        self.setup: dict[str, float] = {}

    # --- the run -----------------------------------------------------------------------------
    def prepare(self) -> None:
        from django.core.management import call_command

        with timed(self.setup, "migrate_s"):
            call_command("migrate", verbosity=0, interactive=False)
        with timed(self.setup, "collectstatic_s"):
            call_command("collectstatic", verbosity=0, interactive=False)

    def build_measured(self) -> None:
        from bench import data

        log("building account 1 (100 RAM users, 100 linked contacts)")
        with timed(self.setup, "build_1_account_s"):
            data.build(MEASURED, MEASURED + 1)
            data.add_robots(MEASURED)
            data.analyze()
        self.operator = data.operator()
        self.details["queries"] = self.query_counts()

    def run(self) -> dict[str, Any]:
        from bench import data

        self.prepare()
        self.build_measured()
        small = self.measure_pages("1 account")
        log(f"building accounts 2..{self.plan.accounts} (bulk INSERT ... SELECT)")
        with timed(self.setup, "build_rest_s"):
            built = data.build(MEASURED + 1, self.plan.accounts + 1)
        with timed(self.setup, "analyze_s"):
            data.analyze()
        log(f"built {built.accounts} accounts in {built.seconds:.1f} s")
        large = self.measure_pages(f"{self.plan.accounts} accounts")

        writes = self.writes()
        notify = self.notification()
        results = self.results(small, large, writes, notify)
        results["cloud"] = self.cloud()
        return results

    def run_only(self, phase: str) -> dict[str, Any]:
        """One phase alone (`--only`), for measuring a change without the whole run."""
        self.prepare()
        if phase == "pages":
            self.build_measured()
            return {
                "queries": self.details["queries"],
                "at_1_account": self.measure_pages("1 account"),
            }
        if phase == "creates":
            return {"creates": self.creates(self.build_create_accounts())}
        if phase == "dispatch":
            return {"dispatch": self.dispatch()}
        if phase == "cloud":
            return {"cloud": self.cloud()}
        return {"merge": self.merge()}

    def cloud(self) -> dict[str, Any]:
        from bench import cloud

        log("cloud: sync_ram of 1,000 users and a push of 100 contacts against the fake")
        return cloud.run()

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, **extra}

    def server(self, *, workers: int = 2, threads: int = 1):
        from bench.server import Server

        return Server(self.env(), self.logs / "gunicorn.log", workers=workers, threads=threads)

    # --- sessions ----------------------------------------------------------------------------
    def session(self, user) -> str:
        """A signed-in session (made here, as a sign-in would), as a cookie header."""
        from django.conf import settings
        from django.test import Client

        client = Client()
        client.force_login(user)
        name = settings.SESSION_COOKIE_NAME
        return f"{name}={client.cookies[name].value}"

    # --- pages -------------------------------------------------------------------------------
    def page_urls(self) -> dict[str, tuple[str, str, int]]:
        """name -> (path, who, rows the answer must show)."""
        from bench import data

        account = data.account(MEASURED)
        return {
            "page": ("/contacts/", "owner", 100),
            "page_query": (f"/contacts/{PAGE_QUERY}", "owner", 10),
            "admin_changelist": (
                f"/admin/contacts/contact/?account__id__exact={account.pk}",
                "operator",
                100,
            ),
            "bare_view": ("/bench/bare/", "owner", 0),
            "admin_arms_contacts": ("/admin/arms_sync/armscontact/", "operator", 100),
            "admin_ram_users": ("/admin/ram_directory/ramuser/", "operator", 100),
            "admin_contact_search": (f"/admin/contacts/contact/{ADMIN_SEARCH}", "operator", 0),
        }

    def measure_pages(self, label: str) -> dict[str, dict]:
        """Each page under wrk, in `rounds` rounds that take the pages in turn (so that a
        noisy neighbour slows them alike, and their ratios hold): requests per second over all
        rounds, and the median of the rounds' p50 and p99."""
        from bench import data
        from bench.load import combine, wrk

        cookies = {
            "owner": self.session(data.owner(MEASURED)),
            "operator": self.session(self.operator),
        }
        pages = self.page_urls()
        runs: dict[str, list] = {name: [] for name in pages}
        sizes: dict[str, int] = {}
        with self.server() as server:
            for name, (path, who, rows) in pages.items():
                url = server.url + path
                headers = {"Cookie": cookies[who]}
                sizes[name] = _check_page(url, headers, rows)
                wrk(
                    url,
                    seconds=self.plan.warmup,
                    connections=self.plan.connections,
                    headers=headers,
                )
            # The machine's 1-minute load after each round: a phase slowed by a neighbour
            # (every page of it, the bare view too) shows here, not only in its figures.
            loads = [round(os.getloadavg()[0], 2)]
            for _round in range(self.plan.rounds):
                for name, (path, who, _rows) in pages.items():
                    runs[name].append(
                        wrk(
                            server.url + path,
                            seconds=self.plan.seconds / self.plan.rounds,
                            connections=self.plan.connections,
                            headers={"Cookie": cookies[who]},
                        )
                    )
                loads.append(round(os.getloadavg()[0], 2))
        self.details.setdefault("machine_load", {})[label] = loads
        log(f"{label}: load average before and after each round {loads}")
        figures: dict[str, dict] = {}
        for name, results in runs.items():
            result = combine(results)
            figures[name] = {
                **result.as_dict(),
                "bytes": sizes[name],
                "rounds_rps": [r.rps for r in results],
            }
            log(
                f"{label}: {name:<22} {result.rps:8.1f} req/s  p50 {result.p50_ms:7.1f} ms"
                f"  p99 {result.p99_ms:7.1f} ms  ({sizes[name]} bytes)"
            )
        return figures

    def query_counts(self) -> dict[str, int]:
        """SQL queries of page (a) for the account's 100 contacts, and for 1 (the other 99
        deleted in a transaction that is rolled back)."""
        from django.db import connection, transaction
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from bench import data
        from contacts.models import Contact

        client = Client()
        client.force_login(data.owner(MEASURED))

        def count(rows: int) -> int:
            client.get("/contacts/")  # warm: the session and caches
            with CaptureQueriesContext(connection) as captured:
                answer = client.get("/contacts/")
            expect(answer.status_code == 200, f"/contacts/ answered {answer.status_code}")
            shown = answer.content.count(b"data-contact-id=")
            expect(shown == rows, f"/contacts/ showed {shown} contacts, not {rows}")
            return len(captured.captured_queries)

        hundred = count(100)

        class Rollback(Exception):
            pass

        with contextlib.suppress(Rollback), transaction.atomic():
            contacts = Contact.objects.filter(account=data.account(MEASURED))
            keep = contacts.order_by("created_at", "id").first()
            contacts.exclude(pk=keep.pk).delete()
            one = count(1)
            raise Rollback
        return {"page_1_contact": one, "page_100_contacts": hundred}

    # --- writes ------------------------------------------------------------------------------
    def writes(self) -> dict[str, Any]:
        out = {"creates": self.creates(self.build_create_accounts())}
        out["merge"] = self.merge()
        return out

    def build_create_accounts(self) -> int:
        """The accounts that take the New Contact POSTs (100 each, no contact yet)."""
        from bench import data

        accounts = -(-self.plan.creates // 100)
        data.build(CREATE_BASE + 1, CREATE_BASE + 1 + accounts, contacts=0)
        return accounts

    def creates(self, accounts: int) -> dict[str, Any]:
        """New Contact POSTs through the server, as the panel sends them without JavaScript:
        each account's owner creates a contact for each of its RAM users (the form's RAM-user
        choice, the RAM profile's phone and email), `create_clients` at a time."""
        from bench import data
        from contacts.models import Contact
        from ram_directory.models import RamUser

        jobs: list[tuple[str, list[tuple[int, str, str]]]] = []
        for n in range(accounts):
            i = CREATE_BASE + 1 + n
            users = list(
                RamUser.objects.filter(account__account_id=data.account_id(i))
                .order_by("user_name")
                .values_list("pk", "mobile_phone", "email")
            )
            jobs.append((self.session(data.owner(i)), users[: self.plan.creates - n * 100]))
        failures: list[str] = []
        with self.server() as server:
            port = server.port
            lanes = [jobs[k :: self.plan.create_clients] for k in range(self.plan.create_clients)]
            started = time.perf_counter()
            threads = [
                threading.Thread(target=_post_contacts, args=(port, lane, failures))
                for lane in lanes
                if lane
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
        made = Contact.objects.filter(
            account__account_id__in=[data.account_id(CREATE_BASE + 1 + n) for n in range(accounts)],
            arms_contact__isnull=False,
        ).count()
        expect(not failures, f"New Contact refused: {failures[:3]}")
        expect(made == self.plan.creates, f"{made} linked contacts, not {self.plan.creates}")
        per_s = round(made / elapsed, 1)
        log(f"New Contact: {made} POSTs in {elapsed:.1f} s = {per_s}/s (all linked)")
        return {
            "count": made,
            "seconds": round(elapsed, 2),
            "per_s": per_s,
            "clients": self.plan.create_clients,
        }

    def merge(self) -> dict[str, Any]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from arms_sync.merge import apply_merge
        from bench import data
        from contacts.models import Contact
        from ram_directory.principal import Principal

        data.build(MERGE_ACCOUNT, MERGE_ACCOUNT + 1, contacts=0)
        account = data.account(MERGE_ACCOUNT)
        figures: dict[str, Any] = {}
        for run in ("first", "again"):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                report = apply_merge(principal=Principal(account))
                elapsed = time.perf_counter() - started
            figures[run] = {
                "seconds": round(elapsed, 3),
                "queries": len(captured.captured_queries),
                "report": _counts(report),
            }
        linked = Contact.objects.filter(account=account, arms_contact__isnull=False).count()
        expect(linked == 100, f"merge linked {linked} contacts, not 100")
        log(
            f"Merge Contacts (100 RAM users, none with a contact yet): "
            f"{figures['first']['seconds']} s, {figures['first']['queries']} queries"
        )
        return figures

    # --- notification ------------------------------------------------------------------------
    def notification(self) -> dict[str, Any]:
        return {"intake": self.intake(), "dispatch": self.dispatch()}

    def intake(self) -> dict[str, Any]:
        """Alertmanager posts into an account whose sae:default routes to `intake_contacts`
        contacts, each with a mailbox and a DingTalk robot (two deliveries per contact)."""
        from arms_sync.intake.models import ReceivedAlert
        from arms_sync.intake.services import rotate_token
        from arms_sync.notify.models import Delivery, Event
        from bench import data
        from bench.load import wrk

        n = self.plan.intake_contacts
        data.build(INTAKE_ACCOUNT, INTAKE_ACCOUNT + 1, ram_users=n, contacts=n)
        data.add_robots(INTAKE_ACCOUNT, wecom=False, secrets_every=0)
        account = data.account(INTAKE_ACCOUNT)
        token = rotate_token(account=account, created_by="benchmark")
        per_post = self.plan.alerts_per_post
        env = self.env(BENCH_INTAKE_TOKEN=token, BENCH_ALERTS_PER_POST=str(per_post))
        with self.server() as server:
            url = server.url + "/intake/alertmanager/"
            first = _post_alerts(url, token, per_post)
            expect(first.get("alerts") == per_post, f"the intake answered {first}")
            deliveries = first.get("deliveries")
            wrk(
                url,
                seconds=self.plan.warmup,
                connections=self.plan.connections,
                script="intake.lua",
                env=env,
            )
            result = wrk(
                url,
                seconds=self.plan.intake_seconds,
                connections=self.plan.connections,
                script="intake.lua",
                env=env,
            )
        stored = ReceivedAlert.objects.filter(account=account).count()
        expect(stored >= result.requests * per_post, "fewer alerts stored than accepted")
        alerts_per_s = round(result.rps * per_post, 1)
        log(
            f"intake: {result.rps} posts/s x {per_post} alerts = {alerts_per_s} alerts/s, "
            f"{deliveries} deliveries per post; p50 {result.p50_ms} ms"
        )
        # Nobody sends these: the dispatch figure is measured on its own rows.
        Event.objects.filter(account=account).delete()
        _clear_tasks()
        expect(not Delivery.objects.filter(account=account).exists(), "intake rows remain")
        return {
            **result.as_dict(),
            "alerts_per_post": per_post,
            "deliveries_per_post": deliveries,
            "alerts_per_s": alerts_per_s,
        }

    def dispatch(self) -> dict[str, Any]:
        """notify_worker processes sending to the loopback robot sink at internet latency, and
        the time from an Alertmanager post to the robots' receipt (bench/dispatch.py)."""
        from bench.dispatch import Dispatch

        return Dispatch(
            env=self.env(),
            logs=self.logs,
            deliveries=self.plan.deliveries,
            timeout=self.plan.dispatch_timeout,
        ).run(server_factory=self.server)

    # --- the figures -------------------------------------------------------------------------
    def results(self, small, large, writes, notify) -> dict[str, Any]:
        def ratio(a: float, b: float) -> float:
            return round(a / b, 3) if b else 0.0

        queries = self.details.pop("queries")
        setup_s = round(
            self.setup["build_1_account_s"] + self.setup["build_rest_s"] + self.setup["analyze_s"],
            1,
        )
        self.details.update(
            {
                "accounts_large": self.plan.accounts,
                "setup": self.setup,
                "at_1_account": small,
                "at_large": large,
                "creates": writes["creates"],
                "merge": writes["merge"],
                "intake": notify["intake"],
                "dispatch": notify["dispatch"],
            }
        )
        return {
            "page": _figures(small["page"]),
            "page_query": _figures(small["page_query"]),
            "admin_changelist": _figures(small["admin_changelist"]),
            "bare_view": _figures(small["bare_view"]),
            "ratios": {
                "page_over_bare": ratio(small["page"]["rps"], small["bare_view"]["rps"]),
                "page_over_admin": ratio(small["page"]["rps"], small["admin_changelist"]["rps"]),
                "growth_10000_over_1": ratio(large["page"]["p50_ms"], small["page"]["p50_ms"]),
                "admin_growth_10000_over_1": ratio(
                    large["admin_changelist"]["p50_ms"], small["admin_changelist"]["p50_ms"]
                ),
            },
            "queries": queries,
            "creates_per_s": writes["creates"]["per_s"],
            "merge_100_users_s": writes["merge"]["first"]["seconds"],
            "intake_alerts_per_s": notify["intake"]["alerts_per_s"],
            "dispatch_per_s_per_worker": notify["dispatch"]["per_s_plain_http_0ms"],
            "dispatch": {
                k: notify["dispatch"][k]
                for k in (
                    "per_s_by_latency_ms",
                    "time_to_notify_s",
                    "cpu_ms_per_delivery",
                    "tls_handshakes_per_1000",
                    "load_average",
                )
            },
            "setup_s": setup_s,
            "machine": machine(),
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "details": self.details,
        }


def _figures(result: dict) -> dict:
    return {k: result[k] for k in ("rps", "p50_ms", "p99_ms")}


def _counts(report) -> dict:
    counts = getattr(report, "counts", None)
    if callable(counts):
        counts = counts()
    return dict(counts) if isinstance(counts, dict) else {"report": str(report)[:200]}


def _check_page(url: str, headers: dict[str, str], rows: int) -> int:
    """One GET before the load: the page answers 200 signed in, with the rows it must show
    (a redirect to the sign-in page would otherwise be measured as a fast page)."""
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as answer:
        body = answer.read()
        expect(answer.status == 200 and answer.url == url, f"{url} answered {answer.status}")
    if "/admin/" in url and rows:
        shown = body.count(b'class="action-select"')
    elif rows:
        shown = body.count(b"data-contact-id=")
    else:
        shown = 0
    expect(shown == rows, f"{url} shows {shown} rows, not {rows}")
    return len(body)


def _post_contacts(port: int, lane, failures: list[str]) -> None:
    csrf = "b" * 32  # any 32-character secret: the cookie and the header carry the same one
    for cookie, users in lane:
        for pk, mobile, email in users:
            body = urllib.parse.urlencode(
                {
                    "username_kind": "ram_user",
                    "ram_user": pk,
                    "phone": mobile,
                    "mailbox": email,
                }
            )
            conn = HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request(
                "POST",
                "/contacts/new/",
                body=body,
                headers={
                    "Cookie": f"{cookie}; csrftoken={csrf}",
                    "X-CSRFToken": csrf,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
            answer = conn.getresponse()
            answer.read()
            conn.close()
            if answer.status != 302:
                failures.append(f"{mobile}: {answer.status}")


def _post_alerts(url: str, token: str, per_post: int) -> dict:
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "BenchCheck", "n": str(n)},
            "annotations": {"summary": "benchmark check"},
            "startsAt": "2026-12-01T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.bench.invalid:9090/graph",
            "fingerprint": f"{n:016x}",
        }
        for n in range(per_post)
    ]
    body = json.dumps(
        {
            "version": "4",
            "groupKey": '{}:{alertname="BenchCheck"}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "sae-console",
            "groupLabels": {"alertname": "BenchCheck"},
            "commonLabels": {"alertname": "BenchCheck"},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.bench.invalid:9093",
            "alerts": alerts,
        }
    ).encode()
    request = urllib.request.Request(
        url,
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def _clear_tasks() -> None:
    """Forget the queued send tasks of rows that were deleted."""
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()


def machine() -> dict[str, Any]:
    from django import get_version
    from django.db import connection

    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
        memory_gb = round(int(kb) / 1024 / 1024, 1)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": memory_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": get_version(),
        "postgresql": postgres,
        "wrk": wrk_version.split(" [")[0].strip(),
    }


if __name__ == "__main__":
    sys.exit(main())
