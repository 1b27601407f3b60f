"""`cloud_connect ACCOUNT_ID --access-key-id ID --secret-env VAR ...`: connect an account to
its Alibaba Cloud account; saved only when the check passes, and only if no other console
account holds that Alibaba Cloud account."""

from __future__ import annotations

import os

from django.core.management.base import CommandError

from aliyun import services
from aliyun.management.base import first_failure
from aliyun.models import DEFAULT_REGION
from ram_directory.management.base import AccountCommand

SECRET_ENV_UNSET = "environment variable {name} is not set or empty (--secret-env)"


class Command(AccountCommand):
    help = (
        "Connect an account to its Alibaba Cloud account (RAM and ARMS). The AccessKey secret "
        "comes from an environment variable; nothing is saved unless RAM and ARMS both answer."
    )

    def add_options(self, parser):
        parser.add_argument("--access-key-id", required=True)
        parser.add_argument(
            "--secret-env", required=True, metavar="VAR", help="variable holding the secret"
        )
        parser.add_argument("--role-arn", default="", help="a RAM role to assume (optional)")
        parser.add_argument("--region", default=DEFAULT_REGION)
        parser.add_argument("--ram-endpoint", default="", metavar="HOST[:PORT]")
        parser.add_argument("--arms-endpoint", default="", metavar="HOST[:PORT]")
        parser.add_argument(
            "--sts-endpoint", default="", metavar="HOST[:PORT]", help="STS, always over HTTPS"
        )
        parser.add_argument("--protocol", default="https", choices=["https", "http"])
        parser.add_argument("--proxy", default="", help="outbound HTTP proxy URL (optional)")

    def handle_account(self, account, **options):
        secret = os.environ.get(options["secret_env"], "")
        if not secret:
            raise CommandError(SECRET_ENV_UNSET.format(name=options["secret_env"]))
        connection, results = services.connect(
            account=account,
            access_key_id=options["access_key_id"],
            access_key_secret=secret,
            role_arn=options["role_arn"],
            region=options["region"],
            ram_endpoint=options["ram_endpoint"],
            arms_endpoint=options["arms_endpoint"],
            sts_endpoint=options["sts_endpoint"],
            protocol=options["protocol"],
            proxy=options["proxy"],
        )
        if options["as_json"]:
            self.print_json(
                {
                    "account_id": account.account_id,
                    "connected": connection is not None,
                    "checks": [r.as_dict() for r in results],
                }
            )
        if connection is None:
            raise CommandError(first_failure(results))
        if not options["as_json"]:
            for r in results:
                self.stdout.write(f"{r.api} {r.action}: {r.message}")
            self.stdout.write(f"Connected account {account.account_id} to Alibaba Cloud.")
