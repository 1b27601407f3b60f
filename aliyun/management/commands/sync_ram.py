"""`sync_ram ACCOUNT_ID`: read the account's RAM users, groups and policies from the cloud."""

from __future__ import annotations

from django.core.management.base import CommandError

from aliyun.clients import CloudError
from aliyun.management.base import ConnectionCommand
from aliyun.ram_sync import sync_ram


class Command(ConnectionCommand):
    help = (
        "Read RAM users, their groups and attached policies (documents included) from the "
        "account's Alibaba Cloud account; users gone from RAM lose sign-in, contacts stay."
    )

    def handle_connection(self, connection, **options):
        try:
            report = sync_ram(connection=connection)
        except CloudError as error:
            raise CommandError(f"RAM sync failed: {error}") from None
        if options["as_json"]:
            self.print_json({"account_id": connection.account.account_id, **report.as_dict()})
            return
        self.stdout.write(
            f"RAM sync of {connection.account.account_id}: {len(report.added)} added, "
            f"{len(report.updated)} updated, {len(report.removed)} removed, "
            f"{len(report.unchanged)} unchanged ({sum(report.calls.values())} calls, "
            f"{report.seconds:.2f} s)."
        )
