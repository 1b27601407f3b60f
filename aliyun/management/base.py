"""What the cloud commands share: the account's connection or one `error:` line."""

from __future__ import annotations

from django.core.management.base import CommandError

from aliyun.models import CloudConnection
from ram_directory.management.base import get_account

NOT_CONNECTED = "account {account_id} is not connected to Alibaba Cloud (cloud_connect)"


def get_connection(account_id: str) -> CloudConnection:
    account = get_account(account_id)
    connection = CloudConnection.objects.select_related("account").filter(account=account).first()
    if connection is None:
        raise CommandError(NOT_CONNECTED.format(account_id=account.account_id))
    return connection


def first_failure(results) -> str:
    failed = next(r for r in results if not r.ok)
    return f"{failed.api} {failed.action} failed: {failed.code}: {failed.message}"
