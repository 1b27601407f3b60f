"""A post's cost does not grow with its size (rules §15, docs/architecture.md): the intake
locks, inserts and upserts its alerts, writes their timeline and the deliveries in bulk, so one
post runs the same queries for 2 alerts to 2 contacts as for 20 alerts to 20 contacts, whether
it opens, repeats or resolves them, and the lifecycle's counts stay right."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arms_sync.intake import services
from arms_sync.intake.models import Alert, ReceivedAlert
from arms_sync.models import ArmsContact
from tests.factories import (
    AccountFactory,
    ArmsContactFactory,
    ContactFactory,
    ContactGroupFactory,
    NotificationPolicyFactory,
)

pytestmark = pytest.mark.django_db
URL = "/intake/alertmanager/"


def body(count: int, status: str = "firing", *, nonce: str = "", name: str = "n") -> str:
    alerts = [
        {
            "status": status,
            "labels": {"alertname": "QueryCheck", "n": str(n)},
            "annotations": {"summary": "query check"},
            "startsAt": "2026-12-01T10:00:00Z",
            "endsAt": "2026-12-01T11:00:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph",
            "fingerprint": f"{name}{n:015x}",
        }
        for n in range(count)
    ]
    post = {"version": "4", "status": status, "receiver": f"sae{nonce}", "alerts": alerts}
    return json.dumps({**post, "groupKey": "{}:{}"})


def account_with(contacts: int):
    """An account whose one policy (repeat interval 0: every repeat notifies) routes every
    alert to `contacts` ARMS contacts, each linked to an SAE contact of a RAM user (the
    language of what they are sent is read through that link), each with a DingTalk robot and
    a mailbox of their own."""
    account = AccountFactory()
    group = ContactGroupFactory(account=account)
    for n in range(contacts):
        robot = f"https://oapi.dingtalk.com/robot/send?access_token=query{n}"
        linked = ContactFactory(account=account)  # an SAE contact of a RAM user
        arms = ArmsContact.objects.filter(sae_contact=linked).first()
        if arms is None:
            arms = ArmsContactFactory(account=account, sae_contact=linked)
        arms.ding_robot_url = robot
        arms.save()
        group.members.add(arms)
    policy = NotificationPolicyFactory(
        account=account, match_labels={}, repeat_interval=timedelta(0)
    )
    policy.groups.add(group)
    return account, services.rotate_token(account=account)


def queries_of(client, token, data: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            URL, data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
    assert response.status_code == 200, response.content
    assert not response.json()["replayed"]
    return len(captured)


def test_a_post_runs_the_same_queries_for_2_and_for_20_alerts_and_contacts(client):
    counts = {}
    for size in (2, 20):
        account, token = account_with(size)
        # A first post of another alert: the account's managed policy and group exist after it.
        queries_of(client, token, body(1, nonce="-first", name="f"))
        counts[size] = (
            queries_of(client, token, body(size)),  # opened
            queries_of(client, token, body(size, nonce="-again")),  # repeated
            queries_of(client, token, body(size, "resolved")),  # resolved
            queries_of(client, token, body(size, "resolved", nonce="-again")),  # quiet
        )
        changes = ReceivedAlert.objects.filter(account=account).filter(fingerprint__startswith="n")
        assert sorted(set(changes.values_list("change", flat=True))) == [
            "opened",
            "quiet",
            "repeated",
            "resolved",
        ]
        alerts = Alert.objects.filter(account=account).filter(fingerprint__startswith="n")
        assert alerts.count() == size
        # Three notifying posts, each to a robot and a mailbox per contact.
        assert set(alerts.values_list("status", "notified_count")) == {("resolved", 3 * 2 * size)}
    assert counts[2] == counts[20]
