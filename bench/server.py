"""The console as production serves it: gunicorn, debug off, collected static files, persistent
database connections; 2 sync workers for the page and write phases, and for a burst of posts
(the time-to-notify of bench/dispatch.py) the workers and threads `burst()` says. Started and
stopped by its PID."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from core.processes import stop_processes

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 2, threads: int = 1):
        self.port = free_port()
        self.env = env
        self.log_path = log
        self.workers = workers
        self.threads = threads
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self._log = self.log_path.open("a")
        self.proc = subprocess.Popen(
            [
                str(gunicorn),
                "sae_console.wsgi:application",
                f"--workers={self.workers}",
                # More than one thread: gunicorn's gthread workers (deploy/gunicorn.conf.py's
                # SAE_WEB_THREADS does the same).
                f"--threads={self.threads}",
                f"--bind=127.0.0.1:{self.port}",
                "--log-level=warning",
                "--timeout=120",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/signin/", timeout=5) as answer:
                    if answer.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        # Not left running behind the failed start (a `with Server()` block never began).
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within 60 s; see {self.log_path}")

    @property
    def described(self) -> str:
        if self.threads > 1:
            return f"gunicorn, {self.workers} workers of {self.threads} threads"
        return f"gunicorn, {self.workers} sync workers"

    def stop(self) -> None:
        stop_processes([self.proc], grace=30)
        if self.proc is not None:
            self._log.close()
        self.proc = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def burst_size(posts: int) -> tuple[int, int]:
    """Workers and threads for a burst of `posts` concurrent posts, as a deployment sized for
    bursts would run deploy/gunicorn.conf.py: its default of 2 workers per core, and enough
    threads each that every post of the burst is taken at once rather than queued behind the
    others (a post waits on PostgreSQL about as long as it computes)."""
    workers = 2 * (os.cpu_count() or 1)
    return workers, -(-posts // workers)
