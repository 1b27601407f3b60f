"""`manage.py notify_worker`: everything delivery needs on one machine (rules §8).

It runs django-tasks-db's task worker (the send tasks, each keeping many sends in flight) and,
in a thread beside it, the periodic jobs (arms_sync.notify.periodic): first its heartbeat and
the sweeper that re-enqueues deliveries a lost task or a killed worker left behind. Start as
many as you like, on as many machines as share the PostgreSQL database: rows are claimed so that no
delivery is sent twice.
"""

from __future__ import annotations

import logging
import os
import signal

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker

from arms_sync import cloud
from arms_sync.notify import heartbeat, lanes, periodic
from arms_sync.notify.sweeper import sweep
from arms_sync.notify.tasks import worker_id as default_worker_id
from core import metrics_http
from core.heap import freeze_startup_objects
from ram_directory.management.base import OperatorCommand

logger = logging.getLogger("arms_sync.notify")
WORKER_CONN_MAX_AGE = 600


def _positive(value: str) -> float:
    number = float(value)
    if not 0 < number < 86400:
        raise ValueError(value)
    return number


def _sweeper(worker: str):
    """The worker's own periodic job: its heartbeat (for /metrics), then a sweep."""

    def run() -> str:
        heartbeat.beat(worker)  # /metrics: this worker is alive
        report = sweep()
        if report.reclaimed or report.enqueued or report.lost_tasks:
            return (
                f"{report.reclaimed} reclaimed, {report.enqueued} enqueued, "
                f"{report.lost_tasks} lost tasks closed"
            )
        return ""

    return run


def _cloud() -> None:
    # A connected account's ARMS pushes left behind, RAM sync and comparison (arms_sync.cloud;
    # nothing for the local port).
    cloud.port().periodic()


class Command(OperatorCommand):  # bad options: one `error: ...` line
    help = (
        "Send notifications: runs the task worker and the sweeper that re-enqueues deliveries "
        "left pending or claimed past their lease. Run any number, on any number of machines "
        "sharing one PostgreSQL database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=_positive,
            default=0.5,
            help="seconds between polls of an empty task queue (default 0.5)",
        )
        parser.add_argument(
            "--sweep-interval",
            type=_positive,
            default=None,
            help="seconds between sweeps (default: SAE_NOTIFY_SWEEP, 5)",
        )
        parser.add_argument("--worker-id", default=None, help="default: host:pid")
        parser.add_argument(
            "--metrics-bind",
            default=None,
            metavar="HOST:PORT",
            help="serve this worker's /metrics there (needs SAE_METRICS_TOKEN); for machines "
            "with no web server, whose /metrics would count the worker otherwise",
        )

    def handle(
        self,
        *args,
        interval,
        sweep_interval,
        worker_id: str | None = None,
        metrics_bind: str | None = None,
        **options,
    ):
        from django.tasks import task_backends

        metrics_server = self._metrics_server(metrics_bind) if metrics_bind else None

        backend = task_backends["default"]
        if not isinstance(backend, DatabaseBackend):
            raise CommandError(
                f"the default TASKS backend is {type(backend).__name__}; notify_worker needs "
                "django_tasks_db.DatabaseBackend"
            )
        # A worker runs for days and makes many short queries: keep its connections (with
        # health checks) instead of reconnecting after every task, as CONN_MAX_AGE=0 would.
        for alias in connections:
            connections[alias].settings_dict["CONN_MAX_AGE"] = WORKER_CONN_MAX_AGE
            connections[alias].settings_dict["CONN_HEALTH_CHECKS"] = True
        name = (worker_id or default_worker_id())[:64]
        every = sweep_interval or settings.NOTIFY_SWEEP_SECONDS
        runner = periodic.Runner(
            [
                periodic.Job("sweeper", lambda: every, _sweeper(name)),
                periodic.Job("cloud", lambda: every, _cloud),
            ]
        )
        # This process's batches keep taking due rows while they have room.
        lanes.in_worker.set()
        freeze_startup_objects()
        runner.start()
        self.stdout.write(
            f"notify_worker {name}: sending with up to {lanes.concurrency()} in flight; "
            f"sweeping every {every:g} s"
        )
        worker = Worker(
            queue_names=["default"],
            interval=interval,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=name,
            excluded_queue_names=[],
        )
        worker.configure_signals()
        _stop_batches_on_signal(worker)
        try:
            worker.run()
        finally:
            runner.stopping.set()
            runner.join(timeout=5)
            try:
                heartbeat.stopped(name)
            except Exception:
                logger.exception("could not remove the heartbeat of %s", name)
            if metrics_server is not None:
                metrics_server.shutdown()

    def _metrics_server(self, bind: str):
        token = os.environ.get("SAE_METRICS_TOKEN", "")
        if not token:
            raise CommandError("--metrics-bind needs SAE_METRICS_TOKEN set")
        try:
            server = metrics_http.serve(bind, token)
        except ValueError as exc:
            raise CommandError(f"--metrics-bind: {exc}") from None
        except OSError as exc:
            raise CommandError(f"--metrics-bind {bind}: {exc.strerror or exc}") from None
        self.stdout.write(f"metrics on http://{bind}/metrics")
        return server


def _stop_batches_on_signal(worker: Worker) -> None:
    """SIGTERM / SIGINT: the batch in hand takes no more rows and finishes what it has in
    flight; then the task worker stops as usual."""
    shutdown = worker.shutdown

    def stop(signum, frame):
        lanes.stopping.set()
        shutdown(signum, frame)

    for name in ("SIGINT", "SIGTERM", "SIGQUIT"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)
