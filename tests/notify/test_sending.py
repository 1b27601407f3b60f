"""rules §8's delivery rules, in process against the loopback robot sink: what each answer does
to the row (sent, retried with backoff, failed at once), bounded attempts, the sweeper taking
over a row whose worker died, the per-robot rate and the digest, Resend and the Test button."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from arms_sync.notify import outbox, ratelimit, sending, services
from arms_sync.notify.models import Delivery, DeliveryAttempt, Event, RobotRateSlot
from arms_sync.notify.outbox import Recipient
from arms_sync.notify.sweeper import sweep
from ram_directory.principal import Principal
from tests.notify.support import deliveries_of, drain, max_in_window, run_commit_callbacks

pytestmark = pytest.mark.django_db

Status = Delivery.Status
FAST_RETRIES = override_settings(
    NOTIFY_BACKOFF_SECONDS=0.001, NOTIFY_BACKOFF_MAX_SECONDS=0.002, NOTIFY_MAX_ATTEMPTS=3
)


def one_robot_event(account, sink, token, capture, *, kind="dingtalk", title="t"):
    with run_commit_callbacks(capture):
        event = outbox.record_event(
            account=account,
            kind=Event.Kind.TEST,
            title=title,
            recipients=[
                Recipient(
                    name="alice",
                    phone="+8613800000001",
                    **{f"{kind}_url": sink.url(kind, token)},
                )
            ],
        )
    (delivery,) = deliveries_of(event)
    return delivery


@pytest.mark.parametrize(
    ("token", "kind", "hint", "errcode", "http_status"),
    [
        ("err310000-aaa", "dingtalk", "keyword_or_signature", 310000, 200),
        ("err300001-aaa", "dingtalk", "invalid_robot", 300001, 200),
        ("err93000-aaa", "wecom", "invalid_robot", 93000, 200),
    ],
)
def test_permanent_answers_fail_at_once_with_the_reason(
    account, robot_sink, django_capture_on_commit_callbacks, token, kind, hint, errcode, http_status
):
    """rules §8: invalid-token and keyword/signature answers fail at once; HTTP 200 with a
    non-zero errcode is never a success."""
    delivery = one_robot_event(
        account, robot_sink, token, django_capture_on_commit_callbacks, kind=kind
    )
    assert delivery.status == Status.FAILED
    assert delivery.attempts == 1
    assert delivery.last_hint == hint
    assert str(errcode) in delivery.last_error
    (attempt,) = delivery.attempt_log.all()
    assert (attempt.outcome, attempt.errcode, attempt.http_status) == (
        "failed",
        errcode,
        http_status,
    )
    assert len(robot_sink.received(token)) == 1


@FAST_RETRIES
@pytest.mark.parametrize(
    ("token", "hint"),
    [("err130101-aaa", "throttled"), ("http500-aaa", "server_error"), ("http429-aaa", "throttled")],
)
def test_retryable_answers_are_retried_with_backoff_up_to_the_attempt_limit(
    account, robot_sink, django_capture_on_commit_callbacks, token, hint
):
    """rules §8: rate-limit answers and 5xx are retried with exponential backoff, bounded."""
    delivery = one_robot_event(account, robot_sink, token, django_capture_on_commit_callbacks)
    assert delivery.status == Status.PENDING  # first attempt failed, retry scheduled
    assert delivery.last_hint == hint
    time.sleep(0.01)
    drain(django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.attempts == 3
    outcomes = list(delivery.attempt_log.values_list("outcome", flat=True))
    assert outcomes == ["retry", "retry", "failed"]
    assert len(robot_sink.received(token)) == 3


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    with override_settings(NOTIFY_BACKOFF_SECONDS=10, NOTIFY_BACKOFF_MAX_SECONDS=100):
        for attempt, (low, high) in {1: (5, 10), 2: (10, 20), 3: (20, 40), 9: (50, 100)}.items():
            delays = {round(sending.backoff(attempt), 6) for _ in range(20)}
            assert all(low <= d <= high for d in delays)
            assert len(delays) > 1  # jitter


def test_a_retry_is_not_due_before_its_backoff(
    account, robot_sink, django_capture_on_commit_callbacks
):
    with override_settings(NOTIFY_BACKOFF_SECONDS=60):
        delivery = one_robot_event(
            account, robot_sink, "http500-bbb", django_capture_on_commit_callbacks
        )
        assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=25)
        drain(django_capture_on_commit_callbacks)
    assert len(robot_sink.received("http500-bbb")) == 1


def test_a_row_left_sending_past_its_lease_is_taken_over_by_the_sweeper(
    account, robot_sink, django_capture_on_commit_callbacks
):
    """rules §8: a worker killed mid-send loses nothing: past the lease the row is sent again,
    with an attempt that says what happened."""
    event = outbox.record_event(
        account=account,
        kind=Event.Kind.TEST,
        title="lease",
        recipients=[
            Recipient(name="a", dingtalk_url=robot_sink.url("dingtalk", "ok-lease-expired"))
        ],
        claimed_by="dead-worker",
    )
    Delivery.objects.filter(event=event).update(lease_until=timezone.now() - timedelta(seconds=1))
    drain(django_capture_on_commit_callbacks)
    (delivery,) = deliveries_of(event)
    assert delivery.status == Status.SENT
    hints = list(delivery.attempt_log.values_list("hint", flat=True))
    assert hints == ["lease_expired", "ok"]


def test_a_row_held_within_its_lease_is_left_alone(account, django_capture_on_commit_callbacks):
    outbox.record_event(
        account=account,
        kind=Event.Kind.TEST,
        title="held",
        recipients=[Recipient(name="a", email="a@example.com")],
        claimed_by="live-worker",
    )
    report = sweep()
    assert (report.reclaimed, report.enqueued) == (0, 0)
    assert Delivery.objects.get().status == Status.SENDING


def test_a_duplicate_task_sends_nothing_twice(
    account, robot_sink, django_capture_on_commit_callbacks
):
    """Claiming is conditional: a second task for a sent row finds nothing to do."""
    delivery = one_robot_event(
        account, robot_sink, "ok-duplicate", django_capture_on_commit_callbacks
    )
    assert delivery.status == Status.SENT
    assert not sending.deliver_many([delivery.pk], worker_id="another")
    assert len(robot_sink.received("ok-duplicate")) == 1


def test_email_is_delivered_through_djangos_mail_backend(
    account, django_capture_on_commit_callbacks
):
    with run_commit_callbacks(django_capture_on_commit_callbacks):
        event = outbox.record_event(
            account=account,
            kind=Event.Kind.TEST,
            title="mail",
            payload={"contact": "alice"},
            recipients=[Recipient(name="alice", email="alice@example.com")],
        )
    (delivery,) = deliveries_of(event)
    assert delivery.status == Status.SENT
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    # A Test is titled as a test, not as an alert (issue 16).
    assert "测试" in message.subject and "告警" not in message.subject
    assert "alice" in message.subject
    assert "alice" in message.body
    assert message.alternatives and "alice" in message.alternatives[0][0]


# --- rate ---------------------------------------------------------------------------------------


@override_settings(ROBOT_RATE_WINDOW_SECONDS=1.5, ROBOT_RATE_LIMIT=20, ROBOT_DIGEST=False)
def test_one_robot_gets_at_most_20_messages_in_any_window_and_every_message_arrives(
    account, robot_sink, django_capture_on_commit_callbacks
):
    """rules §8: at most 20 messages per robot per window (shortened here to 1.5 s; a test
    on PostgreSQL keeps the real 60 seconds): the excess waits, nothing is dropped."""
    url = robot_sink.url("dingtalk", "ok-rate-window")
    with run_commit_callbacks(django_capture_on_commit_callbacks):
        for i in range(60):
            outbox.record_event(
                account=account,
                kind=Event.Kind.TEST,
                title=f"m{i}",
                recipients=[Recipient(name="a", dingtalk_url=url)],
            )
    deadline = time.monotonic() + 30
    while Delivery.objects.exclude(status=Status.SENT).exists() and time.monotonic() < deadline:
        drain(django_capture_on_commit_callbacks, rounds=1)
        time.sleep(0.05)
    assert Delivery.objects.filter(status=Status.SENT).count() == 60
    times = [r.at for r in robot_sink.received("ok-rate-window")]
    assert len(times) == 60
    assert max_in_window(times, 1.5) <= 20
    # Waiting for the window is not an attempt, nor an error.
    assert set(DeliveryAttempt.objects.values_list("outcome", flat=True)) == {"sent"}


@override_settings(ROBOT_RATE_LIMIT=20, ROBOT_DIGEST=True)
def test_a_backlog_past_what_a_minute_carries_goes_as_one_digest_naming_every_alert(
    account, robot_sink, django_capture_on_commit_callbacks
):
    """rules §8: with the real 60-second window, 100 messages for one robot: at most 20 reach
    it in the minute, and every event is named (directly or in a digest)."""
    url = robot_sink.url("dingtalk", "ok-digest")
    with run_commit_callbacks(django_capture_on_commit_callbacks):
        events = [
            outbox.record_event(
                account=account,
                kind=Event.Kind.ALERT,
                title=f"CPU high on node-{i:03d}",
                recipients=[Recipient(name="a", phone="+8613800000001", dingtalk_url=url)],
            )
            for i in range(100)
        ]
    drain(django_capture_on_commit_callbacks)
    assert Delivery.objects.filter(status=Status.SENT).count() == 100
    received = robot_sink.received("ok-digest")
    assert len(received) <= 20
    texts = " ".join(r.text() for r in received)
    for event in events:
        assert event.title in texts
    digest = Delivery.objects.filter(digested__isnull=False).distinct()
    assert digest.exists()
    for request in received:
        assert len(request.raw) <= 20_000


def test_the_rate_window_is_shared_through_the_database(db):
    """Two callers (two workers) see one window: the 21st slot is refused."""
    with override_settings(ROBOT_RATE_LIMIT=20, ROBOT_RATE_WINDOW_SECONDS=60):
        taken = [ratelimit.acquire("robot-x") for _ in range(20)]
        assert all(slot is not None and wait == 0 for slot, wait in taken)
        slot, wait = ratelimit.acquire("robot-x")
        assert slot is None and 59 < wait <= 60
        assert ratelimit.acquire("robot-y")[0] is not None  # per robot
    assert RobotRateSlot.objects.filter(robot_key="robot-x").count() == 20


# --- Resend and the Test button -----------------------------------------------------------------


def test_resend_queues_a_failed_delivery_again(
    account, robot_sink, django_capture_on_commit_callbacks
):
    delivery = one_robot_event(
        account, robot_sink, "err310000-rrr", django_capture_on_commit_callbacks
    )
    assert delivery.status == Status.FAILED
    with run_commit_callbacks(django_capture_on_commit_callbacks):
        services.resend(delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED  # the sink still answers 310000 for this token
    assert delivery.attempt_log.count() == 2
    sent = one_robot_event(account, robot_sink, "ok-resend-it", django_capture_on_commit_callbacks)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.resend(delivery=sent)


def test_the_test_button_reports_each_channel_at_once_without_retries(account, robot_sink):
    """rules §8: Test goes through the real renderer, signer, limiter and transport, without
    retries, and reports each channel's answer."""
    recipient = Recipient(
        name="alice",
        phone="+8613800000001",
        email="alice@example.com",
        dingtalk_url=robot_sink.url("dingtalk", "ok-test-button"),
        wecom_url=robot_sink.url("wecom", "http500-test"),
    )
    event, results = services.send_test(principal=Principal(account), recipient=recipient)
    by_channel = {r.delivery.channel: r for r in results}
    assert by_channel["email"].answer.ok and by_channel["dingtalk"].answer.ok
    wecom = by_channel["wecom"]
    assert not wecom.answer.ok and wecom.answer.hint == "server_error"
    assert wecom.delivery.status == Status.FAILED  # no retry for a test
    assert len(robot_sink.received("http500-test")) == 1
    assert event.kind == "test"


def test_the_test_button_refuses_a_contact_without_channels(account):
    with pytest.raises(services.NothingToTest):
        services.send_test(principal=Principal(account), recipient=Recipient(name="x"))


@override_settings(ROBOT_RATE_LIMIT=2, ROBOT_RATE_WINDOW_SECONDS=60)
def test_the_test_button_reports_the_consoles_own_rate_limit(account, robot_sink):
    recipient = Recipient(name="a", dingtalk_url=robot_sink.url("dingtalk", "ok-limit-test"))
    for _ in range(2):
        _, (result,) = services.send_test(principal=Principal(account), recipient=recipient)
        assert result.answer.ok
    _, (result,) = services.send_test(principal=Principal(account), recipient=recipient)
    assert result.answer.hint == "rate_limited" and not result.answer.ok
    assert len(robot_sink.received("ok-limit-test")) == 2


@override_settings(NOTIFY_TESTS_PER_MINUTE=2)
def test_a_person_may_send_only_so_many_tests_a_minute(account):
    """The Test button may name any mailbox (Edit panel): it is capped per person."""
    recipient = Recipient(name="victim", email="victim@example.com")
    for _ in range(2):
        services.send_test(principal=Principal(account), recipient=recipient)
    with pytest.raises(services.TooManyTests) as refused:
        services.send_test(principal=Principal(account), recipient=recipient)
    assert "wait" in refused.value.message()
    assert len(mail.outbox) == 2
