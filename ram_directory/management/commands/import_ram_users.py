"""`import_ram_users ACCOUNT_ID FILE`: RAM users from a RAM ListUsers / GetUser answer
(rules §10)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import CommandParser

from core import gate
from ram_directory import ram_import
from ram_directory.management.base import (
    ImportCommand,
    ImportFileError,
    entry_error,
    parse_json,
    password_from_env,
    read_input,
)
from ram_directory.models import Account, RamUser

BAD_SHAPE = (
    'expected RAM ListUsers JSON {"Users": {"User": [...]}} or a list of GetUser answers '
    '[{"User": {...}}]'
)
TEXT_FIELDS = {
    "UserName": "user_name",
    "UserId": "user_id",
    "DisplayName": "display_name",
    "MobilePhone": "mobile_phone",
    "Email": "email",
    "Comments": "comments",
}
DATE_FIELDS = {"CreateDate": "created_at", "UpdateDate": "updated_at"}


def load_entries(text: str) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
    """(path in the file, user object) for every user, whichever of the accepted shapes, and
    whether the file is one page of a truncated ListUsers answer."""
    data = parse_json(text)
    if isinstance(data, dict):
        users = data.get("Users")
        if not isinstance(users, dict) or not isinstance(users.get("User"), list):
            raise ImportFileError(f"Users.User: missing or not a list; {BAD_SHAPE}")
        entries = [(f"Users.User[{i}]", user) for i, user in enumerate(users["User"])]
    elif isinstance(data, list):
        entries = []
        for i, item in enumerate(data):
            if isinstance(item, dict) and isinstance(item.get("User"), dict):
                entries.append((f"[{i}].User", item["User"]))
            else:
                entries.append((f"[{i}]", item))
    else:
        raise ImportFileError(BAD_SHAPE)
    for where, user in entries:
        if not isinstance(user, dict):
            raise ImportFileError(f"{where}: must be a user object")
    truncated = isinstance(data, dict) and data.get("IsTruncated") is True
    return entries, truncated


def parse_date(where: str, value: Any) -> datetime | None:
    """RAM writes UTC with a trailing Z; a date-time without an offset is taken as UTC too."""
    if value in (None, ""):
        return None
    return gate.check_datetime(value, where=where, default_tz=UTC)


def to_record(where: str, user: dict[str, Any]) -> ram_import.RamUserRecord:
    """One entry through the gate: texts without NUL or lone surrogates and within the
    model's lengths, a UserId written as a number or a string, real dates."""
    values: dict[str, Any] = {}
    for key, name in TEXT_FIELDS.items():
        value = user.get(key)
        if value is None:
            continue
        at = f"{where}.{key}"
        limit = RamUser._meta.get_field(name).max_length
        if key == "UserId":
            values[name] = gate.check_identifier(value, where=at, max_length=limit)
        else:
            values[name] = gate.check_text(
                value, where=at, max_length=limit, single_line=key != "Comments"
            )
    if not values.get("user_name"):
        raise ImportFileError(f"{where}.UserName: missing")
    for key, name in DATE_FIELDS.items():
        values[name] = parse_date(f"{where}.{key}", user.get(key))
    return ram_import.RamUserRecord(**values)


class Command(ImportCommand):
    help = (
        "Create or update the RAM users of an account from a RAM ListUsers answer "
        '({"Users": {"User": [...]}}, as returned by the API or `aliyun ram ListUsers`) or a '
        'JSON list of GetUser answers ([{"User": {...}}]). Users are matched by user name; '
        "importing the same file again changes nothing. The whole file is checked first: one "
        "bad entry and nothing is imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="Give every imported user a console password, read from this environment "
            "variable; they sign in as user_name@<alias>.onaliyun.com.",
        )

    def handle_account(self, account: Account, **options: Any) -> None:
        password = password_from_env(options["password_env"]) if options["password_env"] else None
        entries, truncated = load_entries(read_input(options["file"]))
        records = [to_record(where, user) for where, user in entries]
        try:
            report = ram_import.import_ram_users(
                account=account, records=records, password=password
            )
        except ram_import.RamImportError as exc:
            raise entry_error(entries[exc.index][0], exc.field, exc.message) from None
        counts = {
            "created": len(report.created),
            "updated": len(report.updated),
            "unchanged": len(report.unchanged),
        }
        if options["as_json"]:
            self.print_json(
                {
                    "account_id": account.account_id,
                    **counts,
                    "passwords_set": report.passwords_set,
                    "truncated": truncated,
                    "users": {
                        "created": report.created,
                        "updated": report.updated,
                        "unchanged": report.unchanged,
                    },
                }
            )
            return
        if truncated:
            # Import never deletes, so pages can be imported one by one; say one is missing.
            self.stderr.write(
                "note: IsTruncated is true: import the next page (ListUsers with Marker) too."
            )
        line = ", ".join(f"{n} {label}" for label, n in counts.items())
        self.stdout.write(f"Account {account.account_id}: {line}.")
        if password:
            self.stdout.write(
                f"{report.passwords_set} users can sign in as <user name>@{account.upn_domain}."
            )
