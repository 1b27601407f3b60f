"""`deliveries ACCOUNT_ID [--status S] [--channel C] [--event E] [--limit N] [--json]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from arms_sync.notify import hints
from arms_sync.notify.models import Delivery, Event
from ram_directory.management.base import AccountCommand, choice_option, limit_option
from ram_directory.models import Account


class Command(AccountCommand):
    help = (
        "List an account's notification deliveries, newest first, with status, event, "
        "channel, masked target, attempts and last error."
    )

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("--status", default="", help="pending, sending, sent or failed")
        parser.add_argument("--channel", default="", help="email, dingtalk or wecom")
        parser.add_argument("--event", default="", help="alert, approval or test")
        parser.add_argument("--limit", type=int, default=100, help="at most this many (100)")

    def handle_account(self, account: Account, **options: Any) -> None:
        filters = {}
        for option, field, choices in (
            ("status", "status", Delivery.Status.values),
            ("channel", "channel", Delivery.Channel.values),
            ("event", "event__kind", Event.Kind.values),
        ):
            if value := choice_option(options, option, choices):
                filters[field] = value
        limit = limit_option(options)
        rows = (
            Delivery.objects.for_account(account)
            .filter(**filters)
            .select_related("event")
            .defer("target", "target_secret")
            .order_by("-created_at", "-id")[:limit]
        )
        data = [
            {
                "id": d.pk,
                "created_at": d.created_at,
                "status": d.status,
                "event": d.event.kind,
                "title": d.event.title,
                "channel": d.channel,
                "target": d.target_masked,
                "recipients": [p["name"] for p in d.recipients],
                "attempts": d.attempts,
                "last_error": d.last_error,
                "hint": hints.hint_text(d.last_hint) if d.last_hint else "",
                "sent_at": d.sent_at,
            }
            for d in rows
        ]
        self.report_rows(
            account, "deliveries", data, options, line=delivery_line, empty="no deliveries"
        )


def delivery_line(row: dict[str, Any]) -> str:
    return (
        f"{row['id']:>6} {row['created_at']:%Y-%m-%d %H:%M:%S} UTC {row['status']:<8} "
        f"{row['event']:<8} {row['channel']:<8} {row['target']}  "
        f"attempts={row['attempts']}" + (f"  {row['last_error']}" if row["last_error"] else "")
    )
