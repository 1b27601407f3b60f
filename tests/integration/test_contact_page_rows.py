"""The Contact Management table's rows (contacts/templatetags/contact_table.py): what each row
shows and links to, every value escaped (text from outside, such as an ARMS contact's name set
in the admin, never becomes markup)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from arms_sync.models import ArmsContact
from tests.factories import owners_contact
from tests.integration.contacts_support import DINGTALK_URL, alice_with_every_channel, mobile

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(account):
    return alice_with_every_channel(account)


def row_of(response, contact) -> str:
    text = response.content.decode()
    start = text.index(f'<tr data-contact-id="{contact.pk}">')
    return text[start : text.index("</tr>", start)]


def test_a_row_shows_the_contact_and_links_to_its_actions(owner_client, contact):
    row = row_of(owner_client.get(reverse("contacts:list")), contact)
    text = re.sub(r"<[^>]+>", "", row)  # an address is split by <wbr> where it may break
    assert "alice" in text and "+8613600000001" in text and "alice@example.com" in text
    assert "3f2a…9c1d" in row and DINGTALK_URL not in row  # masked, never the token
    assert 'title="Signed with a secret"' in row
    assert f'href="{reverse("contacts:edit", args=[contact.pk])}"' in row
    assert f'href="{reverse("contacts:delete", args=[contact.pk])}"' in row
    assert f'action="{reverse("notify:contact_test", args=[contact.pk])}"' in row
    assert 'name="csrfmiddlewaretoken"' in row
    assert '<span class="badge text-bg-secondary">RAM user</span>' in row


def test_values_from_outside_are_escaped(owner_client, contact):
    ArmsContact.objects.filter(sae_contact=contact).update(name='<img src=x onerror="alert(1)">')
    row = row_of(owner_client.get(reverse("contacts:list")), contact)
    assert "<img" not in row
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in row


def test_a_contact_not_linked_and_one_without_robots(owner_client, account, contact):
    plain = owners_contact(account, phone=mobile(2))
    ArmsContact.objects.filter(sae_contact=plain).delete()
    row = row_of(owner_client.get(reverse("contacts:list")), plain)
    assert 'data-testid="not-linked"' in row
    assert row.count("—") == 3  # mailbox, DingTalk, WeCom
    assert '<span class="badge text-bg-warning">Alibaba Cloud account</span>' in row


def test_the_labels_follow_the_language(owner_client, contact):
    owner_client.cookies["django_language"] = "zh-hans"
    row = row_of(
        owner_client.get(reverse("contacts:list"), HTTP_ACCEPT_LANGUAGE="zh-hans"), contact
    )
    assert "编辑" in row and "RAM user" not in row
