"""rules §8's outbox: an event and its deliveries are written in one transaction and their sends
enqueued on commit; one delivery per (event, channel, target); a robot shared by several
contacts gets one message that names them all."""

from __future__ import annotations

import pytest
from django.db import transaction

from arms_sync.notify import outbox
from arms_sync.notify.models import Delivery, Event
from arms_sync.notify.outbox import Recipient
from tests.notify.support import deliveries_of, run_commit_callbacks

pytestmark = pytest.mark.django_db


def test_an_exception_after_the_event_is_written_leaves_no_delivery_and_no_task(
    account, django_capture_on_commit_callbacks
):
    """rules §8: the outbox is one transaction: nothing half-written, nothing enqueued."""
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        outbox.record_event(
            account=account,
            kind=Event.Kind.TEST,
            title="t",
            recipients=[Recipient(name="a", email="a@example.com")],
        )
        assert Delivery.objects.count() == 1  # written, inside the transaction
        raise RuntimeError("after the event")
    assert Event.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert callbacks == []


def test_a_commit_gives_one_delivery_per_target_and_channel_and_one_task_each(
    account, robot_sink, django_capture_on_commit_callbacks
):
    """rules §8: one delivery per (event, channel, target), each sent once."""
    ding = robot_sink.url("dingtalk", "ok-shared-ding")
    wecom = robot_sink.url("wecom", "ok-shared-wecom")
    people = [
        Recipient(
            name="alice",
            phone="+8613800000001",
            email="alice@example.com",
            dingtalk_url=ding,
            wecom_url=wecom,
        ),
        # The same mailbox in another case and the same robots: no second delivery.
        Recipient(
            name="bob",
            phone="+8613800000002",
            email="ALICE@example.com",
            dingtalk_url=ding,
            wecom_url=wecom,
        ),
    ]
    with run_commit_callbacks(django_capture_on_commit_callbacks) as callbacks:
        event = outbox.record_event(
            account=account, kind=Event.Kind.TEST, title="once", recipients=people
        )
    assert len(callbacks) == 1  # one on-commit hook enqueues every delivery
    rows = deliveries_of(event)
    assert sorted(d.channel for d in rows) == ["dingtalk", "email", "wecom"]
    assert all(d.status == Delivery.Status.SENT for d in rows), [d.last_error for d in rows]
    assert len(robot_sink.received("ok-shared-ding")) == 1
    assert len(robot_sink.received("ok-shared-wecom")) == 1


def test_one_robot_shared_by_three_contacts_gets_one_message_naming_all_three(
    account, robot_sink, django_capture_on_commit_callbacks
):
    """rules §8: a robot URL shared by several contacts gets one message per event, whose
    @mentions name them all."""
    ding = robot_sink.url("dingtalk", "ok-three-contacts")
    phones = ["+8613800000011", "+8613800000012", "+8613800000013"]
    people = [
        Recipient(name=f"user{i}", phone=phone, dingtalk_url=ding) for i, phone in enumerate(phones)
    ]
    with run_commit_callbacks(django_capture_on_commit_callbacks):
        event = outbox.record_event(
            account=account, kind=Event.Kind.TEST, title="three", recipients=people
        )
    (delivery,) = deliveries_of(event)
    assert [p["name"] for p in delivery.recipients] == ["user0", "user1", "user2"]
    (request,) = robot_sink.received("ok-three-contacts")
    assert request.body["at"]["atMobiles"] == [p[3:] for p in phones]
    text = request.text()
    for phone in phones:
        assert f"@{phone[3:]}" in text


def test_targets_are_stored_encrypted_and_shown_masked(account):
    """rules §8: the delivery row keeps the token encrypted; pages and logs use the mask."""
    token = "tok" + "x" * 40 + "9c1d"
    url = f"https://oapi.dingtalk.com/robot/send?access_token={token}"
    event = outbox.record_event(
        account=account,
        kind=Event.Kind.TEST,
        title="mask",
        recipients=[Recipient(name="a", dingtalk_url=url, dingtalk_secret="SEC" + "k" * 44)],
        claimed_by="test",  # not enqueued: nothing is sent here
    )
    (delivery,) = deliveries_of(event)
    assert token not in delivery.target_masked and delivery.target_masked.endswith("9c1d")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT target, target_secret, target_masked, target_key FROM "
            "arms_sync_delivery WHERE id = %s",
            [delivery.pk],
        )
        raw = " ".join(cursor.fetchone())
    assert token not in raw
    assert "SEC" + "k" * 44 not in raw
    assert delivery.target == url  # plaintext only in Python
