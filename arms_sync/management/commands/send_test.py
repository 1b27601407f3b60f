"""`send_test ACCOUNT_ID PHONE [--json]`: the console's Test button from the command line."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from arms_sync.notify import hints
from arms_sync.notify.outbox import Recipient
from arms_sync.notify.services import TestRefused, send_test
from contacts.models import Contact
from contacts.validators import normalize_mainland_mobile
from ram_directory.management.base import AccountCommand, one_line
from ram_directory.models import Account
from ram_directory.principal import Principal

NO_CONTACT = "account {account_id} has no contact with phone {phone}"
SOME_FAILED = "{failed} of {total} channel(s) failed"


def result_row(result) -> dict[str, Any]:
    delivery, answer = result.delivery, result.answer
    return {
        "channel": delivery.channel,
        "target": delivery.target_masked,
        "ok": answer.ok,
        "status": delivery.status,
        "http_status": answer.http_status,
        "errcode": answer.errcode,
        "errmsg": answer.errmsg,
        "hint": answer.hint,
        "hint_text": hints.hint_text(answer.hint),
        "duration_ms": answer.duration_ms,
    }


class Command(AccountCommand):
    help = (
        "Send a test notification to the contact with this phone number on every channel it "
        "has (email, DingTalk robot, WeCom robot), through the real renderer, signer, rate "
        "limiter and transports, without retries; print each channel's answer. Exit status 1 "
        "when a channel failed or the input is bad."
    )

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("phone", metavar="PHONE", help="The contact's phone number.")

    def handle_account(self, account: Account, **options: Any) -> None:
        try:
            phone = normalize_mainland_mobile(options["phone"])
        except ValidationError as exc:
            raise CommandError(f"phone: {one_line(' '.join(exc.messages))}") from None
        contact = Contact.objects.for_account(account).filter(phone=phone).first()
        if contact is None:
            raise CommandError(NO_CONTACT.format(account_id=account.account_id, phone=phone))
        try:
            _, results = send_test(
                principal=Principal(account), recipient=Recipient.from_contact(contact)
            )
        except TestRefused as refused:
            raise CommandError(refused.message()) from None
        rows = [result_row(r) for r in results]
        if options["as_json"]:
            self.print_json({"contact": contact.username, "phone": str(phone), "results": rows})
        else:
            for row in rows:
                said = hints.describe_row(row)
                self.stdout.write(
                    f"{row['channel']:<9} {'sent' if row['ok'] else 'FAILED':<7} "
                    f"{row['target']}  {said}"
                )
        failed = sum(not r["ok"] for r in rows)
        if failed:
            raise CommandError(SOME_FAILED.format(failed=failed, total=len(rows)))
