"""rules §10 / rules §5: contacts in the Django admin are read-only (the services' rules and the
ARMS propagation are never bypassed), searchable, and deleted through the service."""

from __future__ import annotations

import pytest
from django.urls import reverse

from arms_sync.models import ArmsContact
from contacts.models import Contact
from tests.factories import owners_contact
from tests.integration.contacts_support import (
    DINGTALK_SECRET,
    DINGTALK_TOKEN,
    WECOM_KEY,
    alice_with_every_channel,
    mobile,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(account):
    return alice_with_every_channel(account)


def test_admin_lists_and_searches_contacts_without_secrets(operator_client, contact):
    url = reverse("admin:contacts_contact_changelist")
    assert "alice" in operator_client.get(url, {"q": "alice"}).text
    assert "alice" in operator_client.get(url, {"q": "13600000001"}).text
    assert "alice" not in operator_client.get(url, {"q": "nobody"}).text
    detail = operator_client.get(reverse("admin:contacts_contact_change", args=[contact.pk])).text
    assert DINGTALK_SECRET not in detail and DINGTALK_TOKEN not in detail
    assert WECOM_KEY not in detail


def test_admin_cannot_add_or_change_contacts(operator_client, contact):
    assert operator_client.get(reverse("admin:contacts_contact_add")).status_code == 403
    response = operator_client.post(
        reverse("admin:contacts_contact_change", args=[contact.pk]),
        {"phone": mobile(9), "mailbox": "x@example.com"},
    )
    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.phone.as_e164 == mobile(1)


def test_admin_delete_goes_through_the_service_and_removes_the_arms_contact(
    operator_client, contact
):
    arms_pk = ArmsContact.objects.get(sae_contact=contact).pk
    response = operator_client.post(
        reverse("admin:contacts_contact_delete", args=[contact.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not ArmsContact.objects.filter(pk=arms_pk).exists()


def test_admin_bulk_delete_removes_each_linked_arms_contact(operator_client, account, contact):
    second = owners_contact(account, phone=mobile(2))
    response = operator_client.post(
        reverse("admin:contacts_contact_changelist"),
        {"action": "delete_selected", "_selected_action": [contact.pk, second.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Contact.objects.filter(account=account).exists()
    assert not ArmsContact.objects.filter(account=account).exists()
