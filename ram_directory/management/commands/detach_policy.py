"""`detach_policy ACCOUNT_ID USER_NAME POLICY_NAME` (SPEC 2, 10)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from ram_directory import services
from ram_directory.management.base import OperatorCommand, get_account, get_policy, get_ram_user


class Command(OperatorCommand):
    help = (
        "Detach a policy (System or Custom, by name) from a RAM user of the account, as the "
        "RAM console's Permission Management tab does."
    )
    reports = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account_id", metavar="ACCOUNT_ID", help="16-digit account ID.")
        parser.add_argument("user_name", metavar="USER_NAME", help="The RAM user's user name.")
        parser.add_argument(
            "policy_name", metavar="POLICY_NAME", help="e.g. AliyunRAMReadOnlyAccess."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        account = get_account(options["account_id"])
        ram_user = get_ram_user(account, options["user_name"])
        policy = get_policy(account, options["policy_name"])
        services.detach_policy(ram_user=ram_user, policy=policy)
        if options["as_json"]:
            self.print_json(
                {
                    "account_id": account.account_id,
                    "user_name": ram_user.user_name,
                    "policy_name": policy.name,
                    "detached": True,
                }
            )
            return
        self.stdout.write(f"Detached {policy.name} from {ram_user.user_name}.")
