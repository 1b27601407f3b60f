"""Console actions on notifications: the Test button and Resend (rules §8)."""

from __future__ import annotations

import dataclasses
import math

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from arms_sync.notify import outbox, ratelimit, sending
from arms_sync.notify.models import Delivery, Event
from arms_sync.notify.outbox import Recipient
from arms_sync.notify.tasks import worker_id
from contacts import channels
from ram_directory.principal import Principal

NOTHING_TO_TEST = gettext_noop(
    "This contact has no mailbox, DingTalk Robot or WeCom Robot to test."
)
ONLY_FAILED_RESEND = gettext_noop("Only a failed delivery can be resent.")
TOO_MANY_TESTS = gettext_noop(
    "You sent {limit} tests in the last minute; wait {seconds} seconds before the next one."
)


class TestRefused(Exception):
    """A Test that is not sent; the message (translated) says why."""

    __test__ = False  # not a pytest test class

    def message(self) -> str:
        return _(self.args[0]).format(**(self.args[1] if len(self.args) > 1 else {}))


class NothingToTest(TestRefused):
    pass


class TooManyTests(TestRefused):
    pass


def only_channel(recipient: Recipient, channel: str) -> Recipient:
    """`recipient` on `channel` alone: the other channels' Recipient fields blanked."""
    return dataclasses.replace(
        recipient,
        **{
            field.recipient_key: ""
            for other in channels.all_channels()
            if other.name != channel
            for field in other.fields
        },
    )


def send_test(
    *, principal: Principal, recipient: Recipient, channel: str | None = None, run: str = ""
) -> tuple[Event, list]:
    """Send a test message to every channel of `recipient` now, through the same renderer,
    signer, rate limiter and transports as real notifications, without retries. The event and
    its deliveries are recorded like any other (truthful records); returns their results.

    `channel` filters the send to one channel (the Test dialog sends each channel on its own,
    so that each shows its own answer as it comes, issue 18); `run` names the dialog's sends in
    the events' payload, so that selectors.tally_of_test_run can add them up. The cap per minute
    counts per channel: one dialog's three channels cost what one Test of all three did."""
    if channel is not None:
        recipient = only_channel(recipient, channel)
    if not recipient.targets():
        raise NothingToTest(NOTHING_TO_TEST)
    # A Test may name any mailbox typed in the Edit panel: a cap per person keeps the button
    # from being a way to flood someone (robots have their own 20-a-minute limit too).
    limit = settings.NOTIFY_TESTS_PER_MINUTE
    key = f"test-button:{principal.account.pk}:{principal.sign_in_name}"
    slot, wait = ratelimit.acquire(f"{key}:{channel}" if channel else key, limit=limit, window=60)
    if slot is None:
        raise TooManyTests(TOO_MANY_TESTS, {"limit": limit, "seconds": math.ceil(wait)})
    sender = f"console:{worker_id()}"
    payload = {"contact": recipient.name, "requested_by": principal.name}
    if run:
        payload["run"] = run
    event = outbox.record_event(
        account=principal.account,
        kind=Event.Kind.TEST,
        title=recipient.name,  # shown beside the kind ("Test"), in either language
        payload=payload,
        recipients=[recipient],
        claimed_by=sender,
    )
    return event, sending.send_event_now(event, worker_id=sender)


def resend(*, delivery: Delivery) -> Delivery:
    """Queue a failed delivery again, with a fresh budget of attempts."""
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.FAILED).update(
            status=Delivery.Status.PENDING,
            attempts_before_resend=F("attempts"),
            next_attempt_at=timezone.now(),
            enqueued_at=timezone.now(),
            claimed_by="",
            last_hint="resent",
        )
        if not updated:
            raise PermissionDenied(ONLY_FAILED_RESEND)
        outbox.enqueue_on_commit([delivery.pk])
    delivery.refresh_from_db()
    return delivery
