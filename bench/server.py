"""The console as production serves it: gunicorn, 2 sync workers, debug off, collected static
files, persistent database connections. Started and stopped by its PID."""

from __future__ import annotations

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
    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 2):
        self.port = free_port()
        self.env = env
        self.log_path = log
        self.workers = workers
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

    def stop(self) -> None:
        stop_processes([self.proc], grace=30)
        if self.proc is not None:
            self._log.close()
        self.proc = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
