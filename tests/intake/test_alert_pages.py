"""rules §15 in the console: the Alerts page (one row per alert, Firing first, filters by state,
severity and labels with a Clear link, pagination keeping the filters), an alert's page
(labels, annotations, source link, timeline of posts and deliveries, Acknowledge), the links
from deliveries to their alert, the intake page (traffic, Send test alert, rotation that asks
first) and chunked posts to the intake."""

from __future__ import annotations

import http.client
import io
import json
import re
from urllib.parse import urlsplit

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from arms_sync.intake import endpoint, services
from arms_sync.intake.models import Alert, IntakeToken
from arms_sync.notify.models import Delivery
from tests.factories import AccountFactory, RamUserFactory, owner_of, owners_contact
from tests.intake.support import URL, post_alerts
from tests.intake.test_lifecycle import body, post
from tests.integration.contacts_support import grant_list_users
from tests.pages import comparable

pytestmark = pytest.mark.django_db
STARTED_5 = "2026-12-01T10:05:00Z"
ALERTS = reverse("alerts:alert_list")
INTAKE = reverse("alerts:intake")


@pytest.fixture
def token(account):
    owners_contact(account, phone="+8613800000961", mailbox="oncall@example.com")
    return services.rotate_token(account=account)


def rows(html: str) -> list[str]:
    return re.findall(r'data-alert-id="(\d+)"', html)


def test_firing_alerts_come_first_then_the_newest(client, owner_client, account, token):
    post(client, token, body(fingerprint="a"))
    post(client, token, body(fingerprint="b", alertname="Older"))
    post(client, token, body("resolved", fingerprint="a", ends="2026-12-01T10:05:00Z"))
    post(client, token, body(fingerprint="c", alertname="Newest"))
    ids = {a.fingerprint: str(a.pk) for a in Alert.objects.all()}
    html = owner_client.get(ALERTS).content.decode()
    assert rows(html) == [ids["c"], ids["b"], ids["a"]]


def test_the_filters_and_the_clear_link(client, owner_client, account, token):
    post(client, token, body(fingerprint="a", severity="critical", instance="db-1"))
    post(client, token, body(fingerprint="b", severity="warning", instance="web-7"))
    post(
        client,
        token,
        body("resolved", fingerprint="b", severity="warning", instance="web-7", ends=STARTED_5),
    )
    ids = {a.fingerprint: str(a.pk) for a in Alert.objects.all()}
    page = owner_client.get(ALERTS, {"status": "resolved"}).content.decode()
    assert rows(page) == [ids["b"]] and 'data-testid="clear-filters"' in page
    assert rows(owner_client.get(ALERTS, {"severity": "critical"}).content.decode()) == [ids["a"]]
    assert rows(owner_client.get(ALERTS, {"q": "WEB-7"}).content.decode()) == [ids["b"]]
    assert rows(owner_client.get(ALERTS, {"q": "instance=db-1"}).content.decode()) == [ids["a"]]
    # A value that is not a choice is ignored, as on the Deliveries page.
    assert len(rows(owner_client.get(ALERTS, {"status": "nope"}).content.decode())) == 2


def test_pagination_keeps_the_filters(client, owner_client, account, token):
    for i in range(26):
        post(client, token, body(fingerprint=f"f{i}"))
    html = owner_client.get(ALERTS, {"status": "firing"}).content.decode()
    assert len(rows(html)) == 25
    assert "?status=firing&amp;page=2" in html


def test_the_alert_page_shows_labels_annotations_source_and_timeline(
    client, owner_client, account, token
):
    post(client, token, body())
    post(client, token, body("resolved", ends="2026-12-01T10:05:00Z"))
    alert = Alert.objects.get()
    html = owner_client.get(reverse("alerts:alert_detail", args=[alert.pk])).content.decode()
    assert "instance" in html and "db-1" in html and "Disk almost full" in html
    assert '<a href="http://prometheus.example:9090/graph"' in html
    assert html.count('data-testid="timeline-post"') == 2
    links = re.findall(r'href="/notify/deliveries/(\d+)/" data-testid="timeline-delivery"', html)
    assert sorted(map(int, links)) == sorted(Delivery.objects.values_list("pk", flat=True))
    assert "5 min" in html  # how long it lasted


def test_only_http_links_are_rendered_as_links(client, owner_client, account, token):
    post(client, token, body())
    Alert.objects.update(generator_url="javascript:alert(1)")
    alert = Alert.objects.get()
    html = owner_client.get(reverse("alerts:alert_detail", args=[alert.pk])).content.decode()
    assert 'href="javascript' not in html and "javascript:alert(1)" in html


def test_acknowledge_records_who_and_when_and_needs_csrf(client, account, token, sign_in):
    post(client, token, body())
    alert = Alert.objects.get()
    url = reverse("alerts:alert_acknowledge", args=[alert.pk])
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner_of(account))
    assert strict.post(url).status_code == 403
    assert Alert.objects.get().acknowledged_at is None
    owner = Client()
    owner.force_login(owner_of(account))
    assert owner.post(url).status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_at and alert.acknowledged_by == account.login_name
    page = owner.get(reverse("alerts:alert_detail", args=[alert.pk])).content.decode()
    assert account.login_name in page and 'data-testid="acknowledge"' not in page
    carol = RamUserFactory(account=account, user_name="carol")
    assert sign_in(carol).post(url).status_code == 403


def test_another_accounts_alert_is_a_404_like_a_missing_one(client, account, token, sign_in):
    post(client, token, body())
    alert = Alert.objects.get()
    other = sign_in(owner_of(AccountFactory()))
    theirs_url = reverse("alerts:alert_detail", args=[alert.pk])
    missing_url = reverse("alerts:alert_detail", args=[alert.pk + 1000])
    theirs, missing = other.get(theirs_url), other.get(missing_url)
    assert theirs.status_code == missing.status_code == 404
    # Byte for byte, but for the path itself (the language switch returns to it).
    assert comparable(theirs.content).replace(theirs_url.encode(), b"URL") == comparable(
        missing.content
    ).replace(missing_url.encode(), b"URL")
    ack = other.post(reverse("alerts:alert_acknowledge", args=[alert.pk]))
    assert ack.status_code == 404 and Alert.objects.get().acknowledged_at is None


def test_the_alert_page_costs_the_same_queries_for_2_and_20_posts(
    client, owner_client, account, token, django_assert_max_num_queries
):
    post(client, token, body())
    alert = Alert.objects.get()
    url = reverse("alerts:alert_detail", args=[alert.pk])
    owner_client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        owner_client.get(url)
    for i in range(18):
        post(client, token, body(), nonce=f"-{i}")
    with CaptureQueriesContext(connection) as many:
        owner_client.get(url)
    assert len(many) == len(few)


def test_deliveries_link_to_their_alert(client, owner_client, account, token):
    post(client, token, body())
    alert = Alert.objects.get()
    (delivery,) = Delivery.objects.all()
    link = f'href="{reverse("alerts:alert_detail", args=[alert.pk])}" data-testid="delivery-alert"'
    assert link in owner_client.get(reverse("notify:delivery_list")).content.decode()
    detail = owner_client.get(reverse("notify:delivery_detail", args=[delivery.pk]))
    assert link in detail.content.decode()
    filtered = owner_client.get(reverse("notify:delivery_list"), {"status": "pending"})
    assert 'data-testid="clear-filters"' in filtered.content.decode()


def test_the_intake_page_says_when_the_last_post_arrived_and_how_many_today(
    client, owner_client, account, token
):
    assert "No post has arrived yet." in owner_client.get(INTAKE).content.decode()
    post(client, token, body())
    post(client, token, body(), nonce="-2")
    html = owner_client.get(INTAKE).content.decode()
    assert "2 posts today." in html and "Last post" in html


def test_send_test_alert_goes_through_the_intake_firing_then_resolved(
    owner_client, account, token, sign_in
):
    response = owner_client.post(reverse("alerts:intake_test"))
    assert response.status_code == 302
    alert = Alert.objects.get(account=account)
    assert alert.labels["test"] == "true" and alert.status == "resolved"
    assert list(alert.posts.order_by("id").values_list("change", flat=True)) == [
        "opened",
        "resolved",
    ]
    assert alert.notified_count == 2
    alice = grant_list_users(RamUserFactory(account=account, user_name="alice"))
    assert sign_in(alice).post(reverse("alerts:intake_test")).status_code == 403


def test_rotating_an_existing_token_asks_first_and_says_alertmanager_keeps_the_old_one(
    owner_client, account, token
):
    before = IntakeToken.objects.get(account=account).token_hash
    page = owner_client.post(INTAKE).content.decode()
    assert 'data-testid="rotate-confirm"' in page
    assert "Alertmanager keeps presenting it until its" in page
    assert IntakeToken.objects.get(account=account).token_hash == before
    done = owner_client.post(INTAKE, {"confirm": "rotate"}).content.decode()
    assert 'data-testid="new-token"' in done
    assert IntakeToken.objects.get(account=account).token_hash != before


# --- chunked posts and the rate ------------------------------------------------------------


def chunked_request(token: str, payload: bytes, *, terminated: bool) -> WSGIRequest:
    """A request as a WSGI server hands over a chunked body: no Content-Length, the body in
    `wsgi.input`, and `wsgi.input_terminated` when the server has de-chunked it."""
    environ = RequestFactory()._base_environ(
        PATH_INFO=URL,
        REQUEST_METHOD="POST",
        CONTENT_TYPE="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input"] = io.BytesIO(payload)
    environ["wsgi.input_terminated"] = terminated
    return WSGIRequest(environ)


def test_a_chunked_post_is_read_when_the_server_hands_it_over(account, token):
    raw = json.dumps(body()).encode()
    response = endpoint.alertmanager(chunked_request(token, raw, terminated=True))
    assert response.status_code == 200 and Alert.objects.count() == 1


@override_settings(INTAKE_MAX_BYTES=1000)
def test_a_chunked_post_over_the_cap_is_413(account, token):
    raw = json.dumps({**body(), "pad": "x" * 2000}).encode()
    response = endpoint.alertmanager(chunked_request(token, raw, terminated=True))
    assert response.status_code == 413 and Alert.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_real_chunked_post_to_a_server_that_cannot_read_it_is_411(live_server):
    account = AccountFactory()
    token = services.rotate_token(account=account)
    address = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        raw = json.dumps(body()).encode()
        connection.putrequest("POST", URL)
        connection.putheader("Authorization", f"Bearer {token}")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        connection.send(f"{len(raw):x}\r\n".encode() + raw + b"\r\n0\r\n\r\n")
        answer = connection.getresponse()
        assert answer.status == 411, answer.read()
    finally:
        connection.close()
    assert Alert.objects.count() == 0


@override_settings(INTAKE_POSTS_PER_MINUTE=2)
def test_a_refused_post_does_not_count_against_the_tokens_rate(client, account, token):
    for _ in range(3):
        refused = client.post(
            URL,
            data="{not json",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert refused.status_code == 400
    post(client, token, body())
    post(client, token, body(), nonce="-2")
    post_alerts(client, token, body(), status=429)
