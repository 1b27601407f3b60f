"""Where a worker's sends wait on the network (rules §16: many sends in flight).

Robot sends run in one bounded thread pool per process (`SAE_NOTIFY_CONCURRENCY` threads, 64 by
default): the threads only wait on sockets, every database write stays in the thread that runs
the batch. Threads rather than asyncio because the guard, the HTTP client, the signer and the
SMTP client are the same blocking code the Test button and the commands use, and a profile of
the worker showed its time going to rendering and the database, not to switching threads (the
README's "Sending many at once" gives the figures).

Email goes through a lane of its own per batch: at most `SAE_NOTIFY_SMTP_CONNECTIONS`
connections to the mail server, each opened once and reused for every message of the batch.
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.mail import mailers

_lock = threading.Lock()
_robots: ThreadPoolExecutor | None = None
_robots_size = 0

# Set by notify_worker: its batches keep taking due rows while they have room. Elsewhere (a
# task run in the web process by an immediate backend, tests) a batch sends its own rows.
in_worker = threading.Event()
# Set when the worker is asked to stop (SIGTERM): a batch stops taking new rows and finishes
# the sends it has in flight.
stopping = threading.Event()


def concurrency() -> int:
    return max(1, int(settings.NOTIFY_CONCURRENCY))


def robot_pool() -> ThreadPoolExecutor:
    """The process's pool for robot sends (made on first use, remade if the setting changed)."""
    global _robots, _robots_size
    size = concurrency()
    with _lock:
        if _robots is None or _robots_size != size:
            old, _robots = _robots, ThreadPoolExecutor(size, thread_name_prefix="notify-send")
            _robots_size = size
            if old is not None:
                old.shutdown(wait=False)
        return _robots


def _forget_in_child() -> None:
    # A forked child has none of its parent's threads: it makes its own pool.
    global _robots, _lock
    _robots = None
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_in_child)


class SmtpLane:
    """The email sends of one batch: a few threads, each with one mailer connection kept open
    for the batch (SMTP sends reuse their connection instead of a handshake per message)."""

    def __init__(self) -> None:
        self.size = max(1, int(settings.NOTIFY_SMTP_CONNECTIONS))
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._mailers: list = []
        self._mailers_lock = threading.Lock()

    def submit(self, fn, *args):
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.size, thread_name_prefix="notify-smtp")
        return self._pool.submit(fn, *args)

    def mailer(self):
        """This thread's mailer, opened on first use (an open that fails is retried by the
        backend on send, and reported there)."""
        mailer = getattr(self._local, "mailer", None)
        if mailer is None:
            mailer = mailers.default
            self._local.mailer = mailer
            with self._mailers_lock:
                self._mailers.append(mailer)
        if getattr(mailer, "connection", True) is None:
            # Not open yet, or closed after an error: open it for the messages that follow. A
            # failure here is left to send_messages, which opens again and reports it.
            with contextlib.suppress(Exception):
                mailer.open()
        return mailer

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        for mailer in self._mailers:
            # A connection the server already dropped is closed all the same.
            with contextlib.suppress(Exception):
                mailer.close()
        self._mailers.clear()
