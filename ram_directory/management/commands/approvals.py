"""`approvals ACCOUNT_ID [--status S] [--json]`: the account's permission requests (rules §9)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from ram_directory.management.base import OperatorCommand, get_account
from ram_directory.models import PermissionRequest


class Command(OperatorCommand):
    help = "List an account's permission requests, newest first, with every step (who, when, what)."
    reports = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account_id", metavar="ACCOUNT_ID", help="16-digit account ID.")
        parser.add_argument("--status", default="", help="pending, approved, rejected or withdrawn")

    def handle(self, *args: Any, **options: Any) -> None:
        account = get_account(options["account_id"])
        status = options["status"].strip()
        if status and status not in PermissionRequest.Status.values:
            choices = ", ".join(PermissionRequest.Status.values)
            raise CommandError(f"--status must be one of {choices}")
        rows = (
            PermissionRequest.objects.for_account(account)
            .select_related("requester")
            .prefetch_related("steps")
        )
        if status:
            rows = rows.filter(status=status)
        data = [
            {
                "id": r.pk,
                "requester": r.requester.user_name,
                "permission": r.permission,
                "reason": r.reason,
                "status": r.status,
                "created_at": r.created_at,
                "decided_at": r.decided_at,
                "decided_by": r.decided_by,
                "decision_reason": r.decision_reason,
                "steps": [
                    {"action": s.action, "by": s.actor, "at": s.at, "note": s.note}
                    for s in r.steps.all()
                ],
            }
            for r in rows
        ]
        if options["as_json"]:
            self.print_json({"account_id": account.account_id, "requests": data})
            return
        if not data:
            self.stdout.write("no permission requests")
        for row in data:
            self.stdout.write(
                f"{row['id']:>5} {row['created_at']:%Y-%m-%d %H:%M} UTC {row['status']:<9} "
                f"{row['requester']:<20} {row['permission']}  {row['reason']}"
            )
            for step in row["steps"]:
                note = f"  {step['note']}" if step["note"] and step["action"] != "requested" else ""
                self.stdout.write(
                    f"        {step['at']:%Y-%m-%d %H:%M:%S} {step['action']:<9} "
                    f"by {step['by']}{note}"
                )
