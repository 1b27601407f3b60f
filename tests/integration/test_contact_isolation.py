"""rules §1: every contacts URL answers 404 for another account's contact, for GET and POST,
exactly as for an id that does not exist; nothing of the other account changes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from arms_sync.models import ArmsContact
from contacts.models import Contact
from tests.integration.contacts_support import contact_of_new_user, mobile, ram_user_named

pytestmark = pytest.mark.django_db

ID_URLS = ["contacts:edit", "contacts:delete"]


@pytest.fixture
def foreign_contact(other_account):
    return contact_of_new_user(
        other_account, "alice", phone=mobile(1), mailbox="theirs@example.com"
    )


@pytest.mark.parametrize("name", ID_URLS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_accounts_contact_is_404_like_a_missing_one(
    owner_client, foreign_contact, name, method
):
    send = getattr(owner_client, method)
    data = {"phone": mobile(2), "mailbox": "mine@example.com"} if method == "post" else None
    foreign = send(reverse(name, args=[foreign_contact.pk]), data)
    missing = send(reverse(name, args=[foreign_contact.pk + 10_000]), data)
    assert foreign.status_code == missing.status_code == 404
    htmx = send(reverse(name, args=[foreign_contact.pk]), data, headers={"HX-Request": "true"})
    assert htmx.status_code == 404
    foreign_contact.refresh_from_db()
    assert foreign_contact.mailbox == "theirs@example.com"
    assert ArmsContact.objects.filter(sae_contact=foreign_contact).exists()


@pytest.mark.parametrize("name", ID_URLS)
def test_a_ram_user_of_another_account_gets_404_too(sign_in, foreign_contact, account, name):
    client = sign_in(ram_user_named(account, "lister", list_users=True))
    assert client.get(reverse(name, args=[foreign_contact.pk])).status_code == 404
    assert client.post(reverse(name, args=[foreign_contact.pk])).status_code == 404
    assert Contact.objects.filter(pk=foreign_contact.pk).exists()


def test_the_list_and_query_bar_never_show_another_accounts_contacts(owner_client, foreign_contact):
    for params in ({}, {"field": "username", "q": "alice"}, {"field": "phone", "q": "136"}):
        page = owner_client.get(reverse("contacts:list"), params).text
        assert "theirs@example.com" not in page
        assert "0 / 100 contacts" in page


def test_new_contact_panel_never_offers_another_accounts_ram_users(owner_client, other_account):
    stranger = ram_user_named(other_account, "stranger")
    page = owner_client.get(reverse("contacts:new")).text
    assert "stranger" not in page
    response = owner_client.post(
        reverse("contacts:new"),
        {"username_kind": "ram_user", "ram_user": stranger.pk, "phone": mobile(5)},
    )
    assert response.status_code == 422
    assert not Contact.objects.filter(ram_user=stranger).exists()
