"""rules §4: the 100-contact limit, one contact per username and per phone (however typed),
the channels' rules through the service, and the query bar."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from contacts import selectors, services
from contacts.channels import dingtalk
from contacts.models import Contact
from contacts.validators import INVALID_MAILBOX, INVALID_MAINLAND_MOBILE
from tests.factories import owners_contact
from tests.integration.contacts_support import (
    DINGTALK_SECRET,
    DINGTALK_TOKEN,
    DINGTALK_URL,
    WECOM_KEY,
    WECOM_URL,
    contact_of_new_user,
    contacts_of_new_users,
    counts,
    mobile,
    new_contact_post,
    ram_user_named,
)

pytestmark = pytest.mark.django_db


def test_contact_stores_phone_as_e164_and_every_channel(account):
    contact = contact_of_new_user(
        account,
        "alice",
        phone="86-13811112222",
        mailbox="alice@example.com",
        dingtalk_webhook=DINGTALK_URL,
        dingtalk_secret=DINGTALK_SECRET,
        wecom_webhook=WECOM_URL,
    )
    contact.refresh_from_db()
    assert contact.phone.as_e164 == "+8613811112222"
    assert (contact.mailbox, contact.dingtalk_webhook, contact.wecom_webhook) == (
        "alice@example.com",
        DINGTALK_URL,
        WECOM_URL,
    )
    assert contact.dingtalk_secret == DINGTALK_SECRET
    assert contact.created_by is None  # created by the owner


@override_settings(SAE_MAX_CONTACTS=5)
def test_the_contact_after_the_limit_is_refused_and_nothing_is_half_saved(account):
    """rules §4: an account holds at most SAE_MAX_CONTACTS; the next is refused with a clear
    error and neither an SAE nor an ARMS contact is saved."""
    contacts_of_new_users(account, 5)
    before = counts(account)
    with pytest.raises(ValidationError) as exc:
        contact_of_new_user(account, "one-too-many", phone=mobile(99))
    assert exc.value.messages == [services.CONTACT_LIMIT_REACHED.format(limit=5)]
    assert not hasattr(exc.value, "error_dict")  # non-field: the whole form
    assert counts(account) == before


def test_the_101st_contact_is_refused_at_the_default_limit_of_100(owner_client, account):
    """rules §4: 100 is the default limit; the page says so and the form shows the error."""
    contacts_of_new_users(account, 100)
    assert counts(account) == (100, 100)
    late = ram_user_named(account, "late")
    response = owner_client.post(
        reverse("contacts:new"), new_contact_post(ram_user=late.pk, phone=mobile(500))
    )
    assert response.status_code == 422  # refused, the form shown again
    assert services.CONTACT_LIMIT_REACHED.format(limit=100) in response.text
    assert counts(account) == (100, 100)
    assert "100 / 100 contacts" in owner_client.get(reverse("contacts:list")).text


def test_deleting_a_contact_frees_a_place_under_the_limit(account, owner_principal):
    with override_settings(SAE_MAX_CONTACTS=2):
        first, _ = contacts_of_new_users(account, 2)
        services.delete_contact(principal=owner_principal, contact=first)
        contacts_of_new_users(account, 1, start=10)
        assert Contact.objects.filter(account=account).count() == 2


def test_a_second_contact_for_one_username_is_refused(account, owner_principal):
    """rules §4: one contact per username per account (RAM user and the account itself)."""
    alice = ram_user_named(account, "alice")
    services.create_contact(principal=owner_principal, ram_user=alice, phone=mobile(1))
    services.create_contact(principal=owner_principal, ram_user=None, phone=mobile(2))
    before = counts(account)
    with pytest.raises(ValidationError) as exc:
        services.create_contact(principal=owner_principal, ram_user=alice, phone=mobile(3))
    assert exc.value.message_dict == {
        "username": [services.USERNAME_TAKEN.format(username="alice")]
    }
    with pytest.raises(ValidationError) as exc:
        services.create_contact(principal=owner_principal, ram_user=None, phone=mobile(4))
    assert list(exc.value.message_dict) == ["username"]
    assert counts(account) == before


@pytest.mark.parametrize(
    "typed_again", ["13811112222", "+86 138 1111 2222", "86-13811112222", "008613811112222"]
)
def test_one_phone_number_belongs_to_one_contact_however_typed(account, typed_again):
    """rules §4: uniqueness is on the E.164 form."""
    contact_of_new_user(account, "alice", phone="+8613811112222")
    before = counts(account)
    with pytest.raises(ValidationError) as exc:
        contact_of_new_user(account, "bob", phone=typed_again)
    assert exc.value.message_dict == {"phone": [services.PHONE_TAKEN]}
    assert counts(account) == before


def test_the_same_phone_may_serve_two_accounts(account, other_account):
    owners_contact(account, phone="13811112222")
    owners_contact(other_account, phone="13811112222")
    assert Contact.objects.filter(phone="+8613811112222").count() == 2


def test_editing_to_another_contacts_phone_is_refused(account, owner_principal):
    alice = contact_of_new_user(account, "alice", phone=mobile(1))
    contact_of_new_user(account, "bob", phone=mobile(2))
    with pytest.raises(ValidationError) as exc:
        services.update_contact(principal=owner_principal, contact=alice, phone=mobile(2))
    assert exc.value.message_dict == {"phone": [services.PHONE_TAKEN]}
    alice.refresh_from_db()
    assert alice.phone.as_e164 == mobile(1)


def test_the_service_refuses_bad_channels_with_an_error_per_field(account):
    """rules §4: bad input of any kind gets a message next to the field; nothing is saved."""
    with pytest.raises(ValidationError) as exc:
        owners_contact(
            account,
            phone="+852 5123 4567",
            mailbox="not-an-email",
            dingtalk_webhook="http://oapi.dingtalk.com/robot/send?access_token=abcdefgh",
            dingtalk_secret="nope",
            wecom_webhook="https://evil.example/cgi-bin/webhook/send?key=abcdefgh",
        )
    errors = exc.value.message_dict
    assert errors["phone"] == [f"This is a Hong Kong number. {INVALID_MAINLAND_MOBILE}"]
    assert errors["mailbox"] == [INVALID_MAILBOX]
    assert set(errors) == {
        "phone",
        "mailbox",
        "dingtalk_webhook",
        "dingtalk_secret",
        "wecom_webhook",
    }
    assert counts(account) == (0, 0)


def test_a_signing_secret_needs_its_dingtalk_robot(account):
    with pytest.raises(ValidationError) as exc:
        owners_contact(account, phone=mobile(1), dingtalk_secret=DINGTALK_SECRET)
    assert exc.value.message_dict == {"dingtalk_secret": [dingtalk.SECRET_WITHOUT_ROBOT]}


def test_the_signing_secret_is_kept_replaced_or_cleared_on_edit(owner_client, account):
    """rules §8: the secret is never echoed back; blank keeps it, the checkbox removes it."""
    contact = owners_contact(
        account,
        phone=mobile(1),
        dingtalk_webhook=DINGTALK_URL,
        dingtalk_secret=DINGTALK_SECRET,
    )
    edit = reverse("contacts:edit", args=[contact.pk])
    page = owner_client.get(edit).text
    assert DINGTALK_SECRET not in page
    assert "SEC…" + DINGTALK_SECRET[-4:] in page
    data = {"phone": mobile(1), "dingtalk_webhook": DINGTALK_URL, "dingtalk_secret": ""}
    assert owner_client.post(edit, data).status_code == 302
    contact.refresh_from_db()
    assert contact.dingtalk_secret == DINGTALK_SECRET
    new_secret = "SEC" + "f" * 64
    owner_client.post(edit, {**data, "dingtalk_secret": new_secret})
    contact.refresh_from_db()
    assert contact.dingtalk_secret == new_secret
    owner_client.post(edit, {**data, "clear_dingtalk_secret": "on"})
    contact.refresh_from_db()
    assert contact.dingtalk_secret == ""


def test_edit_dialog_never_sends_back_the_robot_tokens(owner_client, account):
    """rules §4 robots / rules §8: robot tokens are secrets, never echoed back in full after
    saving: the Edit Contact dialog shows each saved robot masked, not in an input's value."""
    contact = owners_contact(
        account,
        phone=mobile(1),
        dingtalk_webhook=DINGTALK_URL,
        wecom_webhook=WECOM_URL,
    )
    for htmx in ({}, {"HTTP_HX_REQUEST": "true"}):
        page = owner_client.get(reverse("contacts:edit", args=[contact.pk]), **htmx).text
        assert DINGTALK_TOKEN not in page and WECOM_KEY not in page
        assert "access_token=3f2a…9c1d" in page


def test_saved_robots_are_kept_replaced_or_removed_on_edit(owner_client, account):
    """rules §4 Edit: a robot field left blank keeps the saved robot (the dialog never shows it);
    a new URL replaces it; the Remove tick removes it (the DingTalk one with its secret)."""
    contact = owners_contact(
        account,
        phone=mobile(1),
        dingtalk_webhook=DINGTALK_URL,
        dingtalk_secret=DINGTALK_SECRET,
        wecom_webhook=WECOM_URL,
    )
    edit = reverse("contacts:edit", args=[contact.pk])
    data = {"phone": mobile(1), "mailbox": "kept@example.com"}
    assert owner_client.post(edit, data).status_code == 302
    contact.refresh_from_db()
    assert (contact.dingtalk_webhook, contact.dingtalk_secret, contact.wecom_webhook) == (
        DINGTALK_URL,
        DINGTALK_SECRET,
        WECOM_URL,
    )
    assert contact.arms_contact.ding_robot_url == DINGTALK_URL  # the link follows (rules §5)
    new_secret = "SEC" + "e" * 64
    assert owner_client.post(edit, {**data, "dingtalk_secret": new_secret}).status_code == 302
    contact.refresh_from_db()
    assert (contact.dingtalk_webhook, contact.dingtalk_secret) == (DINGTALK_URL, new_secret)
    other_wecom = WECOM_URL.replace("5aaa", "5bbb")
    assert owner_client.post(edit, {**data, "wecom_webhook": other_wecom}).status_code == 302
    contact.refresh_from_db()
    assert contact.wecom_webhook == other_wecom
    removed = {**data, "clear_dingtalk_webhook": "on", "clear_wecom_webhook": "on"}
    assert owner_client.post(edit, removed).status_code == 302
    contact.refresh_from_db()
    assert (contact.dingtalk_webhook, contact.dingtalk_secret, contact.wecom_webhook) == (
        "",
        "",
        "",
    )


def test_robot_tokens_are_masked_in_the_list(owner_client, account):
    owners_contact(
        account,
        phone=mobile(1),
        dingtalk_webhook=DINGTALK_URL,
        dingtalk_secret=DINGTALK_SECRET,
        wecom_webhook=WECOM_URL,
    )
    page = owner_client.get(reverse("contacts:list")).text
    assert "access_token=3f2a…9c1d" in page
    assert DINGTALK_URL not in page and WECOM_URL not in page and DINGTALK_SECRET not in page


# --- the query bar --------------------------------------------------------------------------


@pytest.fixture
def three_contacts(account):
    alice = contact_of_new_user(
        account, "Alice.Wang", phone="13811112222", mailbox="alice@Example.com"
    )
    bob = contact_of_new_user(account, "bob", phone="13922223333", mailbox="bob@ops.example.cn")
    itself = owners_contact(account, phone="15011114444", mailbox="root@corp.example")
    return alice, bob, itself


def found(principal, field, value):
    qs = selectors.search(selectors.contacts_for_list(principal), field, value)
    return sorted(c.username for c in qs)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("alice", ["Alice.Wang"]), ("WANG", ["Alice.Wang"]), ("o", ["bob", "{login}"]), ("", None)],
)
def test_query_by_username_is_a_case_insensitive_substring(
    account, owner_principal, three_contacts, value, expected
):
    """rules §4: Username is the default field; the account itself matches its login name."""
    expected = (
        sorted(e.replace("{login}", account.login_name) for e in expected)
        if expected is not None
        else sorted(c.username for c in three_contacts)
    )
    assert found(owner_principal, "username", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("138 1111", ["Alice.Wang"]),
        ("+86138", ["Alice.Wang"]),
        ("+86 139-2222", ["bob"]),
        ("0086 150", ["{login}"]),
        ("86-13811112222", ["Alice.Wang"]),
        ("(139) 2222 3333", ["bob"]),
        ("1111", ["Alice.Wang", "{login}"]),
        ("abc", []),
        ("999999", []),
    ],
)
def test_query_by_phone_matches_however_the_number_is_typed(
    account, owner_principal, three_contacts, value, expected
):
    expected = sorted(e.replace("{login}", account.login_name) for e in expected)
    assert found(owner_principal, "phone", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("EXAMPLE.COM", ["Alice.Wang"]),
        ("ops", ["bob"]),
        ("example", ["Alice.Wang", "bob", "{login}"]),
    ],
)
def test_query_by_mailbox_is_a_case_insensitive_substring(
    account, owner_principal, three_contacts, value, expected
):
    expected = sorted(e.replace("{login}", account.login_name) for e in expected)
    assert found(owner_principal, "mailbox", value) == expected


def test_the_query_bar_filters_the_page_and_its_htmx_rows(owner_client, account, three_contacts):
    url = reverse("contacts:list")
    page = owner_client.get(url, {"field": "phone", "q": "+86 139"}).text
    assert "bob" in page and "Alice.Wang" not in page
    rows = owner_client.get(
        url,
        {"field": "mailbox", "q": "alice"},
        headers={"HX-Request": "true", "HX-Target": "contact-rows"},
    )
    assert rows.status_code == 200
    assert "Alice.Wang" in rows.text and "bob@ops" not in rows.text
    assert "<html" not in rows.text  # the fragment only
    # An unknown field falls back to Username.
    assert "bob" in owner_client.get(url, {"field": "nope", "q": "bob"}).text


# --- the panels: htmx and plain pages --------------------------------------------------------


def test_new_contact_panel_is_a_side_panel_for_htmx_and_a_page_without_javascript(owner_client):
    """Seed step 2: "the pop-up New Contact panel", from the right (an offcanvas), modal."""
    url = reverse("contacts:new")
    panel = owner_client.get(url, headers={"HX-Request": "true"})
    assert panel.status_code == 200
    text = panel.text
    assert text.lstrip().startswith('<div class="offcanvas offcanvas-end console-panel"')
    assert 'role="dialog" aria-modal="true" aria-labelledby="contact-dialog-title"' in text
    assert 'id="contact-dialog-title"' in text and "<html" not in text
    assert 'class="modal' not in text and "data-dialog-announcer" in text
    assert 'class="offcanvas-body"' in text and 'class="offcanvas-footer"' in text
    assert 'data-bs-dismiss="offcanvas"' in text and 'data-bs-dismiss="modal"' not in text
    page = owner_client.get(url)
    assert page.status_code == 200
    assert "<html" in page.text and 'class="modal' not in page.text
    assert 'class="offcanvas' not in page.text
    assert "Supports creating up to 100 contacts." in page.text
    assert "Alibaba Cloud account: enter manually" in page.text
    assert "RAM user: select from the drop-down list" in page.text


def test_refused_htmx_submit_answers_422_with_errors_by_each_field_and_the_input_kept(
    owner_client, account
):
    """rules §4: bad input gets a message next to the field; the panel keeps what was typed."""
    alice = ram_user_named(account, "alice")
    response = owner_client.post(
        reverse("contacts:new"),
        new_contact_post(
            ram_user=alice.pk,
            phone="+852 5123 4567",
            mailbox="alice-at-example",
            wecom_webhook="http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcdefgh",
        ),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    text = response.text
    assert "<html" not in text and 'class="offcanvas ' not in text  # the form only
    assert 'class="offcanvas-body"' in text  # laid out for the panel it is shown in
    assert 'id="id_phone_error"' in text and 'id="id_mailbox_error"' in text
    assert 'id="id_wecom_webhook_error"' in text
    assert INVALID_MAINLAND_MOBILE in text
    assert 'value="+852 5123 4567"' in text and 'value="alice-at-example"' in text
    assert counts(account) == (0, 0)


def test_successful_htmx_submit_closes_the_modal_and_refreshes_the_rows(owner_client, account):
    alice = ram_user_named(account, "alice")
    response = owner_client.post(
        reverse("contacts:new"),
        new_contact_post(ram_user=alice.pk, phone="13811112222"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    trigger = response.headers["HX-Trigger"]
    assert "closeModal" in trigger and "contactsChanged" in trigger
    rows = owner_client.get(
        reverse("contacts:list"), headers={"HX-Request": "true", "HX-Target": "contact-rows"}
    )
    assert "alice" in rows.text
    assert 'hx-swap-oob="beforeend:#messages"' in rows.text
    assert "Contact alice created." in rows.text


def test_plain_ram_user_with_a_contact_is_told_so_instead_of_a_form(sign_in, account):
    """Issue 18: a RAM user limited to itself whose contact exists gets no form it could never
    submit: the panel says so (and a forged post still creates nothing)."""
    me = ram_user_named(account, "me")
    client = sign_in(me)
    url = reverse("contacts:new")
    assert client.post(url, new_contact_post(ram_user=me.pk, phone=mobile(1))).status_code == 302
    panel = client.get(url).text
    assert 'data-testid="own-contact-exists"' in panel
    assert 'name="phone"' not in panel
    again = client.post(url, new_contact_post(ram_user=me.pk, phone=mobile(2)))
    assert again.status_code == 422
    assert 'data-testid="own-contact-exists"' in again.text
    assert counts(account)[0] == 1


def test_an_empty_post_is_refused_not_mistaken_for_a_get(owner_client, account):
    response = owner_client.post(reverse("contacts:new"), {})
    assert response.status_code == 422
    assert "This field is required." in response.text
    assert counts(account) == (0, 0)


def test_edit_contact_stays_a_modal_dialog_with_htmx(owner_client, account):
    """Seed step 3: "the Edit Contact dialog box" (the form New Contact's panel shares)."""
    contact = owners_contact(account, phone=mobile(1))
    url = reverse("contacts:edit", args=[contact.pk])
    text = owner_client.get(url, headers={"HX-Request": "true"}).text
    assert text.lstrip().startswith('<div class="modal fade"') and "offcanvas" not in text
    refused = owner_client.post(url, {"phone": "12345"}, headers={"HX-Request": "true"})
    assert refused.status_code == 422
    assert 'class="modal-body"' in refused.text and "offcanvas" not in refused.text


def test_edit_and_delete_dialogs_are_plain_pages_without_javascript(owner_client, account):
    contact = owners_contact(account, phone=mobile(1))
    for name in ("contacts:edit", "contacts:delete"):
        page = owner_client.get(reverse(name, args=[contact.pk]))
        assert page.status_code == 200
        assert "<html" in page.text and 'class="modal' not in page.text
        assert f'action="{reverse(name, args=[contact.pk])}"' in page.text


def test_create_and_merge_buttons_work_with_and_without_javascript(owner_client):
    page = owner_client.get(reverse("contacts:list")).text
    for url in (reverse("contacts:new"), reverse("arms:merge_contacts")):
        assert f'href="{url}" hx-get="{url}" hx-target="#modal-host"' in page
