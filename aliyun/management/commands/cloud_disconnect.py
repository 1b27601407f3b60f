"""`cloud_disconnect ACCOUNT_ID`: forget the account's cloud connection."""

from __future__ import annotations

from aliyun import services
from aliyun.management.base import get_connection
from ram_directory.management.base import OperatorCommand


class Command(OperatorCommand):
    help = "Disconnect an account from Alibaba Cloud: the local tables become the truth again."

    def add_arguments(self, parser):
        parser.add_argument("account_id", metavar="ACCOUNT_ID")

    def handle(self, *args, **options):
        connection = get_connection(options["account_id"])
        services.disconnect(account=connection.account)
        self.stdout.write(f"Disconnected account {connection.account.account_id}.")
