"""`cloud_check ACCOUNT_ID`: one cheap read per API with the saved connection."""

from __future__ import annotations

from django.core.management.base import CommandError

from aliyun import services
from aliyun.check import all_ok
from aliyun.management.base import first_failure, get_connection
from ram_directory.management.base import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Check an account's cloud connection: STS AssumeRole (a role), RAM ListUsers / GetUser, "
        "ARMS DescribeContacts, STS GetCallerIdentity."
    )
    reports = True

    def add_arguments(self, parser):
        parser.add_argument("account_id", metavar="ACCOUNT_ID")

    def handle(self, *args, **options):
        connection = get_connection(options["account_id"])
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
