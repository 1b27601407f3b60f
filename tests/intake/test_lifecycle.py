"""rules §15: an alert is one thing with a state, identified by its fingerprint (else its sorted
labels) within an account. Firing opens or re-opens it, resolved closes it with endsAt; a
repeat while firing notifies again only after the matched policy's repeat interval; a change
of state always notifies; an acknowledged firing alert sends no repeats. Titles say each thing
once; a resolved message names the firing one it closes, with the duration."""

# ruff: noqa: RUF001 (the Chinese messages use full-width punctuation)
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from arms_sync.intake import services
from arms_sync.intake.models import Alert, ReceivedAlert
from arms_sync.models import NotificationPolicy
from arms_sync.notify import render
from arms_sync.notify.models import Delivery, Event
from tests.factories import AccountFactory, owners_contact
from tests.intake.support import post_alerts

pytestmark = pytest.mark.django_db

STARTED = "2026-12-01T10:00:00Z"


def body(status="firing", *, fingerprint="fp-disk-1", ends="", **labels) -> dict:
    labels = {"alertname": "DiskFull", "severity": "warning", "instance": "db-1", **labels}
    return {
        "version": "4",
        "status": status,
        "receiver": "sae-console",
        "groupKey": "{}:{}",
        "alerts": [
            {
                "status": status,
                "labels": labels,
                "annotations": {"summary": "Disk almost full"},
                "startsAt": STARTED,
                "endsAt": ends or "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example:9090/graph",
                "fingerprint": fingerprint,
            }
        ],
    }


@pytest.fixture
def token(account):
    owners_contact(account, phone="+8613800000951", mailbox="oncall@example.com")
    return services.rotate_token(account=account)


def post(client, token, payload: dict, *, nonce: str = "") -> dict:
    # A nonce in the receiver keeps two identical posts apart from Alertmanager's retry
    # (a byte-identical body within the dedup window is a replay, not a repeat).
    return post_alerts(client, token, {**payload, "receiver": f"sae-console{nonce}"}).json()


def alert_of(account) -> Alert:
    (alert,) = Alert.objects.filter(account=account)
    return alert


def test_firing_opens_one_alert_and_repeats_within_the_interval_notify_nobody(
    client, account, token
):
    assert post(client, token, body())["deliveries"] == 1
    assert post(client, token, body(), nonce="-2")["deliveries"] == 0
    alert = alert_of(account)
    assert alert.status == "firing" and alert.notified_count == 1
    assert alert.starts_at.isoformat() == "2026-12-01T10:00:00+00:00"
    changes = list(alert.posts.order_by("id").values_list("change", "notified"))
    assert changes == [("opened", True), ("quiet", False)]
    assert alert.last_received_at > alert.first_received_at


def test_a_repeat_notifies_again_once_the_policys_repeat_interval_has_passed(
    client, account, token
):
    post(client, token, body())
    NotificationPolicy.objects.filter(account=account).update(repeat_interval=timedelta(0))
    assert post(client, token, body(), nonce="-2")["deliveries"] == 1
    alert = alert_of(account)
    assert alert.posts.order_by("-id").first().change == "repeated"
    assert alert.notified_count == 2


def test_the_default_repeat_interval_is_four_hours(account, token):
    policy = NotificationPolicy.objects.get(account=account, name="sae:default")
    assert policy.repeat_interval == timedelta(hours=4)


def test_resolved_closes_the_alert_and_re_firing_re_opens_it(client, account, token):
    post(client, token, body())
    resolved = post(client, token, body("resolved", ends="2026-12-01T10:05:30Z"))
    assert resolved["deliveries"] == 1  # a change of state always notifies
    alert = alert_of(account)
    assert alert.status == "resolved" and alert.ends_at.isoformat() == "2026-12-01T10:05:30+00:00"
    assert alert.duration == timedelta(minutes=5, seconds=30)
    assert (
        post(client, token, body("resolved", ends="2026-12-01T10:05:30Z"), nonce="-2")["deliveries"]
        == 0
    )
    assert post(client, token, body(), nonce="-3")["deliveries"] == 1
    alert.refresh_from_db()
    assert alert.status == "firing" and alert.ends_at is None
    changes = list(alert.posts.order_by("id").values_list("change", flat=True))
    assert changes == ["opened", "resolved", "quiet", "reopened"]
    assert Alert.objects.filter(account=account).count() == 1


def test_an_acknowledged_alert_sends_no_repeats_but_a_change_of_state_still_notifies(
    client, account, token
):
    post(client, token, body())
    NotificationPolicy.objects.filter(account=account).update(repeat_interval=timedelta(0))
    services.acknowledge(alert=alert_of(account), by="owner@example.com")
    assert post(client, token, body(), nonce="-2")["deliveries"] == 0
    assert post(client, token, body("resolved", ends="2026-12-01T10:05:30Z"))["deliveries"] == 1
    # Re-opened: the acknowledgement was for the earlier episode.
    post(client, token, body(), nonce="-3")
    assert alert_of(account).acknowledged_at is None


def test_only_a_firing_alert_can_be_acknowledged(client, account, token):
    post(client, token, body("resolved", ends="2026-12-01T10:05:30Z"))
    with pytest.raises(Exception, match="Only a firing alert"):
        services.acknowledge(alert=alert_of(account), by="owner")


def test_without_a_fingerprint_the_sorted_labels_identify_the_alert(client, account, token):
    post(client, token, body(fingerprint=""))
    reordered = body(fingerprint="", ends="2026-12-01T10:05:30Z")
    reordered["status"] = reordered["alerts"][0]["status"] = "resolved"
    labels = reordered["alerts"][0]["labels"]
    reordered["alerts"][0]["labels"] = dict(reversed(list(labels.items())))
    post(client, token, reordered)
    alert = alert_of(account)
    assert alert.status == "resolved" and alert.fingerprint.startswith("labels:")
    post(client, token, body(fingerprint="", instance="db-2"), nonce="-2")
    assert Alert.objects.filter(account=account).count() == 2


def test_the_same_fingerprint_in_another_account_is_another_alert(client, account, token):
    other = AccountFactory()
    other_token = services.rotate_token(account=other)
    post(client, token, body())
    post(client, other_token, body())
    assert Alert.objects.filter(fingerprint="fp-disk-1").count() == 2
    assert alert_of(other).account_id == other.pk


def test_titles_say_each_thing_once(client, account, token):
    post(client, token, body())
    event = Event.objects.get(account=account)
    assert event.title == "DiskFull"
    (delivery,) = Delivery.objects.filter(account=account)
    zh = render.render_event(event, channel="email", context=delivery.context, lang="zh-hans")
    assert zh.subject == "【告警】[触发 1] DiskFull"
    en = render.render_event(event, channel="email", context=delivery.context, lang="en")
    assert en.subject == "[Alert][FIRING:1] DiskFull"
    assert "FIRING:1" not in zh.text and en.text.count("DiskFull") == 2  # heading, the alert


def test_a_resolved_message_names_the_firing_one_with_its_duration(client, account, token):
    post(client, token, body())
    post(client, token, body("resolved", ends="2026-12-01T11:05:00Z"))
    event = Event.objects.filter(account=account).order_by("-id").first()
    (delivery,) = event.deliveries.all()
    zh = render.render_event(event, channel="email", context=delivery.context, lang="zh-hans")
    assert zh.subject == "【告警】[恢复 1] DiskFull（持续 1 小时 5 分钟）"
    assert "持续时间：1 小时 5 分钟" in zh.text
    en = render.render_event(event, channel="dingtalk", context=delivery.context, lang="en")
    assert en.subject == "[Alert][RESOLVED:1] DiskFull (lasted 1 h 5 min)"
    assert "- Lasted: 1 h 5 min" in en.markdown


def test_an_empty_field_leaves_no_empty_line(client, account, token):
    bare = body(severity="")
    bare["alerts"][0]["labels"] = {"alertname": "Bare"}
    bare["alerts"][0]["annotations"] = {}
    bare["alerts"][0]["generatorURL"] = ""
    post(client, token, bare)
    event = Event.objects.get(account=account)
    for lang in ("zh-hans", "en"):
        for channel in ("email", "dingtalk"):
            message = render.render_event(event, channel=channel, lang=lang)
            for text in (message.text, message.markdown):
                assert "\n\n\n" not in text
                assert all(
                    line.strip() not in ("-", "- ", "摘要：", "Summary:")
                    for line in text.splitlines()
                )
                assert "级别" not in text and "severity" not in text


def test_every_post_is_on_the_alerts_timeline(client, account, token):
    post(client, token, body())
    post(client, token, body(), nonce="-2")
    post(client, token, body("resolved", ends="2026-12-01T10:05:30Z"))
    alert = alert_of(account)
    assert ReceivedAlert.objects.filter(alert=alert).count() == 3
    assert alert.notified_count == 2


@pytest.mark.django_db(transaction=True)
def test_two_posts_of_one_fingerprint_at_the_same_moment_make_one_alert():
    """The unique (account, fingerprint) and the insert-then-lock survive the race: one alert,
    opened by one post; the other is its repeat (or, second, its quiet repeat)."""
    from arms_sync.intake.payload import parse
    from tests.integration.test_contact_concurrency import race

    account = AccountFactory()
    owners_contact(account, phone="+8613800000952", mailbox="a@ex.com")

    def job(i):
        raw = json.dumps({**body(), "receiver": f"racer-{i}"}).encode()
        return services.receive(account=account, post=parse(raw), body=raw).deliveries

    results, _ = race(4, job)
    assert [r[0] for r in results] == ["ok"] * 4, results
    alert = Alert.objects.get(account=account)
    assert sorted(r[1] for r in results) == [0, 0, 0, 1]  # one opened it and notified
    assert list(alert.posts.values_list("change", flat=True)).count("opened") == 1
    assert alert.posts.count() == 4 and alert.notified_count == 1
