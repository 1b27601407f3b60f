"""`attach_policy ACCOUNT_ID USER_NAME POLICY_NAME` (rules §2, §10)."""

from __future__ import annotations

from ram_directory import services
from ram_directory.management.base import PolicyAttachmentCommand
from ram_directory.models import Policy, RamUser


class Command(PolicyAttachmentCommand):
    help = (
        "Attach a policy (System or Custom, by name) to a RAM user of the account, as the "
        "RAM console's Permission Management tab does."
    )
    result_key = "attached"
    done_message = "Attached {policy} to {user}."

    def change(self, *, ram_user: RamUser, policy: Policy) -> None:
        services.attach_policy(ram_user=ram_user, policy=policy)
