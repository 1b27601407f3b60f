"""The Test action (rules §8: "the Test button of a contact, which reports each channel's result
inline" with "the provider's answer with a plain hint"), from a contact's row and from the Edit
Contact dialog with the values typed before saving. Robots are a real loopback server
(tests/notify/sink.py); email goes to mail.outbox."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from arms_sync.notify import base, hints
from arms_sync.notify.models import Delivery, Event
from arms_sync.notify.services import NOTHING_TO_TEST
from arms_sync.notify.views import NOTHING_SENT_FIX_ERRORS
from contacts.models import Contact
from contacts.validators import INVALID_MAINLAND_MOBILE
from tests.factories import AccountFactory, ContactFactory, owner_of
from tests.integration.contacts_support import ram_user_named
from tests.notify.console_support import RAW_SECRET, contact_with_robots

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def row_test_url(contact: Contact) -> str:
    return reverse("notify:contact_test", args=[contact.pk])


def values_url(contact: Contact) -> str:
    return reverse("notify:contact_test_values", args=[contact.pk])


def hint(code: str) -> str:
    return escape(hints.hint_text(code))


def results(page: str) -> list[str]:
    """The Sent / Failed of each result row, in order."""
    return [
        "Sent" if 'data-sent="true"' in row else "Failed"
        for row in page.split('data-testid="test-result"')[1:]
    ]


@pytest.fixture
def robots_contact(account, robot_sink):
    """A contact with a DingTalk robot that refuses for the keyword or signature and a WeCom
    robot that accepts, and a mailbox."""
    return contact_with_robots(account, robot_sink, tag="alice", mailbox="alice@example.com")


RUN = "0123456789abcdef0123456789abcdef"  # the Test dialog's name for its sends


# --- Test from a contact's row -----------------------------------------------------------------


def test_the_dialog_has_one_row_per_channel_that_sends_that_channel(owner_client, robots_contact):
    page = owner_client.get(row_test_url(robots_contact), headers=HTMX).text
    rows = page.split('data-testid="test-pending"')[1:]
    assert [row.split('"channel": "')[1].split('"')[0] for row in rows] == [
        "email",
        "dingtalk",
        "wecom",
    ]
    assert all('hx-trigger="load"' in row for row in rows)
    assert not mail.outbox  # opening the dialog sends nothing


def test_each_channel_is_sent_alone_and_the_last_answer_brings_the_headline(
    owner_client, robots_contact, robot_sink
):
    def send(channel: str) -> str:
        data = {"channel": channel, "run": RUN}
        response = owner_client.post(row_test_url(robots_contact), data, headers=HTMX)
        assert response.status_code == 200
        return response.text

    first = send("wecom")
    assert results(first) == ["Sent"] and "WeCom robot" in first
    assert len(robot_sink.received("ok-alice-wecom")) == 1
    assert not robot_sink.received("err310000-alice-ding") and not mail.outbox
    assert 'data-testid="test-headline"' not in first  # two channels still to answer
    assert results(send("email")) == ["Sent"] and len(mail.outbox) == 1
    last = send("dingtalk")
    assert results(last) == ["Failed"]
    assert 'hx-swap-oob="innerHTML"' in last and "2 of 3 channels succeeded" in last
    # The one send path: each channel is a Test event of its own, its rows sent at once.
    events = Event.objects.filter(kind=Event.Kind.TEST, payload__run=RUN)
    assert events.count() == 3
    assert sorted(Delivery.objects.filter(event__in=events).values_list("channel", flat=True)) == [
        "dingtalk",
        "email",
        "wecom",
    ]


@pytest.mark.parametrize("channel", ["fax", "dingtalk"])
def test_a_channel_the_contact_does_not_have_is_refused(owner_client, account, channel):
    contact = ContactFactory(account=account, mailbox="ops@example.com")
    data = {"channel": channel, "run": RUN}
    assert owner_client.post(row_test_url(contact), data, headers=HTMX).status_code == 400
    assert not mail.outbox and not Event.objects.exists()


def test_test_reports_each_channels_result_inline(owner_client, robots_contact, robot_sink):
    response = owner_client.post(row_test_url(robots_contact), headers=HTMX)
    assert response.status_code == 200
    page = response.text
    assert 'class="modal fade"' in page and "<html" not in page
    # Channels in order: DingTalk, email, WeCom.
    assert results(page) == ["Failed", "Sent", "Sent"]
    assert "HTTP 200: errcode 310000: sink errcode 310000" in page
    assert hint(base.HINT_KEYWORD_OR_SIGNATURE) in page
    assert hint(base.HINT_OK) in page
    assert "alice@example.com" in page
    # It really went out, once per channel.
    assert len(robot_sink.received("err310000-alice-ding")) == 1
    assert len(robot_sink.received("ok-alice-wecom")) == 1
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    # The DingTalk message carried the default keyword (rules §8).
    assert "告警" in robot_sink.received("err310000-alice-ding")[0].text()


def test_a_test_is_recorded_as_a_test_event_with_truthful_deliveries(owner_client, robots_contact):
    owner_client.post(row_test_url(robots_contact))
    event = Event.objects.get(account=robots_contact.account)
    assert event.kind == Event.Kind.TEST
    statuses = dict(event.deliveries.values_list("channel", "status"))
    assert statuses == {"dingtalk": "failed", "wecom": "sent", "email": "sent"}
    failed = event.deliveries.get(channel="dingtalk")
    assert failed.last_hint == base.HINT_KEYWORD_OR_SIGNATURE
    assert failed.attempt_log.get().errcode == 310000


def test_without_javascript_the_test_result_is_a_plain_page(owner_client, robots_contact):
    response = owner_client.post(row_test_url(robots_contact))
    assert response.status_code == 200
    assert "<html" in response.text
    assert "Back to Contact Management" in response.text
    assert results(response.text) == ["Failed", "Sent", "Sent"]
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("kind", "token", "code"),
    [
        ("dingtalk", "err130101-throttled", base.HINT_THROTTLED),
        ("dingtalk", "err300001-gone", base.HINT_INVALID_ROBOT),
        ("wecom", "err93000-gone", base.HINT_INVALID_ROBOT),
        ("dingtalk", "slow-robot", base.HINT_TIMEOUT),
        ("wecom", "http500-down", base.HINT_SERVER_ERROR),
    ],
)
def test_each_failure_shows_the_providers_answer_and_its_hint(
    owner_client, account, robot_sink, kind, token, code
):
    field = "dingtalk_webhook" if kind == "dingtalk" else "wecom_webhook"
    contact = ContactFactory(account=account, mailbox="", **{field: robot_sink.url(kind, token)})
    page = owner_client.post(row_test_url(contact), headers=HTMX).text
    assert results(page) == ["Failed"]
    assert hint(code) in page
    # A test is tried once: no retry, even for what a worker would retry.
    assert len(robot_sink.received(token)) == 1


def test_a_webhook_the_guard_refuses_is_not_sent_and_says_why(owner_client, account, canary):
    # Saved before the allowed hosts changed: at send time the guard refuses it.
    url = f"http://127.0.0.1:{canary.port}/robot/send?access_token=ok-not-allowed"
    contact = ContactFactory(account=account, mailbox="", dingtalk_webhook=url)
    page = owner_client.post(row_test_url(contact), headers=HTMX).text
    assert results(page) == ["Failed"]
    assert hint(base.HINT_REFUSED_BY_GUARD) in page
    assert canary.connections == 0


def test_a_robot_past_the_consoles_rate_limit_is_reported_not_waited_for(
    owner_client, account, robot_sink, settings
):
    settings.ROBOT_RATE_LIMIT = 1
    contact = ContactFactory(
        account=account, mailbox="", wecom_webhook=robot_sink.url("wecom", "ok-busy-robot")
    )
    assert results(owner_client.post(row_test_url(contact)).text) == ["Sent"]
    page = owner_client.post(row_test_url(contact)).text
    assert results(page) == ["Failed"]
    assert hint(base.HINT_RATE_LIMITED) in page
    assert len(robot_sink.received("ok-busy-robot")) == 1


def test_a_contact_with_nothing_to_test_is_told_so(owner_client, account):
    contact = ContactFactory(account=account, mailbox="")
    response = owner_client.post(row_test_url(contact), headers=HTMX)
    assert response.status_code == 422
    assert NOTHING_TO_TEST in response.text
    assert not Event.objects.exists()


def test_the_result_never_shows_a_token_or_signing_secret(owner_client, account, robot_sink):
    token = "ok" + "5e1d" * 10
    robot_sink.secrets[token] = RAW_SECRET
    contact = ContactFactory(
        account=account,
        dingtalk_webhook=robot_sink.url("dingtalk", token),
        dingtalk_secret=RAW_SECRET,
    )
    for headers in ({}, HTMX):
        page = owner_client.post(row_test_url(contact), headers=headers).text
        assert results(page) == ["Sent", "Sent"]  # signed correctly, so accepted
        assert token not in page
        assert RAW_SECRET not in page
        assert "ok5e…5e1d" in page
    assert token not in owner_client.get(reverse("notify:delivery_list")).text


# --- Who may test (rules §3) ---------------------------------------------------------------------


def test_a_ram_user_without_list_users_may_test_its_own_contact(sign_in, account):
    carol = ram_user_named(account, "carol")
    own = ContactFactory(account=account, ram_user=carol, mailbox="carol@example.com")
    response = sign_in(carol).post(row_test_url(own), headers=HTMX)
    assert response.status_code == 200
    assert results(response.text) == ["Sent"]
    # It may not open the Deliveries page, so the result does not point there.
    assert reverse("notify:delivery_list") not in response.text


@pytest.mark.parametrize(
    ("principal", "status"),
    [("without_list_users", 404), ("with_list_users", 403), ("other_accounts_owner", 404)],
)
def test_a_contact_beyond_the_principals_rights_is_404_or_403(client, account, principal, status):
    """rules §3: a contact the principal does not see (another account's among them) is 404;
    one it sees but may not manage is 403. Both Test actions, and nothing is sent."""
    contact = ContactFactory(account=account)
    if principal == "other_accounts_owner":
        user = owner_of(AccountFactory())
    else:
        carol = ram_user_named(account, "carol", list_users=principal == "with_list_users")
        user = carol.sign_in
    client.force_login(user)
    assert client.post(row_test_url(contact)).status_code == status
    one_channel = {"channel": "email", "run": RUN}
    assert client.post(row_test_url(contact), one_channel, headers=HTMX).status_code == status
    assert client.post(values_url(contact), {"phone": "13811112222"}).status_code == status
    assert not mail.outbox


def test_test_sends_only_on_a_post_with_a_csrf_token(account):
    """GET opens the dialog (each channel "Sending…" while htmx posts); it sends nothing."""
    contact = ContactFactory(account=account, mailbox="ops@example.com")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner_of(account))
    opened = client.get(row_test_url(contact))
    assert opened.status_code == 200
    assert 'data-testid="test-pending"' in opened.text
    assert not mail.outbox
    assert client.post(row_test_url(contact)).status_code == 403
    assert client.post(row_test_url(contact), {"channel": "email"}).status_code == 403
    assert not mail.outbox


def test_the_contact_list_offers_test_only_on_rows_the_principal_manages(sign_in, account):
    alice = ram_user_named(account, "alice", list_users=True)
    own = ContactFactory(account=account, ram_user=alice)
    other = ContactFactory(account=account)
    page = sign_in(alice).get(reverse("contacts:list")).text
    assert f'action="{row_test_url(own)}"' in page
    assert f'action="{row_test_url(other)}"' not in page


# --- Test these values (Edit Contact dialog) ------------------------------------------------


def edit_post(contact: Contact, **values) -> dict:
    data = {
        "phone": contact.phone.as_e164,
        "mailbox": contact.mailbox,
        "dingtalk_webhook": "",
        "dingtalk_secret": "",
        "dingtalk_keyword": contact.dingtalk_keyword,
        "wecom_webhook": "",
    }
    data.update(values)
    return data


def test_typed_values_are_tested_before_saving(owner_client, robots_contact, robot_sink):
    typed = robot_sink.url("wecom", "ok-typed-wecom")
    response = owner_client.post(
        values_url(robots_contact),
        edit_post(robots_contact, wecom_webhook=typed, mailbox="new@example.com"),
        headers=HTMX,
    )
    assert response.status_code == 200
    page = response.text
    # The Edit Contact form again (htmx swaps it), with the results under the button.
    assert "<html" not in page
    assert 'data-testid="contact-form"' in page
    assert f'action="{reverse("contacts:edit", args=[robots_contact.pk])}"' in page
    assert 'data-testid="test-results"' in page
    assert len(robot_sink.received("ok-typed-wecom")) == 1
    assert robot_sink.received("ok-alice-wecom") == []
    assert [m.to for m in mail.outbox] == [["new@example.com"]]
    # Blank DingTalk field: the saved robot is tested (and still refuses).
    assert len(robot_sink.received("err310000-alice-ding")) == 1
    assert results(page) == ["Failed", "Sent", "Sent"]
    # Nothing was saved.
    robots_contact.refresh_from_db()
    assert robots_contact.mailbox == "alice@example.com"
    assert robots_contact.wecom_webhook == robot_sink.url("wecom", "ok-alice-wecom")


def test_a_blank_secret_keeps_the_saved_one_which_never_reaches_the_browser(
    owner_client, account, robot_sink
):
    token = "ok-signed-" + "ab12" * 8
    robot_sink.secrets[token] = RAW_SECRET
    contact = ContactFactory(
        account=account,
        mailbox="",
        dingtalk_webhook=robot_sink.url("dingtalk", token),
        dingtalk_secret=RAW_SECRET,
    )
    edit_page = owner_client.get(reverse("contacts:edit", args=[contact.pk])).text
    assert RAW_SECRET not in edit_page and token not in edit_page
    page = owner_client.post(values_url(contact), edit_post(contact), headers=HTMX).text
    assert results(page) == ["Sent"]  # signed with the saved secret
    (received,) = robot_sink.received(token)
    assert "sign" in received.query
    assert RAW_SECRET not in page and token not in page


def test_a_typed_keyword_is_used_before_it_is_saved(owner_client, account, robot_sink):
    token = "ok-keyword-robot"
    robot_sink.keywords[token] = "部署"
    contact = ContactFactory(
        account=account, mailbox="", dingtalk_webhook=robot_sink.url("dingtalk", token)
    )
    refused = owner_client.post(values_url(contact), edit_post(contact)).text
    assert results(refused) == ["Failed"]
    assert hint(base.HINT_KEYWORD_OR_SIGNATURE) in refused
    accepted = owner_client.post(values_url(contact), edit_post(contact, dingtalk_keyword="部署"))
    assert results(accepted.text) == ["Sent"]
    assert "部署" in robot_sink.received(token)[-1].text()
    contact.refresh_from_db()
    assert contact.dingtalk_keyword == ""


def test_a_removed_robot_is_not_tested(owner_client, robots_contact, robot_sink):
    data = edit_post(robots_contact, clear_dingtalk_webhook="on", clear_wecom_webhook="on")
    page = owner_client.post(values_url(robots_contact), data, headers=HTMX).text
    assert results(page) == ["Sent"]  # the mailbox only
    assert robot_sink.received() == []


def test_invalid_typed_values_show_as_the_form_shows_them_and_nothing_is_sent(
    owner_client, robots_contact, robot_sink
):
    data = edit_post(robots_contact, phone="+852 5123 4567", wecom_webhook="http://example.com/")
    response = owner_client.post(values_url(robots_contact), data, headers=HTMX)
    assert response.status_code == 422
    page = response.text
    assert escape(INVALID_MAINLAND_MOBILE) in page
    assert 'aria-invalid="true"' in page
    assert NOTHING_SENT_FIX_ERRORS in page
    assert robot_sink.received() == []
    assert not mail.outbox
    assert not Delivery.objects.exists()


def test_test_these_values_without_javascript_answers_the_plain_edit_page(
    owner_client, robots_contact
):
    response = owner_client.post(values_url(robots_contact), edit_post(robots_contact))
    assert response.status_code == 200
    assert "<html" in response.text
    assert "Edit Contact" in response.text
    assert results(response.text) == ["Failed", "Sent", "Sent"]


def test_the_edit_dialog_offers_test_these_values(owner_client, robots_contact):
    page = owner_client.get(reverse("contacts:edit", args=[robots_contact.pk]), headers=HTMX).text
    assert "Test these values" in page
    assert f'hx-post="{values_url(robots_contact)}"' in page
    assert f'formaction="{values_url(robots_contact)}"' in page
    # Confirm comes first, so Enter in a field saves rather than tests.
    assert page.index(">Confirm<") < page.index("Test these values")


def test_the_test_result_and_the_keyword_field_speak_chinese(owner_client, robots_contact):
    owner_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    try:
        page = owner_client.post(row_test_url(robots_contact), headers=HTMX).text
        for term in ("测试联系人", "测试结果", "钉钉机器人", "企业微信机器人", "已发送", "失败"):
            assert term in page, term
        assert "机器人因安全设置拒收了消息" in page
        edit = owner_client.get(reverse("contacts:edit", args=[robots_contact.pk])).text
        assert "钉钉机器人关键词" in edit
        assert "测试这些配置" in edit
    finally:
        translation.activate(settings.LANGUAGE_CODE)
