"""Bulk import of RAM users (rules §10: `import_ram_users`, also `seed_demo`): upsert by user
name from a RAM ListUsers / GetUser answer, every entry checked before the first write."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ram_directory.models import Account, RamUser
from ram_directory.services import RAM_USER_FIELDS, new_user_id, set_console_password

IMPORT_DUPLICATE_NAME = "user name {user_name!r} appears more than once (also at entry {first})"
IMPORT_USER_ID_OTHER_ACCOUNT = "UserId {user_id} belongs to a RAM user of another account"
IMPORT_USER_ID_OTHER_USER = "UserId {user_id} already belongs to RAM user {other!r}"
IMPORT_USER_ID_TWICE = "UserId {user_id} appears more than once (also at entry {first})"

# The RAM API's field names, for error messages that point into the operator's file.
RAM_API_FIELD_NAMES = {
    "user_id": "UserId",
    "user_name": "UserName",
    "display_name": "DisplayName",
    "mobile_phone": "MobilePhone",
    "email": "Email",
    "comments": "Comments",
    "created_at": "CreateDate",
    "updated_at": "UpdateDate",
}


@dataclass(frozen=True)
class RamUserRecord:
    """One user of a RAM ListUsers / GetUser answer, already parsed (None = field absent)."""

    user_name: str
    user_id: str | None = None
    display_name: str = ""
    mobile_phone: str = ""
    email: str = ""
    comments: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None


class RamImportError(Exception):
    """Entry `index` of the import is refused; `field` is the RAM API's field name or None."""

    def __init__(self, index: int, field: str | None, message: str):
        super().__init__(message)
        self.index = index
        self.field = field
        self.message = message


@dataclass
class RamImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    passwords_set: int = 0


def _record_values(record: RamUserRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in RAM_USER_FIELDS}


def _validate_import(account: Account, records: list[RamUserRecord]) -> dict[int, RamUser | None]:
    """Check every entry before anything is written; returns entry index -> existing user."""
    first_by_name: dict[str, int] = {}
    first_by_id: dict[str, int] = {}
    for index, record in enumerate(records):
        key = record.user_name.lower()
        if key in first_by_name:
            raise RamImportError(
                index,
                "UserName",
                IMPORT_DUPLICATE_NAME.format(user_name=record.user_name, first=first_by_name[key]),
            )
        first_by_name[key] = index
        if record.user_id:
            if record.user_id in first_by_id:
                raise RamImportError(
                    index,
                    "UserId",
                    IMPORT_USER_ID_TWICE.format(
                        user_id=record.user_id, first=first_by_id[record.user_id]
                    ),
                )
            first_by_id[record.user_id] = index
        # Field rules are the model's own (user name, RAM mobile format, email, lengths).
        candidate = RamUser(
            account=account,
            user_name=record.user_name,
            user_id=record.user_id or "0",
            **_record_values(record),
        )
        try:
            candidate.full_clean(
                exclude=["created_at", "updated_at"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as exc:
            name, messages = next(iter(exc.message_dict.items()))
            raise RamImportError(index, RAM_API_FIELD_NAMES.get(name), " ".join(messages)) from None

    # RAM user names are case-insensitive (the UPN sign-in is lower-cased), so match that way.
    existing = {
        user.user_name.lower(): user
        for user in RamUser.objects.for_account(account).select_for_update()
    }
    owners_of_ids = dict(
        RamUser.objects.filter(user_id__in=first_by_id).values_list("user_id", "account_id")
    )
    names_of_ids = dict(
        RamUser.objects.filter(user_id__in=first_by_id).values_list("user_id", "user_name")
    )
    matches: dict[int, RamUser | None] = {}
    for index, record in enumerate(records):
        current = existing.get(record.user_name.lower())
        if record.user_id and record.user_id in owners_of_ids:
            if owners_of_ids[record.user_id] != account.pk:
                raise RamImportError(
                    index, "UserId", IMPORT_USER_ID_OTHER_ACCOUNT.format(user_id=record.user_id)
                )
            holder = names_of_ids[record.user_id]
            if current is None or holder != current.user_name:
                raise RamImportError(
                    index,
                    "UserId",
                    IMPORT_USER_ID_OTHER_USER.format(user_id=record.user_id, other=holder),
                )
        matches[index] = current
    return matches


@transaction.atomic
def import_ram_users(
    *, account: Account, records: list[RamUserRecord], password: str | None = None
) -> RamImportReport:
    """Upsert RAM users by user name, all or nothing; unchanged users are not written.

    Every entry is validated before the first write, and the whole import is one transaction,
    so a refused entry (RamImportError) leaves the directory exactly as it was.
    """
    matches = _validate_import(account, records)
    report = RamImportReport()
    now = timezone.now()
    for index, record in enumerate(records):
        user = matches[index]
        values = _record_values(record)
        if user is None:
            user = RamUser(
                account=account,
                user_name=record.user_name,
                user_id=record.user_id or new_user_id(),
                created_at=record.created_at or now,
                updated_at=record.updated_at or record.created_at or now,
                **values,
            )
            user.save()
            report.created.append(user.user_name)
        else:
            wanted = {**values, "user_name": record.user_name}
            if record.user_id:
                wanted["user_id"] = record.user_id
            if record.created_at:
                wanted["created_at"] = record.created_at
            if record.updated_at:
                wanted["updated_at"] = record.updated_at
            changed = [name for name, value in wanted.items() if getattr(user, name) != value]
            if changed:
                for name in changed:
                    setattr(user, name, wanted[name])
                if "updated_at" not in wanted:
                    user.updated_at = now
                    changed.append("updated_at")
                user.save(update_fields=changed)
                report.updated.append(user.user_name)
            else:
                report.unchanged.append(user.user_name)
        if password:
            set_console_password(ram_user=user, password=password)
            report.passwords_set += 1
    return report
