"""The Dingtalk keyword of a contact (rules §8: "Robots protected by keywords: every message
contains the configured keyword (default 告警)"): the optional field of the New Contact panel
and the Edit Contact dialog, its rules, and its way to the linked ARMS contact and the admin."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from arms_sync.models import ArmsContact
from contacts import services
from contacts.models import Contact
from tests.factories import ArmsContactFactory
from tests.integration.contacts_support import (
    DINGTALK_URL,
    counts,
    new_contact_post,
    principal_of,
    ram_user_named,
)

pytestmark = pytest.mark.django_db

KEYWORD_ERROR = "A DingTalk keyword has at most 20 characters and no control characters."


@pytest.fixture
def alice(account):
    return ram_user_named(account, "alice")


def edit_url(contact: Contact) -> str:
    return reverse("contacts:edit", args=[contact.pk])


def create(account, ram_user, **fields) -> Contact:
    return services.create_contact(
        principal=principal_of(account), ram_user=ram_user, phone="13811112222", **fields
    )


def test_the_new_contact_panel_offers_an_optional_keyword_with_its_default(owner_client, alice):
    page = owner_client.get(reverse("contacts:new")).text
    assert 'name="dingtalk_keyword"' in page
    assert 'maxlength="20"' in page
    assert "Default: 告警." in page


def test_a_keyword_is_saved_and_reaches_the_linked_arms_contact(owner_client, account, alice):
    data = new_contact_post(
        ram_user=alice.pk,
        phone="13811112222",
        dingtalk_webhook=DINGTALK_URL,
        dingtalk_keyword=" 部署 ",
    )
    response = owner_client.post(reverse("contacts:new"), data)
    assert response.status_code == 302
    contact = Contact.objects.get(account=account)
    assert contact.dingtalk_keyword == "部署"
    assert ArmsContact.objects.get(sae_contact=contact).ding_robot_keyword == "部署"


@pytest.mark.parametrize("keyword", ["k" * 21, "告\x07警", "告\u200b警", "line\u2028break", "\x00"])
def test_a_long_keyword_or_one_with_control_characters_is_refused(
    owner_client, account, alice, keyword
):
    data = new_contact_post(
        ram_user=alice.pk,
        phone="13811112222",
        dingtalk_webhook=DINGTALK_URL,
        dingtalk_keyword=keyword,
    )
    response = owner_client.post(reverse("contacts:new"), data)
    assert response.status_code == 422
    assert counts(account) == (0, 0)
    with pytest.raises(ValidationError) as refused:
        create(account, alice, dingtalk_webhook=DINGTALK_URL, dingtalk_keyword=keyword)
    assert "dingtalk_keyword" in refused.value.error_dict


def test_the_services_word_the_keyword_rule(account, alice):
    with pytest.raises(ValidationError) as refused:
        create(account, alice, dingtalk_webhook=DINGTALK_URL, dingtalk_keyword="x" * 21)
    assert refused.value.error_dict["dingtalk_keyword"][0].message == KEYWORD_ERROR


def test_a_keyword_without_a_dingtalk_robot_is_refused(owner_client, account, alice):
    data = new_contact_post(ram_user=alice.pk, phone="13811112222", dingtalk_keyword="部署")
    response = owner_client.post(reverse("contacts:new"), data)
    assert response.status_code == 422
    assert "A keyword goes with a DingTalk Robot URL: enter the URL too." in response.text
    assert counts(account) == (0, 0)


def test_the_edit_dialog_shows_the_keyword_and_changes_it(owner_client, account, alice):
    contact = create(account, alice, dingtalk_webhook=DINGTALK_URL, dingtalk_keyword="部署")
    assert 'value="部署"' in owner_client.get(edit_url(contact)).text
    data = {"phone": "13811112222", "mailbox": "", "dingtalk_keyword": "发布"}
    assert owner_client.post(edit_url(contact), data).status_code == 302
    contact.refresh_from_db()
    assert contact.dingtalk_keyword == "发布"
    assert contact.dingtalk_webhook == DINGTALK_URL  # blank robot field: kept
    assert ArmsContact.objects.get(sae_contact=contact).ding_robot_keyword == "发布"


def test_removing_the_robot_removes_its_keyword(owner_client, account, alice):
    contact = create(account, alice, dingtalk_webhook=DINGTALK_URL, dingtalk_keyword="部署")
    data = {
        "phone": "13811112222",
        "mailbox": "",
        "dingtalk_keyword": "部署",
        "clear_dingtalk_webhook": "on",
    }
    assert owner_client.post(edit_url(contact), data).status_code == 302
    contact.refresh_from_db()
    assert (contact.dingtalk_webhook, contact.dingtalk_keyword) == ("", "")


def test_an_update_that_does_not_name_the_keyword_keeps_it(account, alice):
    contact = create(account, alice, dingtalk_webhook=DINGTALK_URL, dingtalk_keyword="部署")
    services.update_contact(
        principal=principal_of(account),
        contact=contact,
        phone="13811112222",
        mailbox="alice@example.com",
        dingtalk_webhook=DINGTALK_URL,
        dingtalk_secret=services.KEEP_SECRET,
        wecom_webhook="",
    )
    contact.refresh_from_db()
    assert contact.dingtalk_keyword == "部署"


def test_the_arms_contact_admin_form_edits_the_keyword(operator_client, account):
    arms = ArmsContactFactory(account=account, ding_robot_url=DINGTALK_URL)
    url = reverse("admin:arms_sync_armscontact_change", args=[arms.pk])
    assert 'name="ding_robot_keyword"' in operator_client.get(url).text
    data = {
        "contact_id": arms.contact_id,
        "name": arms.name,
        "phone": arms.phone.as_e164,
        "email": arms.email,
        "ding_robot_url": "",
        "ding_robot_secret": "",
        "ding_robot_keyword": "告\x07警",
        "wecom_robot_url": "",
    }
    refused = operator_client.post(url, data)
    assert refused.status_code == 200
    assert KEYWORD_ERROR in refused.text
    data["ding_robot_keyword"] = "部署"
    assert operator_client.post(url, data).status_code == 302
    arms.refresh_from_db()
    assert arms.ding_robot_keyword == "部署"
    assert arms.ding_robot_url == DINGTALK_URL  # blank: the saved robot is kept
