"""`manage.py benchmark`: figures for the paths that grow with the data (speed is designed, and
the benchmark reports it: docs/architecture.md). Everything runs in one transaction that is
rolled back, so it leaves no trace in the database it measures."""

from __future__ import annotations

import json
import statistics
import time
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from arms_sync import merge, reconcile
from arms_sync.intake import services as intake_services
from contacts import services as contact_services
from ram_directory import services as ram_services
from ram_directory.management.base import OperatorCommand
from ram_directory.models import RamUser, User
from ram_directory.principal import Principal

BENCH_ACCOUNT_ID = "9999999999999999"


class _Rollback(Exception):
    pass


class Command(OperatorCommand):
    help = (
        "Measure the console's growing paths on a scratch account (rolled back afterwards): "
        "bulk RAM import, contact creation, the Alertmanager intake, the list pages (time and "
        "SQL queries), merge and reconcile. Prints one line per figure, or --json."
    )
    reports = True

    def add_arguments(self, parser):
        parser.add_argument(
            "--contacts",
            type=int,
            default=None,
            help="How many contacts to create (default: the account limit, 100).",
        )
        parser.add_argument(
            "--repeat", type=int, default=20, help="Page renders per list page (default 20)."
        )

    def handle(self, *args, contacts: int | None, repeat: int, as_json: bool, **options):
        limit = settings.SAE_MAX_CONTACTS
        count = limit if contacts is None else contacts
        if not 1 <= count <= limit:
            raise CommandError(f"--contacts must be between 1 and {limit}")
        if repeat < 1:
            raise CommandError("--repeat must be at least 1")
        results: dict[str, Any] = {"contacts": count, "database": connection.vendor}
        try:
            with transaction.atomic():
                self._run(results, count, repeat)
                raise _Rollback
        except _Rollback:
            pass
        if as_json:
            self.print_json(results)
            return
        for key, value in results.items():
            self.stdout.write(f"{key:<38} {value}")

    def _run(self, results: dict[str, Any], count: int, repeat: int) -> None:
        account = ram_services.create_account(
            account_id=BENCH_ACCOUNT_ID,
            login_name="benchmark@bench.invalid",
            alias="benchmark-scratch",
            password="benchmark-password-unused",
        )
        owner = Principal(account)

        with _timer(results, "ram_upsert_ms_total"):
            users = [
                ram_services.upsert_ram_user(
                    account=account,
                    user_name=f"bench{i:03d}",
                    mobile_phone=f"86-139{i:08d}",
                    email=f"bench{i:03d}@bench.invalid",
                )[0]
                for i in range(count)
            ]
        per_contact: list[float] = []
        for i, ram_user in enumerate(users[: count - 1]):
            start = time.perf_counter()
            contact_services.create_contact(
                principal=owner, ram_user=ram_user, phone=f"+86138{i:08d}"
            )
            per_contact.append((time.perf_counter() - start) * 1000)
        _summarise(results, "create_contact_ms", per_contact)

        # One user left without a contact, so merge has something to create and link.
        with _timer(results, "merge_plan_ms"):
            plan = merge.plan_merge(principal=owner)
        with _timer(results, "merge_apply_ms"):
            merge.apply_merge(principal=owner)
        results["merge_rows"] = len(plan.rows)
        with _timer(results, "reconcile_find_drift_ms"):
            drift = reconcile.find_drift(account)
        results["drift_after_merge"] = len(drift)

        client = Client()
        client.force_login(User.objects.get(account=account, ram_user__isnull=True))
        host = next((h for h in settings.ALLOWED_HOSTS if h and not h.startswith(".")), "localhost")
        with override_settings(ALLOWED_HOSTS=[host, "testserver"]):
            self._intake(results, account, host)
            for name in (
                "contacts:list",
                "arms:contact_list",
                "arms:group_list",
                "ram:user_list",
                "notify:delivery_list",
                "alerts:alert_list",
            ):
                self._page(results, client, reverse(name), name.replace(":", "_"), repeat, host)
        results["ram_users"] = RamUser.objects.for_account(account).count()

    def _intake(self, results, account, host: str, posts: int = 50, alerts: int = 5) -> None:
        """Alertmanager posts through the intake endpoint (auth, parse, route, outbox rows).
        The sends are enqueued on commit, which never comes here: this measures the intake."""
        token = intake_services.rotate_token(account=account)
        client = Client()
        started = time.perf_counter()
        for post in range(posts):
            body = {
                "version": "4",
                "status": "firing",
                "receiver": "sae-console",
                "externalURL": "http://alertmanager.bench.invalid:9093",
                "alerts": [
                    {
                        "status": "firing",
                        "labels": {"alertname": "BenchAlert", "post": str(post), "n": str(n)},
                        "annotations": {"summary": "benchmark"},
                        "startsAt": "2026-12-01T10:00:00Z",
                    }
                    for n in range(alerts)
                ],
            }
            response = client.post(
                "/intake/alertmanager/",
                data=json.dumps(body),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
                HTTP_HOST=host,
                secure=True,
            )
            if response.status_code != 200:
                raise CommandError(f"the intake answered {response.status_code}")
        elapsed = time.perf_counter() - started
        results["intake_posts"] = posts
        results["intake_alerts_per_post"] = alerts
        results["intake_posts_per_s"] = round(posts / elapsed, 1)
        results["intake_alerts_per_s"] = round(posts * alerts / elapsed, 1)

    def _page(self, results, client: Client, url: str, key: str, repeat: int, host: str) -> None:
        timings = []
        queries = 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get(url, HTTP_HOST=host, secure=True)
                timings.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}")
            queries = len(captured.captured_queries)
        _summarise(results, f"{key}_ms", timings)
        results[f"{key}_queries"] = queries


@contextmanager
def _timer(results: dict[str, Any], key: str):
    start = time.perf_counter()
    yield
    results[key] = round((time.perf_counter() - start) * 1000, 1)


def _summarise(results: dict[str, Any], key: str, values: list[float]) -> None:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    results[f"{key}_median"] = round(statistics.median(ordered), 2)
    results[f"{key}_p95"] = round(p95, 2)
