"""`approvals ACCOUNT_ID [--status S] [--json]`: the account's permission requests (rules §9)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from ram_directory.management.base import AccountCommand, choice_option
from ram_directory.models import Account, PermissionRequest


class Command(AccountCommand):
    help = "List an account's permission requests, newest first, with every step (who, when, what)."

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("--status", default="", help="pending, approved, rejected or withdrawn")

    def handle_account(self, account: Account, **options: Any) -> None:
        status = choice_option(options, "status", PermissionRequest.Status.values)
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
        self.report_rows(
            account, "requests", data, options, line=request_lines, empty="no permission requests"
        )


def request_lines(row: dict[str, Any]) -> str:
    """The request, then one line per step."""
    lines = [
        f"{row['id']:>5} {row['created_at']:%Y-%m-%d %H:%M} UTC {row['status']:<9} "
        f"{row['requester']:<20} {row['permission']}  {row['reason']}"
    ]
    for step in row["steps"]:
        note = f"  {step['note']}" if step["note"] and step["action"] != "requested" else ""
        lines.append(
            f"        {step['at']:%Y-%m-%d %H:%M:%S} {step['action']:<9} by {step['by']}{note}"
        )
    return "\n".join(lines)
