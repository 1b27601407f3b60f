"""rules §15 in a browser: the owner sends a test alert from the intake page, sees one row per
alert on the Alerts page (Firing first), filters by state and clears, opens an alert, follows
its timeline to a delivery and acknowledges it. The screenshots of the README's Alerts section
come from this walk (docs/screenshots/alerts*.png, copied from the test output)."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from arms_sync.intake import services as intake_services
from arms_sync.intake.models import Alert
from tests.factories import PASSWORD, AccountFactory, owner_of, owners_contact
from tests.intake.support import post_alerts

# Runs on both databases: CI refuses a browser test skipped on either.
pytestmark = [pytest.mark.django_db(transaction=True)]


def _post(token: str, status: str, fingerprint: str, **labels) -> None:
    alert = {
        "status": status,
        "labels": {"alertname": "HighLatency", "severity": "critical", **labels},
        "annotations": {"summary": "p99 latency above 1s", "description": "checkout is slow"},
        "startsAt": "2026-12-07T08:00:00Z",
        "endsAt": "2026-12-07T08:42:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=latency",
        "fingerprint": fingerprint,
    }
    body = {"version": "4", "status": status, "receiver": f"am-{status}", "alerts": [alert]}
    post_alerts(Client(), token, body)


def test_the_owner_sends_a_test_alert_filters_opens_and_acknowledges(page, live_server, shot):
    account = AccountFactory(login_name="ops@example.com")
    owners_contact(account, phone="+8613800000991", mailbox="o@ex.com")
    token = intake_services.rotate_token(account=account)
    _post(token, "firing", "fp-checkout", service="checkout", instance="10.0.0.1:8080")
    _post(token, "firing", "fp-db", alertname="DiskFull", severity="warning", instance="db-1")
    _post(token, "resolved", "fp-db", alertname="DiskFull", severity="warning", instance="db-1")

    page.goto(f"{live_server.url}/signin/")
    page.get_by_label("Login name").fill(owner_of(account).username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.goto(f"{live_server.url}/alerts/intake/")
    page.get_by_test_id("send-test-alert").click()
    expect(page.get_by_test_id("alert-table")).to_be_visible()
    rows = page.locator("tr[data-alert-id]")
    expect(rows).to_have_count(3)
    # Firing first: HighLatency; then the resolved ones, newest first (the test alert).
    expect(rows.nth(0)).to_contain_text("HighLatency")
    expect(rows.nth(0)).to_contain_text("Firing")
    expect(rows.nth(1)).to_contain_text("SAEIntakeTest")
    expect(rows.nth(2)).to_contain_text("lasted 42 min")
    shot("alerts")

    page.get_by_label("State").select_option("resolved")
    expect(rows).to_have_count(2)
    page.get_by_test_id("clear-filters").click()
    expect(rows).to_have_count(3)

    rows.nth(0).get_by_role("link", name="HighLatency").click()
    expect(page.get_by_test_id("alert-timeline")).to_be_visible()
    expect(page.get_by_test_id("alert-labels")).to_contain_text("10.0.0.1:8080")
    page.get_by_test_id("acknowledge").click()
    expect(page.get_by_test_id("acknowledged")).to_contain_text("ops@example.com")
    shot("alert-detail")
    assert Alert.objects.get(fingerprint="fp-checkout").acknowledged_by == "ops@example.com"

    page.get_by_test_id("timeline-delivery").first.click()
    expect(page.get_by_test_id("delivery-alert")).to_contain_text("HighLatency")

    page.goto(f"{live_server.url}/alerts/intake/")
    expect(page.get_by_test_id("intake-traffic")).to_contain_text("posts today")
    page.get_by_test_id("rotate-token").click()
    expect(page.get_by_test_id("rotate-confirm")).to_contain_text("Alertmanager keeps presenting")
    shot("intake")
