"""Helpers of the console tests of notification delivery (Deliveries page, Test action):
deliveries in a given state, written through the outbox as real ones are."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from arms_sync.notify import base, outbox
from arms_sync.notify.models import Delivery, DeliveryAttempt, Event
from arms_sync.notify.outbox import Recipient
from contacts.models import Contact
from ram_directory.models import Account
from tests.factories import ContactFactory
from tests.integration.contacts_support import ram_user_named
from tests.notify.sink import RobotSink

# A token and a signing secret that must never appear in a page (rules §8).
RAW_TOKEN = "err310000" + "7f3e" * 12
RAW_SECRET = "SEC" + "9d8c7b6a" * 7
DINGTALK_URL = f"https://oapi.dingtalk.com/robot/send?access_token={RAW_TOKEN}"

KEYWORD_ANSWER = {
    "hint": base.HINT_KEYWORD_OR_SIGNATURE,
    "http_status": 200,
    "errcode": 310000,
    "errmsg": "keywords not in content",
}


def contact_with_robots(account: Account, sink: RobotSink, *, tag: str, mailbox: str) -> Contact:
    """RAM user alice's contact: her DingTalk robot refuses for the keyword or signature (sink
    token `err310000-<tag>-ding`), her WeCom robot accepts (`ok-<tag>-wecom`)."""
    with transaction.atomic():  # the ARMS link locks rows (PostgreSQL needs a transaction)
        return ContactFactory(
            account=account,
            ram_user=ram_user_named(account, "alice"),
            mailbox=mailbox,
            dingtalk_webhook=sink.url("dingtalk", f"err310000-{tag}-ding"),
            wecom_webhook=sink.url("wecom", f"ok-{tag}-wecom"),
        )


def recipient(name: str = "alice", *, channel: str = base.DINGTALK, url: str = "") -> Recipient:
    """Someone reachable on one channel only."""
    if channel == base.EMAIL:
        return Recipient(name=name, phone="+8613811112222", email=url or f"{name}@example.com")
    if channel == base.WECOM:
        url = url or "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=ok-wecom-key-1"
        return Recipient(name=name, phone="+8613811112222", wecom_url=url)
    return Recipient(
        name=name,
        phone="+8613811112222",
        dingtalk_url=url or DINGTALK_URL,
        dingtalk_secret=RAW_SECRET,
    )


def make_delivery(
    account: Account,
    *,
    status: str = Delivery.Status.FAILED,
    kind: str = Event.Kind.ALERT,
    title: str = "CPU above 90% on web-1",
    channel: str = base.DINGTALK,
    url: str = "",
    name: str = "alice",
    attempts: list[dict] | None = None,
) -> Delivery:
    """One delivery of a new event, in `status`, with its attempts recorded (by default one,
    refused for the keyword or signature when failed, accepted when sent)."""
    event = outbox.record_event(
        account=account,
        kind=kind,
        title=title,
        recipients=[recipient(name, channel=channel, url=url)],
        claimed_by="console-test-support",  # written as claimed: nothing is enqueued
    )
    delivery = event.deliveries.get()
    if attempts is None:
        attempts = {
            Delivery.Status.FAILED: [KEYWORD_ANSWER],
            Delivery.Status.SENT: [{"hint": base.HINT_OK, "http_status": 200, "errcode": 0}],
        }.get(status, [])
    now = timezone.now()
    for number, answer in enumerate(attempts, start=1):
        outcome = {
            Delivery.Status.SENT: DeliveryAttempt.Outcome.SENT,
            Delivery.Status.FAILED: DeliveryAttempt.Outcome.FAILED,
        }.get(status, DeliveryAttempt.Outcome.RETRY)
        if number < len(attempts):
            outcome = DeliveryAttempt.Outcome.RETRY
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=now - timedelta(seconds=len(attempts) - number),
            duration_ms=42,
            outcome=outcome,
            worker="test-worker",
            **answer,
        )
    last = attempts[-1] if attempts else {}
    fields = {
        "status": status,
        "claimed_by": "",
        "lease_until": None,
        "attempts": len(attempts),
        "last_hint": last.get("hint", ""),
        "last_error": "HTTP 200: errcode 310000: keywords not in content"
        if status == Delivery.Status.FAILED
        else "",
        "sent_at": now if status == Delivery.Status.SENT else None,
    }
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    delivery.refresh_from_db()
    return delivery
