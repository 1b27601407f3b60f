"""`deliveries ACCOUNT_ID [--status S] [--channel C] [--event E] [--limit N] [--json]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from arms_sync.notify import hints
from arms_sync.notify.models import Delivery, Event
from ram_directory.management.base import OperatorCommand, get_account

BAD_CHOICE = "--{option} must be one of {choices}"


class Command(OperatorCommand):
    help = (
        "List an account's notification deliveries, newest first, with status, event, "
        "channel, masked target, attempts and last error."
    )
    reports = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account_id", metavar="ACCOUNT_ID", help="16-digit account ID.")
        parser.add_argument("--status", default="", help="pending, sending, sent or failed")
        parser.add_argument("--channel", default="", help="email, dingtalk or wecom")
        parser.add_argument("--event", default="", help="alert, approval or test")
        parser.add_argument("--limit", type=int, default=100, help="at most this many (100)")

    def handle(self, *args: Any, **options: Any) -> None:
        account = get_account(options["account_id"])
        filters = {}
        for option, field, choices in (
            ("status", "status", Delivery.Status.values),
            ("channel", "channel", Delivery.Channel.values),
            ("event", "event__kind", Event.Kind.values),
        ):
            value = options[option].strip()
            if value and value not in choices:
                raise CommandError(BAD_CHOICE.format(option=option, choices=", ".join(choices)))
            if value:
                filters[field] = value
        if not 1 <= options["limit"] <= 10_000:
            raise CommandError("--limit must be between 1 and 10000")
        rows = (
            Delivery.objects.for_account(account)
            .filter(**filters)
            .select_related("event")
            .defer("target", "target_secret")
            .order_by("-created_at", "-id")[: options["limit"]]
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
        if options["as_json"]:
            self.print_json({"account_id": account.account_id, "deliveries": data})
            return
        if not data:
            self.stdout.write("no deliveries")
        for row in data:
            self.stdout.write(
                f"{row['id']:>6} {row['created_at']:%Y-%m-%d %H:%M:%S} UTC {row['status']:<8} "
                f"{row['event']:<8} {row['channel']:<8} {row['target']}  "
                f"attempts={row['attempts']}"
                + (f"  {row['last_error']}" if row["last_error"] else "")
            )
