"""The Deliveries page (rules §8: "the console lists deliveries with status, attempts, last error
and time"): who may open it, tenant isolation, filters, pages, a fixed number of queries,
each delivery's attempts, and Resend."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from arms_sync.notify import base, hints
from arms_sync.notify.models import Delivery, Event
from arms_sync.notify.services import ONLY_FAILED_RESEND
from tests.factories import AccountFactory, owner_of
from tests.integration.contacts_support import ram_user_named
from tests.notify.console_support import KEYWORD_ANSWER, RAW_SECRET, RAW_TOKEN, make_delivery

pytestmark = pytest.mark.django_db

LIST = reverse("notify:delivery_list")
HTMX = {"HX-Request": "true"}
ROWS = {"HX-Request": "true", "HX-Target": "delivery-rows"}


def detail_url(delivery: Delivery) -> str:
    return reverse("notify:delivery_detail", args=[delivery.pk])


def resend_url(delivery: Delivery) -> str:
    return reverse("notify:delivery_resend", args=[delivery.pk])


def row_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-delivery-id="(\d+)"', response.text)]


# --- Who may see deliveries (rules §3 visibility, rules §1 isolation) ----------------------------


def test_the_owner_sees_the_accounts_deliveries_with_status_attempts_error_and_hint(
    owner_client, account
):
    failed = make_delivery(account)
    response = owner_client.get(LIST)
    assert response.status_code == 200
    page = response.text
    assert row_ids(response) == [failed.pk]
    assert "Failed" in page
    assert "CPU above 90% on web-1" in page
    assert "DingTalk robot" in page
    assert failed.target_masked in page
    assert "alice" in page
    assert "HTTP 200: errcode 310000: keywords not in content" in page
    assert escape(hints.hint_text(base.HINT_KEYWORD_OR_SIGNATURE)) in page


@pytest.mark.parametrize("url", ["list", "detail"])
def test_pages_showing_deliveries_are_never_cached(owner_client, account, url):
    delivery = make_delivery(account)
    response = owner_client.get(LIST if url == "list" else detail_url(delivery))
    assert "no-store" in response["Cache-Control"]


def test_a_ram_user_allowed_list_users_sees_every_delivery(sign_in, account):
    make_delivery(account)
    alice = ram_user_named(account, "alice", list_users=True)
    response = sign_in(alice).get(LIST)
    assert response.status_code == 200
    assert len(row_ids(response)) == 1


def test_a_ram_user_without_list_users_gets_403_everywhere(sign_in, account):
    delivery = make_delivery(account)
    carol = ram_user_named(account, "carol")
    client = sign_in(carol)
    assert client.get(LIST).status_code == 403
    assert client.get(detail_url(delivery)).status_code == 403
    assert client.post(resend_url(delivery)).status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED


def test_another_accounts_delivery_is_404_and_never_listed(client, account):
    theirs = make_delivery(AccountFactory(), title="Their secret alert")
    client.force_login(owner_of(account))
    response = client.get(LIST)
    assert row_ids(response) == []
    assert "Their secret alert" not in response.text
    assert client.get(detail_url(theirs)).status_code == 404
    assert client.post(resend_url(theirs)).status_code == 404
    missing = reverse("notify:delivery_detail", args=[theirs.pk + 1000])
    assert client.get(missing).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Delivery.Status.FAILED


def test_signed_out_visitors_go_to_sign_in_and_operators_get_403(client, operator_client):
    assert Client().get(LIST).status_code == 302
    assert operator_client.get(LIST).status_code == 403


def test_no_page_contains_a_robot_token_or_signing_secret(owner_client, account):
    delivery = make_delivery(account)
    for url in (LIST, detail_url(delivery)):
        for headers in ({}, HTMX):
            page = owner_client.get(url, headers=headers).text
            assert RAW_TOKEN not in page
            assert RAW_SECRET not in page
            assert RAW_TOKEN[:4] + "…" + RAW_TOKEN[-4:] in page


# --- Filters and pages -------------------------------------------------------------------------


@pytest.fixture
def mixed(account):
    return {
        "failed_robot": make_delivery(account),
        "sent_email": make_delivery(
            account, status=Delivery.Status.SENT, channel=base.EMAIL, kind=Event.Kind.TEST
        ),
        "pending_wecom": make_delivery(
            account, status=Delivery.Status.PENDING, channel=base.WECOM, kind=Event.Kind.APPROVAL
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "failed"}, ["failed_robot"]),
        ({"status": "sent"}, ["sent_email"]),
        ({"channel": "wecom"}, ["pending_wecom"]),
        ({"channel": "email"}, ["sent_email"]),
        ({"kind": "test"}, ["sent_email"]),
        ({"kind": "alert", "status": "failed"}, ["failed_robot"]),
        ({"kind": "alert", "status": "sent"}, []),
        ({}, ["pending_wecom", "sent_email", "failed_robot"]),
    ],
)
def test_filters_by_status_channel_and_event(owner_client, mixed, query, expected):
    response = owner_client.get(LIST, query)
    assert row_ids(response) == [mixed[name].pk for name in expected]


def test_an_unknown_filter_value_is_ignored_not_an_error(owner_client, mixed):
    response = owner_client.get(LIST, {"status": "bogus\x00", "channel": "x" * 500, "page": "?"})
    assert response.status_code == 200
    assert len(row_ids(response)) == 3


def test_an_empty_filter_result_says_so(owner_client, mixed):
    response = owner_client.get(LIST, {"kind": "alert", "status": "sent"})
    assert "No delivery matches these filters." in response.text


def test_htmx_filtering_answers_only_the_rows(owner_client, mixed):
    response = owner_client.get(LIST, {"status": "failed"}, headers=ROWS)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="delivery-rows"' in response.text
    assert row_ids(response) == [mixed["failed_robot"].pk]
    # The rows reload themselves with the same filters after a Resend.
    assert 'hx-get="/notify/deliveries/?status=failed"' in response.text


def test_25_deliveries_a_page_newest_first(owner_client, account):
    made = [make_delivery(account, title=f"alert {n}") for n in range(60)]
    newest_first = [d.pk for d in reversed(made)]
    first = owner_client.get(LIST)
    assert row_ids(first) == newest_first[:25]
    assert "Page 1 of 3" in first.text
    assert "60 deliveries, newest first." in first.text
    assert row_ids(owner_client.get(LIST, {"page": 2})) == newest_first[25:50]
    assert row_ids(owner_client.get(LIST, {"page": 3})) == newest_first[50:]
    # Out of range: the last page; not a number: the first.
    assert row_ids(owner_client.get(LIST, {"page": 99})) == newest_first[50:]
    assert row_ids(owner_client.get(LIST, {"page": "x"})) == newest_first[:25]


def test_page_links_keep_the_filters(owner_client, account):
    for n in range(30):
        make_delivery(account, title=f"alert {n}")
    page = owner_client.get(LIST, {"status": "failed"}).text
    assert 'href="?status=failed&amp;page=2"' in page


@pytest.mark.parametrize("rows", [1, 60])
def test_the_list_costs_a_fixed_number_of_queries(
    owner_client, account, rows, django_assert_num_queries
):
    for n in range(rows):
        make_delivery(
            account,
            title=f"alert {n}",
            status=Delivery.Status.FAILED if n % 2 else Delivery.Status.SENT,
        )
    # Session, user, count, one page of rows with their events, the alerts they carried (each
    # row links to its alert), the menu's Permission Approval badge.
    with django_assert_num_queries(6):
        response = owner_client.get(LIST)
    assert len(row_ids(response)) == min(rows, 25)


def test_the_detail_costs_a_fixed_number_of_queries(
    owner_client, account, django_assert_num_queries
):
    few = make_delivery(account, attempts=[KEYWORD_ANSWER] * 1)
    many = make_delivery(account, attempts=[KEYWORD_ANSWER] * 6)
    # Session, user, the delivery, its attempts, the alert it carried (its link), the menu's
    # Permission Approval badge.
    with django_assert_num_queries(6):
        owner_client.get(detail_url(few))
    with django_assert_num_queries(6):
        owner_client.get(detail_url(many))


# --- One delivery's attempts ------------------------------------------------------------------


def test_the_detail_lists_every_attempt_with_the_providers_answer_and_its_meaning(
    owner_client, account
):
    throttled = {
        "hint": base.HINT_THROTTLED,
        "http_status": 200,
        "errcode": 130101,
        "errmsg": "send too fast",
    }
    delivery = make_delivery(account, attempts=[throttled, KEYWORD_ANSWER])
    response = owner_client.get(detail_url(delivery))
    assert response.status_code == 200
    page = response.text
    assert "<html" in page  # without JavaScript: a plain page
    assert page.count('data-testid="attempt-row"') == 2
    for text in (
        "130101",
        "send too fast",
        "310000",
        "keywords not in content",
        "42 ms",
        "Will retry",
        escape(hints.hint_text(base.HINT_THROTTLED)),
        escape(hints.hint_text(base.HINT_KEYWORD_OR_SIGNATURE)),
    ):
        assert text in page, text
    assert 'data-testid="resend"' in page


def test_the_detail_opens_as_a_dialog_over_htmx(owner_client, account):
    delivery = make_delivery(account, status=Delivery.Status.SENT)
    page = owner_client.get(detail_url(delivery), headers=HTMX).text
    assert "<html" not in page
    assert 'class="modal fade"' in page
    assert 'aria-labelledby="delivery-dialog-title"' in page
    assert f"Delivery #{delivery.pk}" in page
    assert 'data-testid="resend"' not in page  # only a failed delivery is resent


def test_a_delivery_sent_in_a_digest_names_it(owner_client, account):
    carrier = make_delivery(account, status=Delivery.Status.SENT)
    carried = make_delivery(account, status=Delivery.Status.SENT, title="another alert")
    Delivery.objects.filter(pk=carried.pk).update(digest=carrier)
    page = owner_client.get(detail_url(carried)).text
    assert f'href="{detail_url(carrier)}"' in page
    assert f"delivery #{carrier.pk}" in page
    assert "in a digest" in owner_client.get(LIST).text


# --- Resend ------------------------------------------------------------------------------------


def test_resend_queues_a_failed_delivery_again(owner_client, account):
    delivery = make_delivery(account)
    response = owner_client.post(resend_url(delivery), {"next": LIST + "?status=failed"})
    assert response.status_code == 302
    assert response["Location"] == LIST + "?status=failed"
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING
    # A fresh budget of retries; attempt numbers go on from the ones already made.
    assert delivery.attempts_before_resend == delivery.attempts
    assert delivery.may_retry
    page = owner_client.get(response["Location"]).text
    assert f"The delivery to {delivery.target_masked} was queued again." in page


def test_resend_over_htmx_reloads_the_rows_and_closes_the_dialog(owner_client, account):
    delivery = make_delivery(account)
    response = owner_client.post(resend_url(delivery), headers=HTMX)
    assert response.status_code == 204
    assert '"deliveriesChanged": true' in response["HX-Trigger"]
    assert '"closeModal": true' in response["HX-Trigger"]
    refreshed = owner_client.get(LIST, headers=ROWS).text
    assert "Pending" in refreshed
    assert hints.hint_text("resent") in refreshed
    assert "queued again" in refreshed  # the message, out of band


def test_resend_sends_it_through_the_worker(
    owner_client, account, robot_sink, django_capture_on_commit_callbacks
):
    delivery = make_delivery(account, url=robot_sink.url("dingtalk", "ok-resent-robot"))
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(resend_url(delivery))
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert len(robot_sink.received("ok-resent-robot")) == 1
    assert delivery.attempt_log.count() == 2  # the failed one, then the resent one


@pytest.mark.parametrize("status", [Delivery.Status.SENT, Delivery.Status.PENDING])
def test_resend_of_a_delivery_that_is_not_failed_changes_nothing(owner_client, account, status):
    delivery = make_delivery(account, status=status)
    response = owner_client.post(resend_url(delivery), follow=True)
    assert ONLY_FAILED_RESEND in response.text
    before = delivery.updated_at
    delivery.refresh_from_db()
    assert delivery.status == status
    assert delivery.updated_at == before


def test_resend_is_a_post_with_a_csrf_token(account):
    delivery = make_delivery(account)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner_of(account))
    assert client.get(resend_url(delivery)).status_code == 405
    assert client.post(resend_url(delivery)).status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED


def test_resend_never_redirects_off_the_console(owner_client, account):
    delivery = make_delivery(account)
    response = owner_client.post(resend_url(delivery), {"next": "https://evil.example.com/"})
    assert response["Location"] == LIST


# --- zh-Hans (rules §11, §12) ---------------------------------------------------------------------


def test_the_deliveries_page_and_detail_speak_chinese(owner_client, account):
    delivery = make_delivery(account)
    owner_client.post(reverse("set_language"), {"language": "zh-hans", "next": LIST})
    try:
        page = owner_client.get(LIST).text
        for term in (
            "投递记录",
            "企业级特性",
            "失败",
            "钉钉机器人",
            "告警",
            "重新发送",
            "全部状态",
        ):
            assert term in page, term
        assert "机器人因安全设置拒收了消息" in page
        detail = owner_client.get(detail_url(delivery)).text
        assert f"投递记录 #{delivery.pk}" in detail
        for english in ("Deliveries", "Last error", "Resend", "Attempts"):
            assert english not in page and english not in detail, english
    finally:
        translation.activate(settings.LANGUAGE_CODE)
