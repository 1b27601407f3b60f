"""The ARMS push task (django.tasks, the notification workers' queue): it receives the
account's key only; the outbox rows say what is left to do."""

from __future__ import annotations

from django.tasks import task

from aliyun import push


@task
def push_arms(account_pk: int) -> dict:
    return push.push_account(account_pk).as_dict()
