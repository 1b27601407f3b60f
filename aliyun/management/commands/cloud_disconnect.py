"""`cloud_disconnect ACCOUNT_ID`: forget the account's cloud connection."""

from __future__ import annotations

from aliyun import services
from aliyun.management.base import ConnectionCommand


class Command(ConnectionCommand):
    help = "Disconnect an account from Alibaba Cloud: the local tables become the truth again."
    # Nothing to report: no --json.
    reports = False

    def handle_connection(self, connection, **options):
        services.disconnect(account=connection.account)
        self.stdout.write(f"Disconnected account {connection.account.account_id}.")
