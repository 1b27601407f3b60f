"""gunicorn settings for the console (`gunicorn -c deploy/gunicorn.conf.py sae_console.wsgi`).

Sync workers, so a buffering reverse proxy belongs in front (deploy/haproxy.cfg or
deploy/nginx.conf): a sync worker serves one connection at a time, and a client that opens a
connection and sends slowly, or keeps it idle, holds that worker until the timeout; two such
connections held both workers of a two-worker server for 31 s in a probe. The proxy reads
whole requests before passing them on and takes the answers at once, so workers only ever talk
to a fast local peer.

Everything can be changed from the environment (the systemd unit sets them):
SAE_BIND, SAE_WEB_WORKERS, SAE_WEB_THREADS, SAE_WEB_TIMEOUT, SAE_WEB_FORWARDED_ALLOW_IPS, and
PROMETHEUS_MULTIPROC_DIR (the directory every worker of the machine writes its metrics to).
"""

import os

bind = os.environ.get("SAE_BIND", "127.0.0.1:8000").split(",")
# About two per core: the console's requests wait on the database more than on the CPU.
workers = int(os.environ.get("SAE_WEB_WORKERS", str(2 * (os.cpu_count() or 1))))
worker_class = "sync"
# Threads per worker (SAE_WEB_THREADS): more than 1 makes them gthread workers, for a node that
# takes bursts of Alertmanager posts (each waits on PostgreSQL about as long as it computes, so
# threads overlap the waits; the benchmark's time-to-notify runs 2 per core x 3 threads).
threads = int(os.environ.get("SAE_WEB_THREADS", "1"))
# A request that runs longer than this is killed (the slowest page, Merge Contacts of 100 RAM
# users, takes well under a second).
timeout = int(os.environ.get("SAE_WEB_TIMEOUT", "30"))
graceful_timeout = 30
# Behind the proxy: keep its connections a little, never a client's.
keepalive = 5
# Recycle workers now and then (memory), staggered so they do not all restart at once.
max_requests = 2000
max_requests_jitter = 200
# The proxy's address, whose X-Forwarded-* headers gunicorn believes (Django's own trust is
# DJANGO_BEHIND_PROXY).
forwarded_allow_ips = os.environ.get("SAE_WEB_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Worker heartbeat files on a RAM disk: a slow /tmp disk must not make gunicorn think a worker
# hangs.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# gunicorn 27's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl),
# which two servers on one machine (or a node and the benchmark) would fight over; nothing
# here uses it.
control_socket_disable = True
accesslog = os.environ.get("SAE_WEB_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("SAE_WEB_LOG_LEVEL", "info")


def on_starting(server):
    """The metrics directory must exist before a worker imports prometheus-client."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        os.makedirs(path, exist_ok=True)


def post_worker_init(worker):
    """The worker has loaded the console: what it made so far lives as long as the worker and
    need not be walked by every garbage collection (core/heap.py says why and what it saves)."""
    from core.heap import freeze_startup_objects

    freeze_startup_objects()


def child_exit(server, worker):
    """A worker is gone: its live gauges go with it (its counters stay in the sums)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
