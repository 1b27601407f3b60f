"""rules §8: the Alertmanager intake — authentication, answers for every kind of bad post (each
writes nothing), replays notified once, routing by notification policies with one delivery per
target, several alerts to one robot as one message, and tenant isolation."""

from __future__ import annotations

import copy
import json

import pytest
from django.test import override_settings
from django.urls import reverse

from arms_sync.intake import services
from arms_sync.intake.models import ReceivedAlert
from arms_sync.managed import ensure_managed
from arms_sync.models import ArmsContact, ContactGroup, NotificationPolicy
from arms_sync.notify.models import Delivery, Event
from tests.factories import AccountFactory, owners_contact
from tests.notify.support import run_commit_callbacks

pytestmark = pytest.mark.django_db
URL = "/intake/alertmanager/"

# Alertmanager's documented webhook payload (version 4), as Alertmanager 0.25+ sends it.
EXAMPLE = {
    "version": "4",
    "groupKey": '{}:{alertname="HighLatency"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "sae-console",
    "groupLabels": {"alertname": "HighLatency"},
    "commonLabels": {"alertname": "HighLatency", "severity": "critical", "service": "checkout"},
    "commonAnnotations": {"summary": "p99 latency above 1s"},
    "externalURL": "http://alertmanager.example:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "HighLatency",
                "severity": "critical",
                "service": "checkout",
                "instance": "10.0.0.1:8080",
            },
            "annotations": {
                "summary": "p99 latency above 1s",
                "description": "checkout p99 is 1.4s on 10.0.0.1:8080",
            },
            "startsAt": "2026-12-01T10:00:00.123456789Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph?g0.expr=latency",
            "fingerprint": "c6a1a1b0e6f0f0e1",
        },
        {
            "status": "resolved",
            "labels": {
                "alertname": "HighLatency",
                "severity": "critical",
                "service": "checkout",
                "instance": "10.0.0.2:8080",
            },
            "annotations": {"summary": "p99 latency above 1s"},
            "startsAt": "2026-12-01T09:00:00Z",
            "endsAt": "2026-12-01T09:30:00+08:00",
            "generatorURL": "http://prometheus.example:9090/graph?g0.expr=latency",
            "fingerprint": "d7b2b2c1f7a1a1f2",
        },
    ],
}


@pytest.fixture
def token(account):
    return services.rotate_token(account=account, created_by="test")


@pytest.fixture
def robot_contact(account, robot_sink):
    """The account owner's contact, with a DingTalk robot on the sink (linked to ARMS)."""
    return owners_contact(
        account,
        phone="+8613800000501",
        mailbox="oncall@example.com",
        dingtalk_webhook=robot_sink.url("dingtalk", "ok-intake-robot"),
    )


def post(client, body, *, token=None, content_type="application/json", **extra):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(URL, data=data, content_type=content_type, **headers, **extra)


def nothing_written() -> bool:
    return not (
        Event.objects.exists() or Delivery.objects.exists() or ReceivedAlert.objects.exists()
    )


def test_the_documented_example_becomes_alerts_and_one_robot_message_listing_them(
    client, token, robot_contact, robot_sink, django_capture_on_commit_callbacks
):
    with run_commit_callbacks(django_capture_on_commit_callbacks):
        response = post(client, EXAMPLE, token=token)
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["alerts"], data["events"], data["replayed"]) == (2, 2, False)
    assert data["deliveries"] == 2  # email + DingTalk of the one contact in sae:contacts
    alerts = {a.fingerprint: a for a in ReceivedAlert.objects.all()}
    assert alerts["c6a1a1b0e6f0f0e1"].status == "firing"
    assert alerts["d7b2b2c1f7a1a1f2"].status == "resolved"
    assert alerts["d7b2b2c1f7a1a1f2"].ends_at is not None
    assert alerts["c6a1a1b0e6f0f0e1"].ends_at is None  # 0001-01-01: not ended
    assert alerts["c6a1a1b0e6f0f0e1"].matched_policies == ["sae:default"]
    (message,) = robot_sink.received("ok-intake-robot")  # one message for both alerts
    text = message.text()
    assert text.index("10.0.0.1") < text.index("10.0.0.2")  # firing first, then resolved
    assert "HighLatency" in text and "critical" in text
    assert "http://prometheus.example:9090/graph?g0.expr=latency" in text
    assert "18:00:00" in text  # startsAt 10:00Z in the console's time zone (Asia/Shanghai)
    assert "@13800000501" in text


def test_a_replayed_post_notifies_once(
    client, token, robot_contact, robot_sink, django_capture_on_commit_callbacks
):
    """Alertmanager retrying after a timeout sends the same body: one notification."""
    with run_commit_callbacks(django_capture_on_commit_callbacks):
        first = post(client, EXAMPLE, token=token)
        again = post(client, EXAMPLE, token=token)
    assert first.status_code == again.status_code == 200
    assert again.json()["replayed"] is True
    assert again.json()["event"] == first.json()["event"]
    assert Event.objects.count() == 1
    assert len(robot_sink.received("ok-intake-robot")) == 1


@pytest.mark.parametrize(
    ("header", "status", "error"),
    [
        (None, 401, "missing bearer token"),
        ("Bearer sae_wrongtoken", 401, "invalid or revoked token"),
        ("Basic dXNlcjpwYXNz", 401, "missing bearer token"),
        ("Bearer ", 401, "missing bearer token"),
    ],
)
def test_a_missing_or_wrong_token_is_401_with_www_authenticate(
    client, token, header, status, error
):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post(URL, data=json.dumps(EXAMPLE), content_type="application/json", **extra)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response["WWW-Authenticate"].startswith('Bearer realm="sae-intake"')
    assert nothing_written()


def test_a_rotated_token_is_revoked_at_once(client, account, token):
    new = services.rotate_token(account=account)
    assert post(client, EXAMPLE, token=token).status_code == 401
    assert post(client, EXAMPLE, token=new).status_code == 200


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{not json", "malformed JSON"),
        (b"[]", "must be a JSON object"),
        (b'{"status": "firing", "alerts": []}', "alerts must be a non-empty list"),
        (b'{"status": "pending", "alerts": [{}]}', "status must be"),
        (b'{"version": "3", "status": "firing", "alerts": [{}]}', "version '3' is not supported"),
        (b'{"status": "firing", "alerts": ["x"]}', "alerts[0] must be an object"),
        (
            b'{"status": "firing", "alerts": [{"status": "firing", "labels": {}}]}',
            "labels must not",
        ),
        (
            b'{"status": "firing", "alerts": [{"status": "firing", "labels": {"a": 1}}]}',
            "alerts[0].labels.a must be a string",
        ),
        (
            b'{"status":"firing","alerts":[{"status":"firing","labels":{"a":"x"},'
            b'"startsAt":"2026-02-30T00:00:00Z"}]}',
            "startsAt is not a valid time",
        ),
        (
            b'{"status":"firing","alerts":[{"status":"firing","labels":{"a":"x"},'
            b'"startsAt":"yesterday"}]}',
            "startsAt is not an RFC 3339 time",
        ),
        (
            b'{"status":"firing","alerts":[{"status":"firing","labels":{"a":"\\u0000"}}]}',
            "NUL",
        ),
        (
            b'{"status":"firing","alerts":[{"status":"firing","labels":{"a":"\\ud800"}}]}',
            "lone surrogate",
        ),
        (b'{"status":"firing","alerts":[' + b"[" * 5000 + b"]" * 5000 + b"]}", "nested deeper"),
        (b"\xff\xfe", "not UTF-8"),
        (
            b'{"status":"firing","alerts":[{"status":"firing","labels":{"a":"x"},"x":'
            + b"9" * 5000
            + b"}]}",
            "malformed JSON",
        ),
    ],
)
def test_a_malformed_post_is_400_with_the_reason_and_writes_nothing(client, token, body, error):
    response = post(client, body, token=token)
    assert response.status_code == 400
    assert error in response.json()["error"]
    assert nothing_written()


def test_a_non_json_body_is_415(client, token):
    response = post(client, "status=firing", token=token, content_type="text/plain")
    assert response.status_code == 415
    assert nothing_written()


@override_settings(INTAKE_MAX_BYTES=2048)
def test_an_oversize_body_is_413(client, token):
    big = copy.deepcopy(EXAMPLE)
    big["alerts"][0]["annotations"]["description"] = "x" * 3000
    response = post(client, big, token=token)
    assert response.status_code == 413
    assert nothing_written()


def test_only_post_is_accepted(client, token):
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


@override_settings(INTAKE_POSTS_PER_MINUTE=3)
def test_posts_past_the_per_token_rate_are_429(client, token):
    statuses = [post(client, EXAMPLE, token=token).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = post(client, EXAMPLE, token=token)
    assert int(response["Retry-After"]) >= 1


def test_no_csrf_token_is_needed(token):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert post(strict, EXAMPLE, token=token).status_code == 200


def test_labels_matching_two_policies_give_one_delivery_per_target(
    client, account, token, robot_contact, robot_sink, django_capture_on_commit_callbacks
):
    managed = ensure_managed(account)
    oncall = ContactGroup.objects.create(account=account, name="oncall")
    oncall.members.add(ArmsContact.objects.get(sae_contact=robot_contact))
    policy = NotificationPolicy.objects.create(
        account=account, name="checkout-critical", match_labels={"service": "checkout"}
    )
    policy.groups.add(oncall, managed.contacts_group)
    with run_commit_callbacks(django_capture_on_commit_callbacks):
        response = post(client, EXAMPLE, token=token)
    assert response.json()["deliveries"] == 2  # email and robot, once each
    alert = ReceivedAlert.objects.filter(status="firing").get()
    assert alert.matched_policies == ["checkout-critical", "sae:default"]
    assert len(robot_sink.received("ok-intake-robot")) == 1


def test_alerts_reach_only_the_contacts_their_policies_name(
    client, account, token, robot_sink, django_capture_on_commit_callbacks
):
    """Routing alert by alert: a contact gets the alerts routed to it, not the whole post."""
    ensure_managed(account).default_policy.groups.clear()  # only label routing below
    db_group = ContactGroup.objects.create(account=account, name="dba")
    dba = ArmsContact.objects.create(
        account=account,
        name="dba",
        phone="+8613800000601",
        ding_robot_url=robot_sink.url("dingtalk", "ok-dba-robot"),
    )
    db_group.members.add(dba)
    NotificationPolicy.objects.create(
        account=account, name="db", match_labels={"instance": "10.0.0.2:8080"}
    ).groups.add(db_group)
    with run_commit_callbacks(django_capture_on_commit_callbacks):
        response = post(client, EXAMPLE, token=token)
    assert response.json()["deliveries"] == 1
    (message,) = robot_sink.received("ok-dba-robot")
    assert "10.0.0.2" in message.text() and "10.0.0.1" not in message.text()
    unrouted = ReceivedAlert.objects.get(status="firing")
    assert unrouted.matched_policies == ["sae:default"]  # matched, but its group is empty


def test_a_disabled_policy_routes_nothing(client, account, token, robot_contact):
    policy = ensure_managed(account).default_policy
    policy.enabled = False
    policy.save()
    response = post(client, EXAMPLE, token=token)
    assert response.json()["deliveries"] == 0
    assert ReceivedAlert.objects.count() == 2  # received and shown, even if nobody is told


def test_a_token_of_one_account_never_creates_events_in_another(client, account, token):
    other = AccountFactory()
    services.rotate_token(account=other)
    post(client, EXAMPLE, token=token)
    assert Event.objects.filter(account=other).count() == 0
    assert ReceivedAlert.objects.filter(account=other).count() == 0
    assert Event.objects.filter(account=account).count() == 1


def test_the_stored_token_is_a_hash(account, token):
    from arms_sync.intake.models import IntakeToken

    row = IntakeToken.objects.get(account=account)
    assert token not in (row.token_hash, row.prefix) and token.startswith(row.prefix)
    assert reverse("intake_alertmanager") == URL


def test_intake_token_command_prints_a_working_token_and_the_snippet(client, account):
    from tests.commands import run

    data = json.loads(
        run("intake_token", account.account_id, "--json", "--url", "https://c.example")
    )
    assert data["url"] == "https://c.example/intake/alertmanager/"
    assert f"credentials: {data['token']}" in data["snippet"]
    assert "url: https://c.example/intake/alertmanager/" in data["snippet"]
    assert post(client, EXAMPLE, token=data["token"]).status_code == 200
    again = json.loads(run("intake_token", account.account_id, "--json"))
    assert post(client, EXAMPLE, token=data["token"]).status_code == 401  # revoked
    assert again["token"] != data["token"]


def test_intake_token_for_an_unknown_account_is_one_line(db):
    from django.core.management.base import CommandError

    from tests.commands import run

    with pytest.raises(CommandError, match="no account with ID 4"):
        run("intake_token", "4")
