"""`merge_contacts ACCOUNT_ID [--dry-run] [--json]`: Merge Contacts from the shell (rules §6)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from arms_sync import merge
from ram_directory.management.base import AccountCommand
from ram_directory.models import Account
from ram_directory.principal import Principal


def plan_table(plan: merge.MergePlan) -> list[str]:
    rows = [("USERNAME", "PHONE", "RESULT", "ARMS CONTACT / REASON")]
    for row in plan.rows:
        if row.reason:
            detail = row.reason
        elif row.arms_name_before and row.arms_name_before != row.arms_name_after:
            detail = f"{row.arms_name_before} -> {row.arms_name_after}"
        elif row.arms_name_before:
            detail = row.arms_name_after
        else:
            detail = f"new: {row.arms_name_after}"
        if row.previous_arms_name:
            detail += f" (left unlinked: {row.previous_arms_name})"
        rows.append((row.username, row.phone or "-", row.action, detail))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return [
        "  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(r)).rstrip()
        for r in rows
    ]


class Command(AccountCommand):
    help = (
        "Merge Contacts for an account, as its owner: link every RAM user (and the account "
        "itself) to the ARMS contact with its phone number, creating contacts and ARMS "
        "contacts where needed, and name each linked ARMS contact after its RAM user. "
        "--dry-run prints the preview and changes nothing."
    )

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the preview only; change nothing."
        )

    def handle_account(self, account: Account, **options: Any) -> None:
        principal = Principal(account)
        try:
            if options["dry_run"]:
                result = merge.plan_merge(principal=principal)
            else:
                result = merge.apply_merge(principal=principal)
        except merge.MergeFailed as exc:
            raise CommandError(f"nothing was merged: {exc}") from None
        if options["as_json"]:
            self.print_json(
                {
                    "account_id": principal.account.account_id,
                    "dry_run": options["dry_run"],
                    **result.as_dict(),
                }
            )
            return
        for line in plan_table(result):
            self.stdout.write(line)
        prefix = "would be (dry run)" if options["dry_run"] else "done"
        self.stdout.write(f"{prefix}: {result.summary()}")
