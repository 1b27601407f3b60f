"""The background task (Django's `django.tasks`; django-tasks-db by default): one per delivery,
enqueued on commit. It receives the primary key only; the row says what is still to do."""

from __future__ import annotations

import os
import socket

from django.tasks import task

from arms_sync.notify import sending


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


@task
def deliver(delivery_id: int) -> str:
    return sending.deliver(delivery_id, worker_id=worker_id())
