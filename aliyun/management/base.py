"""What the cloud commands share: the account's connection or one `error:` line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from aliyun.models import CloudConnection
from ram_directory.management.base import AccountCommand
from ram_directory.models import Account

NOT_CONNECTED = "account {account_id} is not connected to Alibaba Cloud (cloud_connect)"


def get_connection(account: Account) -> CloudConnection:
    connection = CloudConnection.objects.select_related("account").filter(account=account).first()
    if connection is None:
        raise CommandError(NOT_CONNECTED.format(account_id=account.account_id))
    return connection


class ConnectionCommand(AccountCommand):
    """`<command> ACCOUNT_ID ... [--json]` about an account's saved cloud connection: an
    account that is not connected is the one `error:` line; else `handle_connection` runs."""

    def handle_account(self, account: Account, **options: Any) -> None:
        self.handle_connection(get_connection(account), **options)

    def handle_connection(self, connection: CloudConnection, **options: Any) -> None:
        raise NotImplementedError


def first_failure(results) -> str:
    failed = next(r for r in results if not r.ok)
    return f"{failed.api} {failed.action} failed: {failed.code}: {failed.message}"
