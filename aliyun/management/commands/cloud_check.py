"""`cloud_check ACCOUNT_ID`: one cheap read per API with the saved connection."""

from __future__ import annotations

from django.core.management.base import CommandError

from aliyun import services
from aliyun.check import all_ok
from aliyun.management.base import ConnectionCommand, first_failure


class Command(ConnectionCommand):
    help = (
        "Check an account's cloud connection: STS AssumeRole (a role), RAM ListUsers / GetUser, "
        "ARMS DescribeContacts, STS GetCallerIdentity."
    )

    def handle_connection(self, connection, **options):
        results = services.check(connection)
        if options["as_json"]:
            self.print_json(
                {
                    "account_id": connection.account.account_id,
                    "ok": all_ok(results),
                    "checks": [r.as_dict() for r in results],
                }
            )
        else:
            for r in results:
                self.stdout.write(f"{r.api} {r.action}: {r.message}")
        if not all_ok(results):
            raise CommandError(first_failure(results))
