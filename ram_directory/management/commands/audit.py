"""`audit ACCOUNT_ID [--since YYYY-MM-DD|ISO] [--json]`: the account's audit log, newest first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from ram_directory import audit_log
from ram_directory.management.base import AccountCommand, limit_option
from ram_directory.models import Account
from ram_directory.principal import Principal

BAD_SINCE = "--since must be a date (YYYY-MM-DD) or an ISO 8601 time, not {value!r}"


def parse_since(value: str) -> dt.date | dt.datetime:
    """A day (from its start, in the display time zone) or an exact moment (naive: local)."""
    try:
        parsed = parse_date(value) if len(value) == 10 else parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise CommandError(BAD_SINCE.format(value=value))
    if isinstance(parsed, dt.datetime) and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


class Command(AccountCommand):
    help = (
        "List an account's audit log, newest first: when, who, what action, on which object, "
        "and the fields changed (secrets masked)."
    )

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since", default="", help="only entries from this day (YYYY-MM-DD) or ISO time"
        )
        parser.add_argument("--limit", type=int, default=1000, help="at most this many (1000)")

    def handle_account(self, account: Account, **options: Any) -> None:
        since = parse_since(options["since"].strip()) if options["since"].strip() else None
        rows = audit_log.entries(Principal(account), since=since)[: limit_option(options)]
        data = [
            {
                "id": e.pk,
                "at": e.at,
                "actor": e.actor,
                "actor_kind": e.actor_kind,
                "actor_id": e.actor_ref,
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "object": e.object_label,
                "changes": e.changes,
                "note": e.note,
            }
            for e in rows
        ]
        self.report_rows(account, "entries", data, options, line=entry_line, empty="no entries")


def entry_line(row: dict[str, Any]) -> str:
    changed = ", ".join(
        f"{field}: {old!s} -> {new!s}" for field, (old, new) in row["changes"].items()
    )
    return (
        f"{timezone.localtime(row['at']):%Y-%m-%d %H:%M:%S} {row['actor']}  "
        f"{row['action']}  {row['object']}"
        + (f"  [{changed}]" if changed else "")
        + (f"  ({row['note']})" if row["note"] else "")
    )
