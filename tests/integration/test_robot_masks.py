"""The masked robots stored beside the encrypted URLs (issue 11, rules §8): the Contact
Management page shows exactly what masking the URL shows, without decrypting it, and the
stored form never holds the token."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from contacts import services
from contacts.models import Contact
from contacts.validators import mask_robot_url, robot_token
from tests.integration.contacts_support import (
    DINGTALK_TOKEN,
    DINGTALK_URL,
    WECOM_KEY,
    WECOM_URL,
    mobile,
    principal_of,
    ram_user_named,
)

pytestmark = pytest.mark.django_db

OTHER_DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=" + "ab12" * 16


def _contact(account, **robots):
    return services.create_contact(
        principal=principal_of(account),
        ram_user=ram_user_named(account, "robby"),
        phone=mobile(1),
        **robots,
    )


def test_saving_a_contact_stores_its_robots_masked(account):
    contact = _contact(account, dingtalk_webhook=DINGTALK_URL, wecom_webhook=WECOM_URL)
    stored = Contact.objects.values("dingtalk_masked", "wecom_masked").get(pk=contact.pk)
    assert stored == {
        "dingtalk_masked": mask_robot_url("dingtalk", DINGTALK_URL),
        "wecom_masked": mask_robot_url("wecom", WECOM_URL),
    }
    assert "3f2a…9c1d" in stored["dingtalk_masked"]
    assert DINGTALK_TOKEN not in stored["dingtalk_masked"]
    assert WECOM_KEY not in stored["wecom_masked"]


def test_an_edit_and_a_removal_update_the_masks(account):
    contact = _contact(account, dingtalk_webhook=DINGTALK_URL, wecom_webhook=WECOM_URL)
    services.update_contact(
        principal=principal_of(account),
        contact=contact,
        phone=mobile(1),
        mailbox="",
        dingtalk_webhook=OTHER_DINGTALK,
        dingtalk_secret=None,
        wecom_webhook="",
    )
    contact.refresh_from_db()
    assert contact.dingtalk_masked == mask_robot_url("dingtalk", OTHER_DINGTALK)
    assert contact.wecom_masked == ""


def test_save_with_update_fields_of_a_robot_writes_its_mask(account):
    contact = _contact(account)
    contact.wecom_webhook = WECOM_URL
    contact.save(update_fields=["wecom_webhook"])
    assert Contact.objects.get(pk=contact.pk).wecom_masked == mask_robot_url("wecom", WECOM_URL)


def test_the_page_shows_the_stored_mask_byte_for_byte(owner_client, account):
    _contact(account, dingtalk_webhook=DINGTALK_URL, wecom_webhook=WECOM_URL)
    page = owner_client.get(reverse("contacts:list")).text
    for kind, url in (("dingtalk", DINGTALK_URL), ("wecom", WECOM_URL)):
        masked = mask_robot_url(kind, url)
        assert masked.replace("&", "&amp;") in page
        assert robot_token(kind, url) not in page


def test_the_data_migration_fills_the_masks_of_contacts_saved_before(account):
    contact = _contact(account, dingtalk_webhook=DINGTALK_URL, wecom_webhook=WECOM_URL)
    Contact.objects.filter(pk=contact.pk).update(dingtalk_masked="", wecom_masked="")
    migration = importlib.import_module("contacts.migrations.0006_robot_masks")
    migration.fill_masks(apps, None)
    contact.refresh_from_db()
    assert contact.dingtalk_masked == mask_robot_url("dingtalk", DINGTALK_URL)
    assert contact.wecom_masked == mask_robot_url("wecom", WECOM_URL)
