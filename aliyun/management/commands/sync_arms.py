"""`sync_arms ACCOUNT_ID`: push every pending change to ARMS now, and wait for the answers."""

from __future__ import annotations

import time

from django.core.management.base import CommandError
from django.utils import timezone

from aliyun.management.base import ConnectionCommand
from aliyun.models import ArmsPush
from aliyun.push import PushReport, push_account

STILL_PENDING = "{pending} change(s) still pending after {seconds:g} s ({error})"
FAILED = "{failed} change(s) failed: {errors}"


class Command(ConnectionCommand):
    help = (
        "Push every pending change of the account to ARMS now and wait for the answers, "
        "retrying throttled and failed calls. Exit 1 if any change failed or is still pending."
    )

    def add_options(self, parser):
        parser.add_argument(
            "--timeout", type=float, default=120, help="seconds to wait at most (default 120)"
        )

    def handle_connection(self, connection, **options):
        account_pk = connection.account_id
        total = PushReport()
        deadline = time.monotonic() + options["timeout"]
        first = True
        while True:
            report = push_account(account_pk, now=first)
            first = False
            for name in ("done", "failed", "retried"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            total.errors.extend(report.errors)
            pending = ArmsPush.objects.filter(account_id=account_pk, status=ArmsPush.Status.PENDING)
            total.pending = pending.count()
            if not total.pending or time.monotonic() >= deadline:
                break
            # Wait for the first row's retry time (or another worker's lease), then go on.
            row = pending.order_by("id").first()
            wait = (row.next_attempt_at - timezone.now()).total_seconds() if row else 0
            time.sleep(min(max(wait, 0.05), 1.0, max(deadline - time.monotonic(), 0)))
        if options["as_json"]:
            self.print_json({"account_id": connection.account.account_id, **total.as_dict()})
        else:
            self.stdout.write(
                f"ARMS push of {connection.account.account_id}: {total.done} pushed, "
                f"{total.retried} retried, {total.failed} failed, {total.pending} pending."
            )
        if total.failed:
            raise CommandError(
                FAILED.format(failed=total.failed, errors="; ".join(total.errors[:3]))
            )
        if total.pending:
            last = pending.order_by("id").first()
            raise CommandError(
                STILL_PENDING.format(
                    pending=total.pending,
                    seconds=options["timeout"],
                    error=last.error if last else "",
                )
            )
