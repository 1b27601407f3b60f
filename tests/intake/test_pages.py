"""rules §8 in the console: the Alerts page (received alerts, labels, matched policies, their
deliveries) and the Alertmanager intake page (endpoint, token state, owner-only rotation, the
snippet). Who may see them, tenant isolation, a fixed number of queries."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from arms_sync.intake import services
from arms_sync.intake.models import Alert, IntakeToken
from tests.factories import AccountFactory, RamUserFactory, owner_of, owners_contact
from tests.intake.support import post_alerts
from tests.intake.test_endpoint import EXAMPLE
from tests.integration.contacts_support import grant_list_users

pytestmark = pytest.mark.django_db
ALERTS = reverse("alerts:alert_list")
INTAKE = reverse("alerts:intake")


def receive(client, token, fingerprint="", **changes):
    body = json.loads(json.dumps(EXAMPLE))
    for position, alert in enumerate(body["alerts"]):
        alert["labels"].update(changes)
        if fingerprint:
            alert["fingerprint"] = f"{fingerprint}-{position}"
    return post_alerts(client, token, body).json()


@pytest.fixture
def received(client, account):
    owners_contact(account, phone="+8613800000901", mailbox="oncall@example.com")
    token = services.rotate_token(account=account)
    receive(client, token)
    return token


def test_the_alerts_page_shows_each_alert_its_state_policies_and_notified_count(
    client, owner_client, received
):
    response = owner_client.get(ALERTS)
    assert response.status_code == 200
    assert response["Cache-Control"].count("no-store")
    html = response.content.decode()
    assert html.count('data-testid="alert-status"') == 2
    assert "p99 latency above 1s" in html and "sae:default" in html
    assert html.count('data-testid="alert-notified"') == 2
    firing = owner_client.get(ALERTS, {"status": "firing"}).content.decode()
    assert firing.count('data-testid="alert-status"') == 1


def test_a_page_of_alerts_costs_the_same_queries_for_2_and_40(client, owner_client, received):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(ALERTS).status_code == 200
        return len(captured)

    queries()  # warm the session
    two = queries()
    for i in range(19):
        receive(client, received, run=str(i), fingerprint=f"run-{i}")
    assert Alert.objects.count() == 40
    assert queries() == two


def test_who_may_see_the_alert_pages(client, account, received, sign_in):
    carol = RamUserFactory(account=account, user_name="carol")
    alice = grant_list_users(RamUserFactory(account=account, user_name="alice"))
    assert sign_in(carol).get(ALERTS).status_code == 403
    assert sign_in(carol).get(INTAKE).status_code == 403
    assert sign_in(alice).get(ALERTS).status_code == 200
    page = sign_in(alice).get(INTAKE)
    assert page.status_code == 200 and b'data-testid="rotate-token"' not in page.content


def test_another_accounts_alerts_are_not_shown(client, account, received, sign_in):
    other = AccountFactory()
    html = sign_in(owner_of(other)).get(ALERTS).content.decode()
    assert 'data-testid="alert-status"' not in html


def test_only_the_owner_rotates_and_the_new_token_is_shown_once(
    client, account, owner_client, sign_in
):
    alice = grant_list_users(RamUserFactory(account=account, user_name="alice"))
    assert sign_in(alice).post(INTAKE).status_code == 403
    assert not IntakeToken.objects.filter(account=account).exists()
    owner_client.force_login(owner_of(account))
    response = owner_client.post(INTAKE)
    assert response.status_code == 200
    html = response.content.decode()
    token_start = html.index('data-testid="new-token">') + len('data-testid="new-token">')
    token = html[token_start : html.index("</code>", token_start)]
    assert token.startswith("sae_")
    assert f"credentials: {token}" in html  # the snippet carries it, this once
    assert "http://testserver/intake/alertmanager/" in html
    again = owner_client.get(INTAKE).content.decode()
    assert token not in again and "credentials: &lt;token&gt;" in again
    assert receive(client, token)["alerts"] == 2
