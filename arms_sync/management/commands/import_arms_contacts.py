"""`import_arms_contacts ACCOUNT_ID FILE`: ARMS alert contacts from an ARMS contact search
answer (rules §10)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from arms_sync import services
from arms_sync.models import ArmsContact
from contacts.validators import check_robot_url
from core import gate
from ram_directory.management.base import (
    ImportCommand,
    ImportFileError,
    entry_error,
    one_line,
    parse_json,
    read_input,
)
from ram_directory.models import Account

BAD_SHAPE = (
    'expected an ARMS contact search answer {"PageBean": {"Contacts": [...]}} '
    '(or {"PageBean": {"AlertContacts": [...]}})'
)
NAME_MAX_LENGTH = ArmsContact._meta.get_field("name").max_length
BAD_PHONE = "{value!r} is not a phone number (mainland numbers may omit +86; others need +<code>)"


def load_entries(text: str) -> list[dict[str, Any]]:
    data = parse_json(text)
    page = data.get("PageBean") if isinstance(data, dict) else None
    if not isinstance(page, dict):
        raise ImportFileError(f"PageBean: missing or not an object; {BAD_SHAPE}")
    key = "Contacts" if "Contacts" in page else "AlertContacts"
    entries = page.get(key)
    if not isinstance(entries, list):
        raise ImportFileError(f"PageBean.Contacts: missing or not a list; {BAD_SHAPE}")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ImportFileError(f"PageBean.{key}[{index}]: must be a contact object")
    return entries


def _text(where: str, entry: dict[str, Any], key: str, *, max_length: int = 2048) -> str:
    """A text of the entry through the gate (no NUL, no lone surrogate, no line break)."""
    value = entry.get(key)
    if value in (None, ""):
        return ""
    return gate.check_text(value, where=f"{where}.{key}", max_length=max_length, single_line=True)


def _phone(where: str, value: str) -> str:
    """E.164 when parseable: a mainland number as ARMS stores it (no +86), or +<code>…."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number) or number.extension:
        raise ImportFileError(f"{where}.Phone: {BAD_PHONE.format(value=value)}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _robot(where: str, key: str, kind: str, value: str) -> str:
    if not value:
        return ""
    try:
        return check_robot_url(kind, value)
    except ValidationError as exc:
        raise ImportFileError(f"{where}.{key}: {one_line(' '.join(exc.messages))}") from None


def _webhook_kind(url: str) -> str | None:
    """Which robot a generic WebhookUrl is, if any (ARMS webhooks may be anything)."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:  # "http://[oops": not a URL at all, so not a robot
        return None
    for kind, hosts in settings.ROBOT_WEBHOOK_HOSTS.items():
        if host in [h.lower() for h in hosts]:
            return kind
    return None


def to_record(where: str, entry: dict[str, Any], notes: list[str]) -> services.ArmsContactRecord:
    contact_id = entry.get("ContactId")
    if contact_id is not None:
        # ARMS writes it as a number or a string of digits; the column holds 64 bits.
        contact_id = gate.check_integer(contact_id, where=f"{where}.ContactId", minimum=1)
    name = _text(where, entry, "ContactName", max_length=NAME_MAX_LENGTH)
    if not name:
        raise ImportFileError(f"{where}.ContactName: missing")
    email = _text(where, entry, "Email", max_length=254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ImportFileError(f"{where}.Email: {email!r} is not an email address") from None
    ding_key = "DingRobotUrl" if entry.get("DingRobotUrl") else "DingRobot"
    ding = _robot(where, ding_key, "dingtalk", _text(where, entry, ding_key))
    wecom = _robot(where, "WeComRobot", "wecom", _text(where, entry, "WeComRobot"))
    webhook = _text(where, entry, "WebhookUrl")
    kind = _webhook_kind(webhook) if webhook else None
    if webhook and kind == "wecom" and not wecom:
        wecom = _robot(where, "WebhookUrl", "wecom", webhook)
    elif webhook and kind == "dingtalk" and not ding:
        ding = _robot(where, "WebhookUrl", "dingtalk", webhook)
    elif webhook:
        notes.append(f"{where}.WebhookUrl: not a DingTalk or WeCom robot, ignored")
    return services.ArmsContactRecord(
        name=name,
        contact_id=contact_id,
        phone=_phone(where, _text(where, entry, "Phone", max_length=64)),
        email=email,
        ding_robot_url=ding,
        wecom_robot_url=wecom,
    )


class Command(ImportCommand):
    help = (
        "Create or update the ARMS alert contacts of an account from an ARMS contact search "
        'answer ({"PageBean": {"Contacts": [...]}} or {"PageBean": {"AlertContacts": [...]}}, '
        "with ContactId, ContactName, Phone, Email, DingRobot/DingRobotUrl, WeComRobot, "
        "WebhookUrl). Contacts are matched by ContactId, then by phone; importing the same "
        "file again changes nothing. The whole file is checked first: one bad entry and "
        "nothing is imported. Importing does not link ARMS contacts to SAE contacts (creating "
        "a contact or Merge Contacts does); ARMS contacts already linked keep SAE's values."
    )

    def handle_account(self, account: Account, **options: Any) -> None:
        entries = load_entries(read_input(options["file"]))
        notes: list[str] = []
        records = [
            to_record(f"PageBean.Contacts[{i}]", entry, notes) for i, entry in enumerate(entries)
        ]
        try:
            report = services.import_arms_contacts(account=account, records=records)
        except services.ArmsImportError as exc:
            raise entry_error(f"PageBean.Contacts[{exc.index}]", exc.field, exc.message) from None
        counts = {
            "created": len(report.created),
            "updated": len(report.updated),
            "unchanged": len(report.unchanged),
            "kept_linked": len(report.kept),
        }
        if options["as_json"]:
            self.print_json(
                {
                    "account_id": account.account_id,
                    **counts,
                    "contacts": {
                        "created": report.created,
                        "updated": report.updated,
                        "unchanged": report.unchanged,
                        "kept_linked": report.kept,
                    },
                    "notes": notes,
                }
            )
            return
        for note in notes:
            self.stderr.write(f"note: {note}")
        self.stdout.write(
            f"{account.account_id}: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts['kept_linked']} linked (kept)"
        )
